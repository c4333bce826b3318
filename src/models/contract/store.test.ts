import { existsSync } from 'node:fs'
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashBytes } from '../../hashing/index.js'
import { loadSavedModel, PENDING_FILE, recoverPendingModels, registerModelKind, saveModel, trainRandomForest, type Predictor, type Signature } from '../index.js'
import { clusters, linear } from '../test-data.js'

let root: string
let models: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-models-'))
  models = join(root, 'models')
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const example = [{ f0: 0, f1: 0, f2: 0, f3: 0 }]

function classifier(seed = 1): Promise<Predictor> {
  const { data, signature } = clusters(10)
  return trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed, signature, data })
}

describe('saveModel', () => {
  it('writes model.json and manifest.json in a folder named by the content hash', async () => {
    const saved = await saveModel(models, await classifier(), { description: 'clusters', inputExample: example })
    const bytes = await readFile(join(saved.dir, 'model.json'))
    expect(saved.id).toBe(hashBytes(bytes).slice(0, 16))
    expect(saved.dir).toBe(join(models, saved.id))
    // pending until a training record commits it (recordTraining removes the pending file)
    expect((await readdir(saved.dir)).sort()).toEqual(['.mlskel-pending.json', 'manifest.json', 'model.json'])
    expect(JSON.parse(await readFile(join(saved.dir, PENDING_FILE), 'utf8'))).toEqual({ pid: process.pid, created: true })
    const manifest = JSON.parse(await readFile(join(saved.dir, 'manifest.json'), 'utf8'))
    expect(manifest).toEqual(saved.manifest)
    expect(manifest).toMatchObject({ manifest_version: 1, id: saved.id, kind: 'random_forest', description: 'clusters', input_example: example, files: { model: { path: 'model.json', sha256: hashBytes(bytes), size: bytes.length } } })
    expect(manifest.signature.target.classes).toEqual(['a', 'b', 'c'])
    expect(saved.size).toBe(bytes.length + (await readFile(join(saved.dir, 'manifest.json'))).length)
    expect(JSON.parse(bytes.toString())).toMatchObject({ format: 1, kind: 'random_forest' })
  })

  it('gives the same bytes and id for the same training, and keeps the folder already there', async () => {
    const first = await saveModel(models, await classifier(3), { description: 'one', inputExample: example })
    const second = await saveModel(join(root, 'other'), await classifier(3), { description: 'two', inputExample: example })
    expect(second.id).toBe(first.id)
    expect(await readFile(join(second.dir, 'model.json'))).toEqual(await readFile(join(first.dir, 'model.json')))
    const again = await saveModel(models, await classifier(3), { description: 'three', inputExample: example })
    expect(again.manifest.description).toBe('one')
    expect((await readdir(models)).filter((name) => name.startsWith('.'))).toEqual([])
    expect((await saveModel(models, await classifier(4), { description: 'x', inputExample: example })).id).not.toBe(first.id)
  })

  it('keeps an imported model\'s original file beside it, named in model.json and the manifest with its hash', async () => {
    const model = await classifier(5)
    const bytes = new TextEncoder().encode('{"learner": {}}\n')
    const saved = await saveModel(models, model, { description: 'imported', inputExample: example, source: { path: 'source.json', bytes } })
    expect(await readFile(join(saved.dir, 'source.json'))).toEqual(Buffer.from(bytes))
    const source = { path: 'source.json', sha256: hashBytes(bytes), size: bytes.length }
    expect(saved.manifest.files.source).toEqual(source)
    expect(JSON.parse(await readFile(join(saved.dir, 'model.json'), 'utf8'))).toMatchObject({ source })
    expect(saved.size).toBe((await readFile(join(saved.dir, 'model.json'))).length + (await readFile(join(saved.dir, 'manifest.json'))).length + bytes.length)
    // the id covers the original: another file that makes the same predictor is another model
    const other = await saveModel(models, model, { description: 'imported', inputExample: example, source: { path: 'source.json', bytes: new TextEncoder().encode('{"learner": {} }') } })
    expect(other.id).not.toBe(saved.id)
    expect((await saveModel(models, model, { description: 'trained', inputExample: example })).id).not.toBe(saved.id)
    // a kept folder whose original was lost gets it back
    await rm(join(saved.dir, 'source.json'))
    await saveModel(models, model, { description: 'imported', inputExample: example, source: { path: 'source.json', bytes } })
    expect(await readFile(join(saved.dir, 'source.json'))).toEqual(Buffer.from(bytes))
    expect((await loadSavedModel(models, saved.id)).predictor.predict([[0, 0, 0, 0]])).toEqual(model.predict([[0, 0, 0, 0]]))
    await expect(saveModel(models, model, { description: 'x', inputExample: example, source: { path: '../model.json', bytes } })).rejects.toThrow(/source\.<extension>/)
  })
})

describe('a saved model, until its record commits it', () => {
  /** A save by a process that died before its record was written: its pending file names `pid` (not running). */
  async function abandoned(seed: number, pending: Record<string, unknown>) {
    const saved = await saveModel(models, await classifier(seed), { description: 'd', inputExample: example })
    await writeFile(join(saved.dir, PENDING_FILE), JSON.stringify({ pid: DEAD, created: true, ...pending }))
    return saved
  }
  const DEAD = 999_999_999
  const alive = (pid: number) => pid !== DEAD

  it('is removed by the next save when its writer died before its record', async () => {
    const lost = await abandoned(1, {})
    const next = await saveModel(models, await classifier(2), { description: 'd', inputExample: example })
    expect(existsSync(lost.dir)).toBe(false)
    expect(await readdir(models)).toEqual([next.id])
  })

  it('is removed with its diff when the record it was claimed for never came', async () => {
    await mkdir(join(models, 'metadata'), { recursive: true })
    await writeFile(join(models, 'metadata', 'run.diff'), 'patch')
    const lost = await abandoned(1, { run_id: 'run', record: '../metadata/run.json', diff: '../metadata/run.diff' })
    expect(await recoverPendingModels(models, alive)).toEqual({ adopted: [], removed: [lost.dir], diffs: [join(models, 'metadata', 'run.diff')] })
    expect(await readdir(models)).toEqual(['metadata'])
    expect(await readdir(join(models, 'metadata'))).toEqual([])
  })

  it('is kept, as committed, when its writer died after writing the record', async () => {
    await mkdir(join(models, 'metadata'), { recursive: true })
    await writeFile(join(models, 'metadata', 'run.json'), '{}')
    await writeFile(join(models, 'metadata', 'run.diff'), 'patch')
    const kept = await abandoned(1, { run_id: 'run', record: '../metadata/run.json', diff: '../metadata/run.diff' })
    expect(await recoverPendingModels(models, alive)).toEqual({ adopted: [kept.dir], removed: [], diffs: [] })
    expect((await readdir(kept.dir)).sort()).toEqual(['manifest.json', 'model.json'])
    expect(await readdir(join(models, 'metadata'))).toEqual(['run.diff', 'run.json'])
  })

  it('keeps a folder its save did not create (saved before), forgetting the claim and removing the lone diff', async () => {
    await mkdir(join(models, 'metadata'), { recursive: true })
    await writeFile(join(models, 'metadata', 'run.diff'), 'patch')
    const before = await abandoned(1, { created: false, run_id: 'run', record: '../metadata/run.json', diff: '../metadata/run.diff' })
    expect(await recoverPendingModels(models, alive)).toEqual({ adopted: [], removed: [], diffs: [join(models, 'metadata', 'run.diff')] })
    expect((await readdir(before.dir)).sort()).toEqual(['manifest.json', 'model.json'])
  })

  it('is left alone while its writer runs (a training under way)', async () => {
    const saved = await saveModel(models, await classifier(1), { description: 'd', inputExample: example })
    await writeFile(join(saved.dir, PENDING_FILE), JSON.stringify({ pid: 4242, created: true }))
    expect(await recoverPendingModels(models, (pid) => pid === 4242)).toEqual({ adopted: [], removed: [], diffs: [] })
    // this process's own pending saves too: it may record them yet
    await writeFile(join(saved.dir, PENDING_FILE), JSON.stringify({ pid: process.pid, created: true }))
    expect(await recoverPendingModels(models, () => false)).toEqual({ adopted: [], removed: [], diffs: [] })
    expect(existsSync(join(saved.dir, 'model.json'))).toBe(true)
  })
})

describe('loadSavedModel', () => {
  it('loads a saved classifier that predicts as the original did', async () => {
    const predictor = await classifier()
    const saved = await saveModel(models, predictor, { description: 'd', inputExample: example })
    const loaded = await loadSavedModel(models, saved.id)
    const { data } = clusters(10, 9)
    expect(loaded.predictor.predict(data.X)).toEqual(predictor.predict(data.X))
    expect(loaded.predictor.predictProba!(data.X)).toEqual(predictor.predictProba!(data.X))
    expect(loaded.manifest).toEqual(saved.manifest)
    expect(loaded.dir).toBe(saved.dir)
    // A loaded model saves to the same bytes, so the same id.
    expect((await saveModel(join(root, 'again'), loaded.predictor, { description: 'd', inputExample: example })).id).toBe(saved.id)
  })

  it('loads a saved regressor that predicts as the original did', async () => {
    const { data, signature } = linear(60)
    const predictor = await trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 5 }, seed: 2, signature, data })
    const saved = await saveModel(models, predictor, { description: 'd', inputExample: [{ x0: 1, x1: 2, x2: 3 }] })
    const loaded = await loadSavedModel(models, saved.id)
    expect(loaded.predictor.predict(data.X)).toEqual(predictor.predict(data.X))
  })

  it('finds a model by a unique prefix of its id', async () => {
    const saved = await saveModel(models, await classifier(), { description: 'd', inputExample: example })
    expect((await loadSavedModel(models, saved.id.slice(0, 5))).manifest.id).toBe(saved.id)
  })

  it('refuses a prefix that matches two models, naming both', async () => {
    await mkdir(join(models, 'aaaaaaaaaaaaaaa1'), { recursive: true })
    await mkdir(join(models, 'aaaaaaaaaaaaaaa2'), { recursive: true })
    await expect(loadSavedModel(models, 'aaaa')).rejects.toMatchObject({ code: 'MLSKEL_MODEL_AMBIGUOUS', message: expect.stringContaining('aaaaaaaaaaaaaaa1, aaaaaaaaaaaaaaa2') })
  })

  it('says when no model has the id, or the models folder is empty', async () => {
    await expect(loadSavedModel(models, 'ffff')).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND', message: expect.stringContaining('"ffff"') })
    const saved = await saveModel(models, await classifier(), { description: 'd', inputExample: example })
    const other = saved.id.startsWith('0') ? '1' : '0'
    await expect(loadSavedModel(models, other)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND', message: expect.stringContaining(saved.id) })
  })

  it('refuses a model.json that no longer matches its manifest', async () => {
    const saved = await saveModel(models, await classifier(), { description: 'd', inputExample: example })
    await appendFile(join(saved.dir, 'model.json'), ' ')
    await expect(loadSavedModel(models, saved.id)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT', where: { file: join(saved.dir, 'model.json'), field: 'files.model.sha256' } })
  })

  it('refuses a manifest that is not valid, naming the field', async () => {
    const saved = await saveModel(models, await classifier(), { description: 'd', inputExample: example })
    const manifest = JSON.parse(await readFile(join(saved.dir, 'manifest.json'), 'utf8'))
    await writeFile(join(saved.dir, 'manifest.json'), JSON.stringify({ ...manifest, files: { model: { ...manifest.files.model, size: 'big' } } }))
    await expect(loadSavedModel(models, saved.id)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT', where: { field: 'files.model.size' } })
  })

  it('refuses, with a coded error and nothing written, a model too large for model.json', async () => {
    // what JSON.stringify throws past V8's longest string (2^29 - 24 characters), without making one
    const huge: Predictor = { ...constant('test-huge', 1), toJSON: () => ({ get trees(): never { throw new RangeError('Invalid string length') } }) }
    await expect(saveModel(models, huge, { description: 'd', inputExample: [] })).rejects.toMatchObject({ code: 'MLSKEL_MODEL_TOO_LARGE', where: { file: 'model.json' } })
    expect(await readdir(models).catch(() => [])).toEqual([])
  })

  it('refuses a model of a kind no loader is registered for', async () => {
    const saved = await saveModel(models, constant('never-registered', 1), { description: 'd', inputExample: [] })
    await expect(loadSavedModel(models, saved.id)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_KIND_UNKNOWN', message: expect.stringContaining('"never-registered"') })
  })

  it('loads a custom kind through the loader registered for it', async () => {
    registerModelKind('test-constant', (json) => constant('test-constant', (json as { value: number }).value))
    const saved = await saveModel(models, constant('test-constant', 42), { description: 'always 42', inputExample: [{ x: 1 }] })
    const loaded = await loadSavedModel(models, saved.id)
    expect(loaded.predictor.kind).toBe('test-constant')
    expect(loaded.predictor.predict([[1], [2]])).toEqual([42, 42])
  })
})

const constantSignature: Signature = { features: [{ name: 'x', type: 'number' }], target: { name: 'y', type: 'number' } }

function constant(kind: string, value: number): Predictor {
  return { kind, signature: constantSignature, predict: (X) => X.map(() => value), toJSON: () => ({ value, signature: constantSignature }) }
}
