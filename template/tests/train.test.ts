// train on copies of the project: scores above chance, a saved model and its record, reproducibility, and the
// refusal to train on a data set generated for other params.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { generateDataset } from '../src/etl/generate-dataset.js'
import { main, train, type TrainResult } from '../src/model/train.js'
import { copyProject, rejection, type TestProject } from './project.js'

describe('train on iris (classification)', () => {
  let project: TestProject
  let result: TrainResult
  beforeAll(async () => {
    project = copyProject()
    await generateDataset({ root: project.root })
    result = await train({ root: project.root })
  })
  afterAll(() => project.remove())

  it('scores far above chance in cross-validation and on the hold-out split', () => {
    expect(Object.keys(result.scores).sort()).toEqual(['accuracy', 'f1_macro', 'log_loss'])
    // chance is 1/3 for three balanced classes
    expect(result.scores.accuracy!.cv).toBeGreaterThan(0.85)
    expect(result.scores.accuracy!.hold_out).toBeGreaterThan(0.85)
    expect(result.scores.f1_macro!.hold_out).toBeGreaterThan(0.85)
    expect(result.scores.log_loss!.hold_out).toBeLessThan(Math.log(3))
  })

  it('saves the model with its manifest, and a metadata record naming data, params and strategy', () => {
    expect(existsSync(join(result.model.dir, 'model.json'))).toBe(true)
    expect(result.model.manifest.signature.target).toEqual({ name: 'species', type: 'category', classes: ['setosa', 'versicolor', 'virginica'] })
    expect(result.model.manifest.input_example[0]).toHaveProperty('petal_width')
    const record = JSON.parse(readFileSync(join(project.root, result.recordFile), 'utf8'))
    expect(record).toMatchObject({
      run_id: result.runId,
      model_id: result.model.id,
      model_type: 'ml-random-forest-classifier',
      model_location: `models/${result.model.id}`,
      task: 'classification',
      hyper_parameters: { n_estimators: 10 },
      testing_strategy: '5-fold cross-validation on the training split; hold-out on 20% test split (seed 42)',
      data: { location: 'data/raw/iris.csv', rows: 149, n_features: 4, target: 'species' },
    })
    expect(record.data.inputs.map((i: { path: string }) => i.path)).toEqual(['data/raw/iris.csv', 'data/staging/iris.parquet', 'data/transformed/train.parquet', 'data/transformed/test.parquet'])
    expect(Object.keys(record.durations)).toEqual(expect.arrayContaining(['cross_validation', 'fit', 'evaluate']))
  })

  it('gives the byte-identical model for the same data, params and seed', async () => {
    rmSync(result.model.dir, { recursive: true })
    const again = await train({ root: project.root })
    expect(again.model.id).toBe(result.model.id)
    expect(again.model.manifest.files.model.sha256).toBe(result.model.manifest.files.model.sha256)
    expect(again.runId).not.toBe(result.runId)
  })

  it('records --set overrides it was given', async () => {
    const other = await train({ root: project.root, overrides: { 'model.n_estimators': 5 } })
    const record = JSON.parse(readFileSync(join(project.root, other.recordFile), 'utf8'))
    expect(record.overrides).toEqual({ 'model.n_estimators': 5 })
    expect(other.model.id).not.toBe(result.model.id)
  })

  it('prints the scores and where the model and record went', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      await train({ root: project.root, print: true })
      const printed = log.mock.calls.flat().join('\n')
      expect(printed).toMatch(/accuracy\s+0\.\d+\s+0\.\d+/)
      expect(printed).toContain(`models/${result.model.id}/`)
      expect(printed).toContain('models/metadata/')
    } finally {
      log.mockRestore()
    }
  })
})

describe('train on iris (regression)', () => {
  it('predicts petal_length with r2 well above 0', async () => {
    const project = copyProject()
    try {
      project.editParams(['target: species', 'target: petal_length'], ['features: []', 'features: [sepal_length, sepal_width, petal_width]'], ['task: classification', 'task: regression'])
      await generateDataset({ root: project.root })
      const { scores, model } = await train({ root: project.root })
      expect(Object.keys(scores).sort()).toEqual(['mean_absolute_error', 'mean_squared_error', 'r2'])
      expect(scores.r2!.cv).toBeGreaterThan(0.8)
      expect(scores.r2!.hold_out).toBeGreaterThan(0.8)
      expect(model.manifest.kind).toBe('ml-random-forest-regressor')
    } finally {
      project.remove()
    }
  })
})

describe('train errors', () => {
  it('asks for generate-dataset when the data set is missing', async () => {
    const project = copyProject()
    try {
      const error = await rejection(train({ root: project.root }))
      expect(error.code).toBe('MLSKEL_DATA_NOT_GENERATED')
      expect(error.message).toContain('data/transformed/dataset.json')
    } finally {
      project.remove()
    }
  })

  it('refuses a data set generated for another target or task', async () => {
    const project = copyProject()
    try {
      await generateDataset({ root: project.root })
      project.editParams(['target: species', 'target: petal_length'], ['task: classification', 'task: regression'])
      const error = await rejection(train({ root: project.root }))
      expect(error.code).toBe('MLSKEL_DATA_NOT_GENERATED')
      expect(error.message).toContain('dataset.target is petal_length')
      expect(error.message).toContain('task is regression')
    } finally {
      project.remove()
    }
  })

  it('takes no command-line arguments', async () => {
    expect((await rejection(main(['--epochs', '3']))).code).toBe('MLSKEL_USAGE')
  })
})
