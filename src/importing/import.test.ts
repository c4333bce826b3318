// importModel on files no Python made (hand-written XGBoost JSON, ONNX graphs from mlskel's protobuf writer), in temp
// projects: what it records, where the signature comes from, the hold-out it scores, and every refusal.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, describe, expect, it } from 'vitest'
import { MlskelError } from '../errors/index.js'
import { hashBytes } from '../hashing/index.js'
import { loadModel, readRecords, type MetadataRecord } from '../metadata/index.js'
import { evaluate } from '../models/index.js'
import { classifierModel, graph, linearModel, linearNode, tensor } from '../models/kinds/test-onnx.js'
import { xgbModel } from '../models/kinds/test-xgboost.js'
import { ELEM } from '../models/onnx/proto.js'
import { projectWith } from '../runs/test-data.js'
import { importModel, type ImportOptions } from './index.js'

const schema = JSON.parse(await readFile(new URL('../../schema/metadata.schema.json', import.meta.url), 'utf8')) as object
const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(schema)

/** Valid by the published JSON Schema, as any reader of the records would check it. */
function expectPublishedValid(record: MetadataRecord): void {
  const ok = validate(JSON.parse(JSON.stringify(record)))
  expect(ok, JSON.stringify(validate.errors)).toBe(true)
}

const roots: string[] = []
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })))
})

async function project(files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const root = await projectWith([])
  roots.push(root)
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), content)
  }
  return root
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`
/** x0 < 0.5: margin −2, else +2 (binary:logistic), named features a, b, c. */
const named = json(xgbModel({ objective: 'binary:logistic', names: ['a', 'b', 'c'], trees: [{ f: 0, t: 0.5, left: { leaf: -2 }, right: { leaf: 2 } }] }))
/** The same model without feature names. */
const unnamed = json(xgbModel({ objective: 'binary:logistic', trees: [{ f: 0, t: 0.5, left: { leaf: -2 }, right: { leaf: 2 } }] }))

function run(root: string, o: Omit<ImportOptions, 'root'>) {
  return importModel({ root, cwd: root, runId: undefined, ...o } as ImportOptions)
}

async function refusal(promise: Promise<unknown>): Promise<MlskelError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof MlskelError) return error
    throw error
  }
  throw new Error('expected an MlskelError')
}

/** The model folders and records a project holds. */
async function written(root: string): Promise<{ models: string[]; records: string[] }> {
  const models = (await readdir(join(root, 'models'))).filter((name) => name !== 'metadata')
  return { models, records: await readdir(join(root, 'models', 'metadata')) }
}

describe('importModel: an XGBoost file alone', () => {
  it('records what was imported, keeps the original beside model.json, and says why it has no scores', async () => {
    const root = await project({ 'incoming/churn.json': named })
    const { record, model, recordFile, unscored } = await run(root, { file: 'incoming/churn.json', name: 'churn v3', target: 'churned', command: ['mlskel', 'models', 'import', join(root, 'incoming/churn.json')] })

    const bytes = Buffer.from(named)
    expect(record).toMatchObject({
      source: 'imported',
      imported: { file: 'churn.json', path: 'incoming/churn.json', sha256: hashBytes(bytes), size: bytes.length, tool: 'xgboost', tool_version: '1.7.4', signature: 'file', hold_out: null },
      model_type: 'xgboost',
      task: 'classification',
      description: 'churn v3: XGBoost classifier predicting churned from 3 features, imported from churn.json',
      hyper_parameters: {},
      params: null,
      seed: null,
      data: { location: null, identifier: null, rows: null, n_features: 3, features: ['a', 'b', 'c'], target: 'churned', inputs: [] },
      testing_strategy: null,
      scores: {},
      feature_schema: [],
      target: null,
      evaluation: { hold_out: null },
      model_location: `models/${model.id}`,
      // no machine path in the record
      command: ['mlskel', 'models', 'import', 'incoming/churn.json'],
    })
    expect(record.importances).toEqual([{ feature: 'a', gain: expect.any(Number), splits: 1 }, { feature: 'b', gain: 0, splits: 0 }, { feature: 'c', gain: 0, splits: 0 }])
    expect(unscored).toMatch(/^no data to score it on: no --data, and the project has no data set yet/)
    expect(recordFile).toBe(`models/metadata/${record.run_id}.json`)
    expectPublishedValid(record)

    // the folder: model.json, the manifest, and the file as it was; committed (no pending file)
    expect((await readdir(model.dir)).sort()).toEqual(['manifest.json', 'model.json', 'source.json'])
    expect(await readFile(join(model.dir, 'source.json'))).toEqual(bytes)
    expect(model.manifest.files.source).toEqual({ path: 'source.json', sha256: hashBytes(bytes), size: bytes.length })
    expect(record.model_hash).toBe(hashBytes(await readFile(join(model.dir, 'model.json'))))

    // the newest record's model is the one mlskel serves
    const loaded = await loadModel(join(root, 'models'))
    expect(loaded.manifest.id).toBe(model.id)
    expect(loaded.predictor.predict([[0, 0, 0], [1, 0, 0]])).toEqual([0, 1])
  })

  it('says when the file does not name its features, and takes a file from outside the project by its name only', async () => {
    const outside = await project({ 'm.json': unnamed })
    const root = await project()
    const { record } = await run(root, { file: join(outside, 'm.json') })
    expect(record.imported).toMatchObject({ file: 'm.json', path: null, signature: 'file' })
    expect(record.data.features).toEqual(['f0', 'f1', 'f2'])
    expect(record.data.target).toBe('target')
    expect(record.warnings).toContain('the file does not name its features: they are "f0", "f1", "f2" (give --data to name them from its columns)')
    expectPublishedValid(record)
  })
})

describe('importModel: with --data', () => {
  const rows = [
    [0.1, 5, 1, 0],
    [0.9, 5, 1, 1],
    [0.7, 2, 0, 0],
    [0.2, 1, 1, 0],
    [0.6, 2, 2, 1],
  ]
  const csv = (header: string, body: (string | number)[][]) => `${header}\n${body.map((r) => r.join(',')).join('\n')}\n`

  it('names the features of a file that does not from its columns, and scores it on its rows', async () => {
    const root = await project({ 'm.json': unnamed, 'holdout.csv': `${csv('p,q,r,label', rows)}0.3,1,1,\n` })
    const { record, model, unscored } = await run(root, { file: 'm.json', data: 'holdout.csv', target: 'label' })
    expect(unscored).toBeUndefined()
    expect(record.data.features).toEqual(['p', 'q', 'r'])
    expect(record.imported).toMatchObject({ signature: 'data', hold_out: { path: 'holdout.csv', from: 'data', dropped: { missing_target: 1 } } })
    expect(record.data.inputs).toEqual([{ path: 'holdout.csv', sha256: hashBytes(await readFile(join(root, 'holdout.csv'))) }])
    // mlskel's own scores of the model on those rows: x0 < 0.5 predicts 0; one row of five is wrong
    const expected = evaluate('classification', (await loadModel(join(root, 'models'))).predictor, { X: rows.map((r) => r.slice(0, 3)), y: rows.map((r) => r[3]!) })
    expect(record.scores.accuracy).toEqual({ hold_out: 0.8 })
    expect(Object.fromEntries(Object.entries(record.scores).map(([m, s]) => [m, s.hold_out]))).toEqual(expected)
    expect(record.evaluation.hold_out).toMatchObject({ rows: 5, confusion_matrix: { labels: [0, 1], matrix: [[2, 1], [0, 2]] } })
    expect(record.testing_strategy).toBe('hold-out: scored by mlskel at import on holdout.csv (5 rows); trained elsewhere, so no cross-validation')
    expect(record.warnings).toContain('the file does not name its features: they were named from the columns of holdout.csv, in order ("p", "q", "r")')
    // the input example is the data's first rows, as a request would send them
    expect(model.manifest.input_example).toEqual([{ p: 0.1, q: 5, r: 1 }, { p: 0.9, q: 5, r: 1 }, { p: 0.7, q: 2, r: 0 }])
    expectPublishedValid(record)
  })

  it('finds the target as the one column that is no feature of a file that names them, and names classes from its labels', async () => {
    const labelled = rows.map(([a, b, c, y]) => [a!, b!, c!, y === 1 ? 'yes' : 'no'])
    const root = await project({ 'm.json': named, 'with-id.csv': csv('c,b,a,extra_id,churned', labelled.map(([a, b, c, y]) => [c!, b!, a!, 7, y!])) })
    // the target must be said when two columns are no feature
    const ambiguous = await refusal(run(root, { file: 'm.json', data: 'with-id.csv' }))
    expect(ambiguous).toMatchObject({ code: 'MLSKEL_IMPORT_DATA_MISMATCH', fix: 'Name the target column with --target.' })
    await writeFile(join(root, 'holdout.csv'), csv('c,b,a,churned', labelled.map(([a, b, c, y]) => [c!, b!, a!, y!])))
    const { record, model } = await run(root, { file: 'm.json', data: 'holdout.csv' })
    expect(record.data).toMatchObject({ features: ['a', 'b', 'c'], target: 'churned' })
    expect(model.manifest.signature.target).toEqual({ name: 'churned', type: 'category', classes: ['no', 'yes'] })
    expect(record.scores.accuracy).toEqual({ hold_out: 0.8 })
    expect(record.warnings?.some((w) => w.startsWith('the file numbers its classes 0 … 1 without naming them: they were named from the target of holdout.csv in sorted order ("no", "yes")'))).toBe(true)
    expectPublishedValid(record)
  })

  it('scores an ONNX regression, naming its inputs from the data', async () => {
    // y = p + 2q + 3r + 0.5
    const body = [[1, 1, 1, 6.5], [0, 0, 0, 0.5], [1, 0, 0, 2]]
    const root = await project({ 'lin.onnx': linearModel(), 'd.csv': csv('p,q,r,y', body) })
    const { record, model } = await run(root, { file: 'lin.onnx', data: 'd.csv', target: 'y' })
    expect(record).toMatchObject({ model_type: 'onnx', task: 'regression', imported: { tool: 'test', tool_version: '0.1', signature: 'data' }, data: { features: ['p', 'q', 'r'], target: 'y' } })
    // predicted 6.5, 0.5 and 1.5: one error of 0.5, against a spread of 19.5 around the mean 3
    expect(record.scores.r2?.hold_out).toBeCloseTo(1 - 0.25 / 19.5, 6)
    expect(record.scores.mean_absolute_error?.hold_out).toBeCloseTo(0.5 / 3, 6)
    expect(await readFile(join(model.dir, 'source.onnx'))).toEqual(Buffer.from(linearModel()))
    expectPublishedValid(record)
  })

  it('refuses data that cannot score the model, writing nothing', async () => {
    const root = await project({ 'm.json': named, 'u.json': unnamed, 'lin.onnx': linearModel(), 'short.csv': csv('a,b,label', rows.map((r) => [r[0]!, r[1]!, r[3]!])), 'wide.csv': csv('p,q,r,s,label', rows.map((r) => [...r.slice(0, 3), 0, r[3]!])), 'words.csv': csv('p,q,r,label', rows.map((r, i) => [...r.slice(0, 3), ['x', 'y', 'z'][i % 3]!])), 'empty.csv': 'p,q,r,label\n1,2,3,\n', 'broken.parquet': 'not parquet' })
    const cases: [Omit<ImportOptions, 'root'>, RegExp][] = [
      [{ file: 'm.json', data: 'short.csv', target: 'label' }, /lacks the feature column "c" that the model takes/],
      [{ file: 'm.json', data: 'short.csv', target: 'churned' }, /has no column "churned" \(the target/],
      [{ file: 'u.json', data: 'wide.csv', target: 'label' }, /has 4 columns besides the target "label", and the model takes 3 features/],
      [{ file: 'lin.onnx', data: 'wide.csv', target: 'label' }, /has 4 columns besides the target "label", and the model takes 3 features/],
      [{ file: 'u.json', data: 'words.csv', target: 'label' }, /holds 3 values of the target "label" \("x", "y", "z"\), and the model predicts 2 classes that the model file does not name \(0 … 1\)/],
      [{ file: 'u.json', data: 'empty.csv', target: 'label' }, /^no row to score the model on: of its 1 rows, 1 lack the target/],
      [{ file: 'u.json', data: 'broken.parquet', target: 'label' }, /^cannot be read as Parquet/],
    ]
    for (const [options, message] of cases) {
      const error = await refusal(run(root, options))
      expect(error.code, error.message).toBe('MLSKEL_IMPORT_DATA_MISMATCH')
      expect(error.message).toMatch(message)
      expect(error.fix.length).toBeGreaterThan(20)
    }
    expect(await written(root)).toEqual({ models: [], records: [] })
  })
})

describe('importModel: the project\'s data set', () => {
  const dataset = {
    task: 'classification',
    features: [
      { name: 'a', type: 'number' },
      { name: 'b', type: 'number' },
      { name: 'c', type: 'number' },
    ],
    target: { name: 'churned', type: 'category', classes: ['no', 'yes'], counts: { train: { no: 1, yes: 1 }, test: { no: 1, yes: 1 } } },
    read: { missing_values: [''], decimal: '.' },
    files: { raw: 'data/raw/churn.csv', raw_sha256: 'a'.repeat(64), format: 'csv', staging: 'data/staging/churn.parquet', train: 'data/transformed/train.csv', test: 'data/transformed/test.csv' },
  }
  const test = 'a,b,c,churned\n0.1,0,0,no\n0.8,0,0,yes\n0.9,1,1,no\n,1,1,no\n'

  it('is the signature of a file that names the same features, and its test split the hold-out', async () => {
    const root = await project({ 'm.json': named, 'data/transformed/dataset.json': json(dataset), 'data/transformed/test.csv': test })
    const { record, model, unscored } = await run(root, { file: 'm.json' })
    expect(unscored).toBeUndefined()
    expect(record.imported).toMatchObject({ signature: 'project', hold_out: { path: 'data/transformed/test.csv', from: 'project', dropped: {} } })
    expect(model.manifest.signature).toEqual({ features: dataset.features, target: { name: 'churned', type: 'category', classes: ['no', 'yes'] }, read: dataset.read })
    // a missing value goes XGBoost's default way (right here: default_left is false), so the fourth row says yes
    expect(record.evaluation.hold_out).toMatchObject({ rows: 4 })
    expect(record.scores.accuracy).toEqual({ hold_out: 0.5 })
    expectPublishedValid(record)
  })

  it('is not used for a file that does not name its features, nor for another target, saying why', async () => {
    const root = await project({ 'u.json': unnamed, 'm.json': named, 'data/transformed/dataset.json': json(dataset), 'data/transformed/test.csv': test })
    const first = await run(root, { file: 'u.json' })
    expect(first.record.imported?.signature).toBe('file')
    expect(first.unscored).toContain('the file does not name its features, so nothing shows they are the data set\'s')
    const second = await run(root, { file: 'm.json', target: 'left' })
    expect(second.unscored).toContain('--target "left" is not its target "churned"')
    expect(second.record.scores).toEqual({})
  })
})

describe('importModel: ONNX', () => {
  it('takes a classifier\'s labels from the graph, and --task for one value per row', async () => {
    const root = await project({ 'clf.onnx': classifierModel({ labels: ['low', 'mid', 'high'], zipmap: true }), 'lin.onnx': linearModel(tensor('x', ['N', 3]), tensor('p', ['N', 1])) })
    const { model, record } = await run(root, { file: 'clf.onnx', target: 'level' })
    expect(model.manifest.signature.target).toEqual({ name: 'level', type: 'category', classes: ['low', 'mid', 'high'] })
    expect(record.imported).toMatchObject({ tool: 'test', signature: 'file' })
    const told = await run(root, { file: 'lin.onnx', task: 'classification' })
    expect(told.record.task).toBe('classification')
  })

  it('refuses an input it cannot map, naming it', async () => {
    const ints = graph({ nodes: [linearNode('ids', 'y', [1, 2, 3], [0])], inputs: [tensor('ids', ['N', 3], ELEM.INT64)], outputs: [tensor('y', ['N', 1])] })
    const root = await project({ 'ints.onnx': ints })
    const error = await refusal(run(root, { file: 'ints.onnx' }))
    expect(error.code).toBe('MLSKEL_ONNX_UNSUPPORTED')
    expect(error.message).toContain('"ids"')
    expect(await written(root)).toEqual({ models: [], records: [] })
  })
})

describe('importModel: refusals', () => {
  it('refuses what is not a model it reads, a missing file, and a task the file contradicts, with fixes', async () => {
    const root = await project({ 'model.pkl': new Uint8Array([0x80, 0x04, 0x95, 0x10, 0, 0]), 'm.json': named, 'notes.txt': 'hello' })
    const pickle = await refusal(run(root, { file: 'model.pkl' }))
    expect(pickle).toMatchObject({ code: 'MLSKEL_IMPORT_FORMAT_UNKNOWN', where: { file: 'model.pkl' } })
    expect(pickle.message).toBe('not a model mlskel imports: it is a Python pickle (pickle or joblib), which mlskel never loads: a pickle runs code')
    expect(pickle.fix).toContain('save_model("model.json")')
    const text = await refusal(run(root, { file: 'notes.txt' }))
    expect(text.code).toBe('MLSKEL_IMPORT_FORMAT_UNKNOWN')
    expect(text.fix).toContain('ONNX')
    expect(await refusal(run(root, { file: 'gone.json' }))).toMatchObject({ code: 'MLSKEL_FILE_MISSING', message: 'the model file does not exist', where: { file: 'gone.json' } })
    expect(await refusal(run(root, { file: 'm.json', data: 'gone.csv' }))).toMatchObject({ code: 'MLSKEL_FILE_MISSING', message: 'the --data file does not exist', where: { file: 'gone.csv' } })
    const task = await refusal(run(root, { file: 'm.json', task: 'regression' }))
    expect(task).toMatchObject({ code: 'MLSKEL_IMPORT_TASK_MISMATCH', message: '--task regression was given, but the file is an XGBoost classification (objective binary:logistic)', where: { file: 'm.json', field: 'learner.objective' } })
    expect(await refusal(run(root, { file: 'm.json', name: 'two\nlines' }))).toMatchObject({ code: 'MLSKEL_USAGE', exitCode: 2 })
    expect(await written(root)).toEqual({ models: [], records: [] })
    expect(await readRecords(join(root, 'models', 'metadata'))).toEqual([])
  })
})
