// `mlskel models export` from the outside: a project with a saved model and its record, the built CLI run on it.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mixed } from '../../models/contract/test-contract.js'
import { readOnnxModel, saveModel, trainRandomForest, type Predictor } from '../../models/index.js'
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
