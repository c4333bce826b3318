// train on copies of the project: scores above chance, a saved model and its record, reproducibility, and the
// refusal to train on a data set generated for other params.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { metadataRecordSchema, readRecords, type MetadataRecord, type Scores } from 'mlskel'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { generateDataset } from '../src/etl/generate-dataset.js'
import { main, train, type TrainResult } from '../src/model/train.js'
import { copyProject, FEWEST_FOLDS, mixedCsv, rejection, useCustomers, type TestProject } from './project.js'

// generate-dataset once on iris as TEST_PARAMS describe it (a run costs about a quarter of a second of DuckDB work);
// the tests that train on that data set each start from their own copy of it
let iris: TestProject
beforeAll(async () => {
  iris = copyProject()
  await generateDataset({ root: iris.root })
})
afterAll(() => iris.remove())

const REGRESSION: [string, string][] = [
  ['target: species', 'target: petal_length'],
  ['features: []', 'features: [sepal_length, sepal_width, petal_width]'],
  ['task: classification', 'task: regression'],
]

interface Trained {
  model: Buffer
  record: MetadataRecord
  scores: Scores
}

/** What a training left in `project`: the model's bytes and its record. */
function trainedIn(project: TestProject, result: TrainResult): Trained {
  const record = JSON.parse(readFileSync(join(project.root, result.recordFile), 'utf8')) as MetadataRecord
  return { model: readFileSync(join(result.model.dir, 'model.json')), record, scores: result.scores }
}

/** generate-dataset and train in a fresh copy of the project, with `edits` to params.yaml. */
async function trainFresh(edits: [string, string][]): Promise<Trained> {
  const project = copyProject()
  try {
    if (edits.length > 0) project.editParams(...edits)
    await generateDataset({ root: project.root })
    return trainedIn(project, await train({ root: project.root }))
  } finally {
    project.remove()
  }
}

/** The same data, params and seed trained in two copies of the project: the same model, scores and data summaries. */
function expectReproduced(second: Trained, first: Trained): void {
  expect(second.model.equals(first.model)).toBe(true)
  expect(second.scores).toEqual(first.scores)
  expect(second.record.run_id).not.toBe(first.record.run_id)
  for (const key of ['model_id', 'model_hash', 'model_size', 'seed', 'params', 'data', 'scores', 'feature_schema', 'target', 'input_example', 'evaluation'] as const) {
    expect(second.record[key], key).toEqual(first.record[key])
  }
}

describe('train on iris (classification)', () => {
  let project: TestProject
  let result: TrainResult
  beforeAll(async () => {
    project = copyProject(iris)
    result = await train({ root: project.root })
  })
  afterAll(() => project.remove())

  it('scores far above chance in cross-validation and on the hold-out split', () => {
    expect(Object.keys(result.scores).sort()).toEqual(['accuracy', 'average_precision', 'balanced_accuracy', 'f1_macro', 'log_loss', 'roc_auc'])
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
      model_type: 'gradient_boosting',
      model_location: `models/${result.model.id}`,
      task: 'classification',
      hyper_parameters: { type: 'gradient_boosting', max_iter: 20 },
      testing_strategy: '5-fold cross-validation on the training split; hold-out on 20% test split (seed 42)',
      data: { location: 'data/raw/iris.csv', rows: 150, n_features: 4, target: 'species' },
    })
    expect(record.data.inputs.map((i: { path: string }) => i.path)).toEqual(['data/raw/iris.csv', 'data/staging/iris.parquet', 'data/transformed/train.parquet', 'data/transformed/test.parquet'])
    expect(Object.keys(record.durations)).toEqual(expect.arrayContaining(['cross_validation', 'fit', 'evaluate']))
  })

  it('records what serving and reports need: feature schema, target, input example and the hold-out confusion matrix', () => {
    const record = JSON.parse(readFileSync(join(project.root, result.recordFile), 'utf8')) as MetadataRecord
    expect(record.feature_schema.map((f) => [f.name, f.type, f.missing])).toEqual([
      ['sepal_length', 'number', 0],
      ['sepal_width', 'number', 0],
      ['petal_length', 'number', 0],
      ['petal_width', 'number', 0],
    ])
    for (const feature of record.feature_schema) {
      if (feature.type !== 'number') throw new Error(`iris has numeric features only, got ${feature.type}`)
      expect(feature.min).toBeLessThan(feature.max)
    }
    expect(record.target).toMatchObject({ name: 'species', type: 'category', classes: ['setosa', 'versicolor', 'virginica'] })
    expect(Object.values((record.target as { counts: Record<string, number> }).counts).reduce((a, b) => a + b, 0)).toBe(120)
    expect(record.input_example).toEqual(result.model.manifest.input_example)
    const holdOut = record.evaluation.hold_out as { rows: number; confusion_matrix: { labels: string[]; matrix: number[][] } }
    expect(holdOut.rows).toBe(30)
    expect(holdOut.confusion_matrix.labels).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(holdOut.confusion_matrix.matrix.flat().reduce((a, b) => a + b, 0)).toBe(30)
    const correct = holdOut.confusion_matrix.matrix.reduce((sum, row, i) => sum + row[i]!, 0)
    expect(correct / 30).toBeCloseTo(result.scores.accuracy!.hold_out!, 10)
    expect(record.environment).toMatchObject({ node: process.versions.node, lockfile: null, dependencies: expect.objectContaining({ mlskel: expect.any(String), '@duckdb/node-api': expect.any(String), 'random-js': expect.any(String) }) })
    // the copy is not a git repository
    expect(record.git).toEqual({ commit: null, branch: null, remote_url: null, dirty: null, diff: null })
  })

  it('gives byte-identical models, scores and data summaries in a fresh copy of the project', async () => {
    expectReproduced(await trainFresh([]), trainedIn(project, result))
  })

  it('gives the byte-identical model for the same data, params and seed', async () => {
    rmSync(result.model.dir, { recursive: true })
    const again = await train({ root: project.root })
    expect(again.model.id).toBe(result.model.id)
    expect(again.model.manifest.files.model.sha256).toBe(result.model.manifest.files.model.sha256)
    expect(again.runId).not.toBe(result.runId)
  })

  it('records --set overrides it was given', async () => {
    const other = await train({ root: project.root, overrides: { 'model.max_iter': 5 } })
    const record = JSON.parse(readFileSync(join(project.root, other.recordFile), 'utf8'))
    expect(record.overrides).toEqual({ 'model.max_iter': 5 })
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

  it('writes only records that validate against the published schema', async () => {
    const records = await readRecords(join(project.root, 'models', 'metadata'))
    expect(records.length).toBeGreaterThanOrEqual(4)
    for (const record of records) expect(metadataRecordSchema.parse(record)).toEqual(record)
  })
})

describe('train on iris (regression)', () => {
  let project: TestProject
  let result: TrainResult
  beforeAll(async () => {
    project = copyProject()
    project.editParams(...REGRESSION)
    await generateDataset({ root: project.root })
    result = await train({ root: project.root })
  })
  afterAll(() => project.remove())

  it('predicts petal_length with r2 well above 0', async () => {
    const { scores, model } = result
    expect(Object.keys(scores).sort()).toEqual(['mean_absolute_error', 'mean_squared_error', 'r2'])
    expect(scores.r2!.cv).toBeGreaterThan(0.8)
    expect(scores.r2!.hold_out).toBeGreaterThan(0.8)
    expect(model.manifest.kind).toBe('gradient_boosting')
    const [record] = await readRecords(join(project.root, 'models', 'metadata'))
    expect(record!.target).toMatchObject({ name: 'petal_length', type: 'number' })
    const { residuals } = record!.evaluation.hold_out as { residuals: { mean_absolute: number; p05: number; p95: number } }
    expect(residuals.mean_absolute).toBeCloseTo(scores.mean_absolute_error!.hold_out!, 10)
    expect(residuals.p05).toBeLessThan(residuals.p95)
  })

  it('gives byte-identical models, scores and data summaries in a fresh copy of the project', async () => {
    expectReproduced(await trainFresh(REGRESSION), trainedIn(project, result))
  })
})

describe('train a random forest instead (params.yaml: model.type)', () => {
  it('trains random_forest when params.yaml says so, and records its importances', async () => {
    const project = copyProject(iris)
    try {
      project.editParams(['type: gradient_boosting\n  max_iter: 20', 'type: random_forest\n  n_estimators: 20'], FEWEST_FOLDS)
      const { scores, model } = await train({ root: project.root })
      expect(model.manifest.kind).toBe('random_forest')
      expect(scores.accuracy!.hold_out).toBeGreaterThan(0.85)
      const [record] = await readRecords(join(project.root, 'models', 'metadata'))
      expect(record).toMatchObject({ model_type: 'random_forest', hyper_parameters: { type: 'random_forest', n_estimators: 20 } })
      expect(record!.importances!.map((i) => i.feature)).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])
      expect(record!.importances!.reduce((sum, i) => sum + i.gain, 0)).toBeCloseTo(1, 12)
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
    const project = copyProject(iris)
    try {
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

describe('train on a table of every type', () => {
  it('learns from numbers with gaps, booleans, categories and a date\'s parts, recording each column\'s type', async () => {
    const project = copyProject()
    try {
      useCustomers(project, mixedCsv(300), FEWEST_FOLDS)
      await generateDataset({ root: project.root })
      const { scores, model, recordFile } = await train({ root: project.root })
      // churn follows the plan: a model that reads the category learns it
      expect(scores.accuracy!.hold_out).toBeGreaterThan(0.95)
      expect(model.manifest.signature.features.map((f) => [f.name, f.type])).toEqual([
        ['age', 'number'],
        ['visits', 'number'],
        ['member', 'boolean'],
        ['plan', 'category'],
        ['signup_year', 'number'],
        ['signup_month', 'number'],
        ['signup_day', 'number'],
        ['signup_weekday', 'number'],
      ])
      // the example is raw values, as the served model takes them
      expect(model.manifest.input_example[0]).toEqual({ age: expect.any(Number), visits: expect.any(Number), member: expect.any(Boolean), plan: expect.any(String), signup: expect.stringMatching(/^2023-/) })
      const record = JSON.parse(readFileSync(join(project.root, recordFile), 'utf8')) as MetadataRecord
      expect(record.data.columns).toContainEqual({ name: 'id', type: 'identifier', missing: 0 })
      expect(record.data.columns).toContainEqual({ name: 'age', type: 'numeric', missing: 43 })
      expect(record.data.dropped).toEqual({ missing_target: 0, invalid_values: 0, duplicates: 0 })
      expect(record.data.class_counts).toEqual({ train: { left: 80, stayed: 160 }, test: { left: 20, stayed: 40 } })
      expect(record.importances!.find((i) => i.feature === 'plan')!.gain).toBeGreaterThan(0.5)
    } finally {
      project.remove()
    }
  })
})

describe('train with a time or group split', () => {
  it.each([
    ['time', 'signup', 'forward in time by signup'],
    ['group', 'id', 'whole groups of id'],
  ])('cross-validates with %s folds, as the split holds rows out', async (strategy, column, says) => {
    const project = copyProject()
    try {
      // 30 customers of 10 rows; id declared an identifier, else the model would learn churn from it
      useCustomers(project, mixedCsv(300).replace(/cust-(\d+)/g, (_, n: string) => `cust-${Number(n) % 30}`), ['seed: 42', `seed: 42\n  strategy: ${strategy}\n  column: ${column}`], ['invalid_rows: drop', 'invalid_rows: drop\n  columns: {id: identifier}'])
      await generateDataset({ root: project.root })
      const { scores, recordFile } = await train({ root: project.root })
      expect(scores.accuracy!.cv).toBeGreaterThan(0.9)
      const record = JSON.parse(readFileSync(join(project.root, recordFile), 'utf8')) as MetadataRecord
      expect(record.testing_strategy).toContain(says)
    } finally {
      project.remove()
    }
  })
})
