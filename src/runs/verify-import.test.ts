// `runs verify` of an imported model: verified by its stored bytes, never by training (there is nothing to train),
// through the library and the built CLI, in a temp project that is not even a git repository.
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mlskel } from '../cli/test-cli.js'
import { importModel, type ImportResult } from '../importing/index.js'
import { xgbModel } from '../models/kinds/test-xgboost.js'
import { linearModel } from '../models/kinds/test-onnx.js'
import { diffRuns, IMPORTED_NOTE, verifyRun } from './index.js'
import { makeRecord, projectWith } from './test-data.js'

describe('runs verify and diff of an imported model', () => {
  let root = ''
  let xgb: ImportResult
  let onnx: ImportResult
  beforeAll(async () => {
    root = await projectWith([])
    await writeFile(join(root, 'm.json'), JSON.stringify(xgbModel({ objective: 'binary:logistic', names: ['a', 'b', 'c'], trees: [{ f: 0, t: 0.5, left: { leaf: -2 }, right: { leaf: 2 } }] }), null, 1))
    await writeFile(join(root, 'lin.onnx'), linearModel())
    xgb = await importModel({ root, cwd: root, file: 'm.json' })
    onnx = await importModel({ root, cwd: root, file: 'lin.onnx' })
  })
  afterAll(() => (root ? rm(root, { recursive: true, force: true }) : undefined))

  it('verifies both kinds by their bytes, saying so, with exit code 0', async () => {
    for (const { record } of [xgb, onnx]) {
      expect(await verifyRun({ root, id: record.run_id })).toEqual({ run_id: record.run_id, verified: true, status: 'verified', method: 'bytes', note: IMPORTED_NOTE })
    }
    const cli = await mlskel(root, ['runs', 'verify', xgb.record.run_id])
    expect(cli.code).toBe(0)
    expect(cli.stdout).toBe(`verified: run ${xgb.record.run_id}'s stored model and imported file are the bytes recorded\nnote: ${IMPORTED_NOTE}\n`)
    expect(cli.stderr).toContain('verify: verified by its bytes: model.json is the recorded model and source.json the imported file')
  })

  it('lists what differs when the original file changed (exit 1), and cannot verify without it (exit 2)', async () => {
    const file = join(xgb.model.dir, 'source.json')
    const original = await readFile(file)
    try {
      await appendFile(file, ' ')
      const changed = await verifyRun({ root, id: xgb.record.run_id })
      expect(changed).toMatchObject({ verified: false, status: 'differs', method: 'bytes' })
      expect(changed.differences?.map((d) => d.field)).toEqual([`imported.sha256 (${xgb.record.model_location}/source.json)`, `imported.size (${xgb.record.model_location}/source.json)`])
      const cli = await mlskel(root, ['runs', 'verify', xgb.record.run_id, '--json'])
      expect(cli.code).toBe(1)
      expect(JSON.parse(cli.stdout)).toMatchObject({ status: 'differs', note: IMPORTED_NOTE })

      await rm(file)
      const gone = await mlskel(root, ['runs', 'verify', xgb.record.run_id])
      expect(gone.code).toBe(2)
      expect(gone.stderr).toContain(`cannot verify run ${xgb.record.run_id} (MLSKEL_VERIFY_IMPORT_MISSING): the original file ${xgb.record.model_location}/source.json is not there`)
    } finally {
      await writeFile(file, original)
    }
    expect((await verifyRun({ root, id: xgb.record.run_id })).status).toBe('verified')
  })

  it('tells a model.json that is not the imported file\'s model, even with its hash, manifest and record made to match', async () => {
    // the ONNX model.json holds another graph's bytes: its kind says it does not hold source.onnx
    const modelFile = join(onnx.model.dir, 'model.json')
    const text = await readFile(modelFile, 'utf8')
    const other = Buffer.from(linearModel()).toString('base64')
    const json = JSON.parse(text) as { onnx: string }
    expect(json.onnx).toBe(other)
    const changed = Buffer.from(linearModel())
    changed[changed.length - 1]! ^= 1
    await writeFile(modelFile, text.replace(json.onnx, changed.toString('base64')))
    try {
      const result = await verifyRun({ root, id: onnx.record.run_id })
      expect(result.status).toBe('differs')
      expect(result.differences?.map((d) => d.field)).toEqual([`model_hash (${onnx.record.model_location}/model.json)`, `${onnx.record.model_location}/model.json holds the imported file`])
    } finally {
      await writeFile(modelFile, text)
    }
  })

  it('diffs an import against a training: where each model came from, and the data only a training knows', async () => {
    const trained = makeRecord({ runId: '20260101T100000.000Z-aaaaaa' })
    const d = await diffRuns(trained, xgb.record)
    const model = Object.fromEntries(d.model.map((c) => [c.key, [c.a, c.b]]))
    expect(model.source).toEqual(['trained', 'imported'])
    expect(model['imported.tool']).toEqual([undefined, 'xgboost'])
    expect(model['imported.file']).toEqual([undefined, 'm.json'])
    expect(d.data.find((c) => c.key === 'identifier')).toEqual({ key: 'identifier', a: trained.data.identifier, b: null })
    expect(d.params.length).toBeGreaterThan(0)
    // two trainings: no source or imported keys to tell apart
    expect((await diffRuns(trained, makeRecord({ runId: '20260102T100000.000Z-bbbbbb' }))).model.map((c) => c.key)).not.toContain('source')
  })
})
