// predict on a trained copy of the project: the output file, its metadata, --model and --input, and bad inputs.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { hashFile, predictionRecordSchema } from 'mlskel'
import { generateDataset } from '../src/etl/generate-dataset.js'
import { main, predict } from '../src/model/predict.js'
import { train, type TrainResult } from '../src/model/train.js'
import { copyProject, FEWEST_FOLDS, mixedCsv, rejection, useCustomers, type TestProject } from './project.js'

let project: TestProject
let trained: TrainResult
beforeAll(async () => {
  project = copyProject()
  // predict needs a model, not its cross-validation scores
  project.editParams(FEWEST_FOLDS)
  await generateDataset({ root: project.root })
  trained = await train({ root: project.root })
})
afterAll(() => project.remove())

const file = (...parts: string[]) => join(project.root, ...parts)
const readCsv = (path: string) =>
  readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => line.split(','))

describe('predict', () => {
  it('predicts the test split with the newest model: features, prediction and its probability', async () => {
    const meta = await predict({ root: project.root })
    expect(meta).toMatchObject({ event: 'prediction', model_id: trained.model.id, input: 'data/transformed/test.parquet', output: 'data/predictions/test.csv', rows: 30 })
    const [header, ...rows] = readCsv(file('data/predictions/test.csv'))
    expect(header).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'prediction', 'probability'])
    expect(rows).toHaveLength(30)
    for (const row of rows) {
      expect(['setosa', 'versicolor', 'virginica']).toContain(row[4])
      expect(Number(row[5])).toBeGreaterThanOrEqual(1 / 3)
      expect(Number(row[5])).toBeLessThanOrEqual(1)
    }
    expect(meta.input_sha256).toBe(await hashFile(file('data/transformed/test.parquet')))
    expect(meta.output_sha256).toBe(await hashFile(file('data/predictions/test.csv')))
    const onDisk = JSON.parse(readFileSync(file('data/predictions/test.json'), 'utf8'))
    expect(onDisk).toEqual(meta)
    expect(predictionRecordSchema.parse(onDisk)).toEqual(onDisk)
    expect(meta).toMatchObject({ schema_version: 1, timestamp: expect.any(String) })
  })

  it('predicts a CSV given with --input, in any column order, ignoring extra columns', async () => {
    const input = file('new-flowers.csv')
    writeFileSync(input, 'id,petal_width,petal_length,sepal_width,sepal_length\n1,0.2,1.4,3.5,5.1\n2,2.3,6.1,3.0,7.7\n')
    const meta = await predict({ root: project.root, input, model: trained.model.id.slice(0, 6) })
    expect(meta.rows).toBe(2)
    expect(meta.output).toBe('data/predictions/new-flowers.csv')
    expect(meta.input).toBe('new-flowers.csv')
    expect(JSON.parse(readFileSync(file('data/predictions/new-flowers.json'), 'utf8'))).toEqual(meta)
    const [, setosa, virginica] = readCsv(file('data/predictions/new-flowers.csv'))
    expect(setosa!.slice(0, 5)).toEqual(['5.1', '3.5', '1.4', '0.2', 'setosa'])
    expect(virginica![4]).toBe('virginica')
  })

  it('names the feature columns an input lacks', async () => {
    const input = file('partial.csv')
    writeFileSync(input, 'sepal_length,petal_length\n5.1,1.4\n')
    const error = await rejection(predict({ root: project.root, input }))
    expect(error.code).toBe('MLSKEL_DATA_MISSING_COLUMNS')
    expect(error.message).toContain('"sepal_width", "petal_width"')
  })

  it('names the line and column of a value that is not a number', async () => {
    const input = file('bad.csv')
    writeFileSync(input, 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.0,wide,1.4,0.2\n')
    const error = await rejection(predict({ root: project.root, input }))
    expect(error.code).toBe('MLSKEL_DATA_INVALID_VALUE')
    expect(error.where).toMatchObject({ line: 3, field: 'sepal_width' })
  })

  it('says so when the input file does not exist', async () => {
    const error = await rejection(predict({ root: project.root, input: file('nope.csv') }))
    expect(error.code).toBe('MLSKEL_FILE_MISSING')
  })

  it('says so when no model has the id given', async () => {
    const error = await rejection(predict({ root: project.root, model: 'ffffffffffffffff' }))
    expect(error.code).toBe('MLSKEL_MODEL_NOT_FOUND')
  })
})

describe('predict on the command line', () => {
  it('prints the prediction metadata as one JSON line', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const cwd = process.cwd()
    try {
      process.chdir(project.root)
      await main(['--model', trained.model.id])
      expect(log).toHaveBeenCalledTimes(1)
      const line = JSON.parse(String(log.mock.calls[0]![0]))
      expect(line).toMatchObject({ event: 'prediction', model_id: trained.model.id, rows: 30 })
      expect(line.seconds).toBeGreaterThanOrEqual(0)
    } finally {
      process.chdir(cwd)
      log.mockRestore()
    }
  })

  it('prints its usage with --help and predicts nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    try {
      await main(['--help'])
      expect(log).toHaveBeenCalledTimes(1)
      expect(String(log.mock.calls[0]![0])).toContain('--input <file>')
    } finally {
      log.mockRestore()
    }
  })

  it('rejects an unknown flag, saying which flags it takes', async () => {
    const error = await rejection(main(['--modle', 'abc']))
    expect(error.code).toBe('MLSKEL_USAGE')
    expect(error.message).toContain('--modle')
    expect(error.fix).toContain('--model <id>')
  })
})

describe('predict on a table of every type', () => {
  let typed: TestProject
  beforeAll(async () => {
    typed = copyProject()
    useCustomers(typed, mixedCsv(300), FEWEST_FOLDS)
    await generateDataset({ root: typed.root })
    await train({ root: typed.root })
  })
  afterAll(() => typed.remove())

  it('takes raw values as the CSV had them: text categories, gaps, yes/no, dates; identifiers go beside the predictions', async () => {
    const input = join(typed.root, 'new-customers.csv')
    // an unseen plan ("gold") and empty cells are predicted through the missing-value path
    writeFileSync(input, 'id,age,visits,member,plan,signup\nc-1,30.5,2,yes,pro,2024-05-01\nc-2,,NA,no,gold,\nc-3,41,1,no,basic,2023-12-24\n')
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const meta = await predict({ root: typed.root, input, print: false })
      expect(meta.rows).toBe(3)
    } finally {
      log.mockRestore()
    }
    const [header, ...rows] = readCsv(join(typed.root, 'data/predictions/new-customers.csv'))
    expect(header).toEqual(['id', 'age', 'visits', 'member', 'plan', 'signup', 'prediction', 'probability'])
    expect(rows.map((r) => r[0])).toEqual(['c-1', 'c-2', 'c-3'])
    expect(rows[0]![6]).toBe('left')
    expect(rows[2]![6]).toBe('stayed')
    for (const row of rows) expect(['left', 'stayed']).toContain(row[6])
  })

  it('names the line and column of a value of the wrong type, and what it should be', async () => {
    const input = join(typed.root, 'bad-customers.csv')
    writeFileSync(input, 'age,visits,member,plan,signup\n30,2,yes,pro,2024-05-01\n31,2,perhaps,pro,2024-05-01\n')
    const error = await rejection(predict({ root: typed.root, input }))
    expect(error.code).toBe('MLSKEL_DATA_INVALID_VALUE')
    expect(error.where).toMatchObject({ line: 3, field: 'member' })
    expect(error.message).toContain('not a boolean')
  })
})
