// `mlskel models export` and `import` from the outside: a project with a saved model and its record (or a file to
// import), the built CLI run on it.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mixed } from '../../models/contract/test-contract.js'
import { readOnnxModel, saveModel, trainRandomForest, type Predictor } from '../../models/index.js'
import { xgbModel } from '../../models/kinds/test-xgboost.js'
import { makeRecord, projectWith } from '../../runs/test-data.js'
import { mlskel } from '../test-cli.js'

describe('mlskel models export', () => {
  let root = ''
  let id = ''
  let model: Predictor
  beforeAll(async () => {
    const m = mixed()
    model = await trainRandomForest({ task: 'classification', signature: m.signature, data: m.data, seed: 1, hyperParameters: { n_estimators: 10 } })
    root = await projectWith([])
    const saved = await saveModel(join(root, 'models'), model, { description: 'rf', inputExample: [] })
    id = saved.id
    const record = makeRecord({ runId: '20260101T100000.000Z-aaaaaa', extra: { model_id: id, model_location: `models/${id}` } })
    await writeFile(join(root, 'models', 'metadata', `${record.run_id}.json`), JSON.stringify(record))
  })
  afterAll(() => (root ? rm(root, { recursive: true, force: true }) : undefined))

  it('exports the newest model into its folder and says what it wrote as JSON', async () => {
    const result = await mlskel(root, ['models', 'export', 'latest', '--json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const out = JSON.parse(result.stdout) as { id: string; path: string; bytes: number; inputType: string; kind: string }
    expect(out).toMatchObject({ id, kind: 'random_forest', format: 'onnx', inputType: 'double', path: join(root, 'models', id, 'model.onnx') })
    const bytes = await readFile(out.path)
    expect(bytes.length).toBe(out.bytes)
    const X = mixed(40, 9).data.X
    expect(readOnnxModel(bytes).predictor.predict(X)).toEqual(model.predict(X))
  })

  it('writes where --out says, with float input, by an id prefix', async () => {
    const result = await mlskel(root, ['models', 'export', id.slice(0, 5), '--out', 'exported/rf.onnx', '--input-type', 'float'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(new RegExp(`^wrote exported/rf\\.onnx: model ${id} \\(random_forest\\) as ONNX, float input, [\\d,]+ bytes\\n$`))
    expect((await readFile(join(root, 'exported', 'rf.onnx'))).length).toBeGreaterThan(1000)
  })

  it('refuses an unknown format (exit 2) and an unknown model (exit 1), with codes', async () => {
    const format = await mlskel(root, ['models', 'export', id, '--format', 'pmml'])
    expect(format.code).toBe(2)
    expect(format.stderr).toContain('pmml')
    const unknown = await mlskel(root, ['models', 'export', 'ffff'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('error MLSKEL_MODEL_NOT_FOUND')
  })
})

describe('mlskel models import', () => {
  let root = ''
  beforeAll(async () => {
    root = await projectWith([])
    // x0 < 0.5: class 0, else 1 (binary:logistic), features a, b, c
    const model = xgbModel({ objective: 'binary:logistic', names: ['a', 'b', 'c'], trees: [{ f: 0, t: 0.5, left: { leaf: -2 }, right: { leaf: 2 } }] })
    await writeFile(join(root, 'churn.json'), JSON.stringify(model))
    await writeFile(join(root, 'holdout.csv'), 'a,b,c,churned\n0.1,1,1,0\n0.9,1,1,1\n0.7,0,0,0\n')
    await writeFile(join(root, 'model.pkl'), new Uint8Array([0x80, 0x04, 0x95, 0x10, 0, 0]))
  })
  afterAll(() => (root ? rm(root, { recursive: true, force: true }) : undefined))

  it('imports an XGBoost model with --data, says what it recorded, and the record is one runs show reads', async () => {
    const result = await mlskel(root, ['models', 'import', 'churn.json', '--data', 'holdout.csv', '--name', 'churn', '--json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const out = JSON.parse(result.stdout) as Record<string, unknown> & { run_id: string; model_id: string }
    expect(out).toMatchObject({
      kind: 'xgboost',
      task: 'classification',
      model_location: `models/${out.model_id}`,
      record: `models/metadata/${out.run_id}.json`,
      imported: { file: 'churn.json', path: 'churn.json', tool: 'xgboost', tool_version: '1.7.4', signature: 'data', hold_out: { path: 'holdout.csv', from: 'data', dropped: {} } },
      features: ['a', 'b', 'c'],
      target: 'churned',
      scores: { accuracy: 2 / 3 },
      hold_out: { rows: 3 },
      warnings: [],
    })
    const record = JSON.parse(await readFile(join(root, out.record as string), 'utf8')) as { command: string[]; source: string }
    expect(record.source).toBe('imported')
    expect(record.command).toEqual(['mlskel', 'models', 'import', 'churn.json', '--name', 'churn', '--data', 'holdout.csv', '--json'])

    const shown = await mlskel(root, ['runs', 'show', out.run_id])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('imported (trained elsewhere)')
    const listed = await mlskel(root, ['runs', 'list'])
    expect(listed.stdout).toContain('imported: trained elsewhere (mlskel models import)')
  })

  it('says in words what it imported and why a model has no scores', async () => {
    const result = await mlskel(root, ['models', 'import', 'churn.json', '--target', 'left'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^imported churn\.json as model [0-9a-f]{16}: XGBoost classifier predicting left from 3 features, imported from churn\.json\n/)
    expect(result.stdout).toContain('  made by xgboost 1.7.4; signature from the file\n')
    expect(result.stdout).toContain('  scores: none: no data to score it on: no --data, and the project has no data set yet')
  })

  it('refuses a pickle (exit 1) and bad usage (exit 2), with codes and fixes', async () => {
    const pickle = await mlskel(root, ['models', 'import', 'model.pkl'])
    expect(pickle.code).toBe(1)
    expect(pickle.stderr).toContain('error MLSKEL_IMPORT_FORMAT_UNKNOWN: model.pkl: not a model mlskel imports: it is a Python pickle')
    expect(pickle.stderr).toContain('fix: Save the model in a format of data')
    const task = await mlskel(root, ['models', 'import', 'churn.json', '--task', 'clustering'])
    expect(task.code).toBe(2)
    const help = await mlskel(root, ['models', 'import', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Exit codes: 0 imported; 1 refused')
    expect(help.stdout).toContain('--data <file>')
  })
})
