import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerModelKind, saveModel, type Predictor } from '../models/index.js'
import { createModelHolder, loadServedModel, type ModelHolder, type ServedModel } from './model-holder.js'
import { irisProject, typedProject, type IrisProject } from './test-models.js'

let project: IrisProject
let holders: ModelHolder[]
const logger = pino({ level: 'silent' })

beforeEach(async () => {
  project = await irisProject()
  holders = []
})
afterEach(async () => {
  await Promise.all(holders.map((h) => h.close()))
  await project.remove()
})

function holder(extra: Partial<Parameters<typeof createModelHolder>[0]> = {}): ModelHolder {
  const h = createModelHolder({ modelsDir: project.modelsDir, metadataDir: project.metadataDir, logger, pollMs: 50, ...extra })
  holders.push(h)
  return h
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const row = [5.1, 3.5, 1.4, 0.2]

describe('loadServedModel', () => {
  it('loads the model of the newest record, with its signature, classes and record', async () => {
    await project.train(1)
    const { record } = await project.train(2)
    const served = await loadServedModel(project)
    expect(served).toMatchObject({ id: record.model_id, runId: record.run_id, task: 'classification', features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], classes: ['setosa', 'versicolor', 'virginica'], gitCommit: null })
    expect(served.featureSchema.map((f) => f.name)).toEqual(served.features)
    expect(served.predictor.predict([row])).toEqual(['setosa'])
  })

  it('loads a pinned model by id prefix, with the record that names it', async () => {
    const first = await project.train(1)
    await project.train(2)
    const served = await loadServedModel({ ...project, modelId: first.model.id.slice(0, 6) })
    expect(served.id).toBe(first.model.id)
    expect(served.runId).toBe(first.record.run_id)
  })

  it('says there is no model when nothing was trained', async () => {
    await expect(loadServedModel(project)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND' })
  })

  it('refuses a model whose model.json was damaged', async () => {
    const { model } = await project.train(1)
    await writeFile(join(model.dir, 'model.json'), '{"broken": true}')
    // the only run's model is damaged: nothing to serve, and the reason said
    await expect(loadServedModel(project)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND', message: expect.stringMatching(/names a model that loads and checks; the newest: .*model\.json/) })
  })
})

describe('the model served is the model recorded', () => {
  it('refuses a model.json edited together with its manifest\'s hash: the record\'s hash is what counts', async () => {
    const { model } = await project.train(1)
    const file = join(model.dir, 'model.json')
    const edited = `${await readFile(file, 'utf8')} `
    await writeFile(file, edited)
    const manifestFile = join(model.dir, 'manifest.json')
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { files: { model: { sha256: string; bytes?: number } } }
    manifest.files.model.sha256 = createHash('sha256').update(edited).digest('hex')
    if (manifest.files.model.bytes !== undefined) manifest.files.model.bytes = Buffer.byteLength(edited)
    await writeFile(manifestFile, JSON.stringify(manifest))
    await expect(loadServedModel(project)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND', message: expect.stringContaining('is not the model run') })
  })
})

describe('the check on load', () => {
  it('refuses a model that loads but fails to predict its input example', async () => {
    const { model } = await project.train(1)
    const served = await loadServedModel(project)
    const kind = 'test-fails-its-check'
    const broken = (): Predictor => ({
      kind,
      signature: served.manifest.signature,
      predict: () => {
        throw new Error('no trees')
      },
      toJSON: () => ({ trees: 0 }),
    })
    registerModelKind(kind, broken)
    const saved = await saveModel(project.modelsDir, broken(), { description: 'broken', inputExample: served.manifest.input_example })
    await expect(loadServedModel({ ...project, modelId: saved.id })).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND' }) // no record names it
    // A record naming it, as training would write: the newest, so the holder would pick it.
    const record = { ...served.record, run_id: '29991231T235959.999Z-abcdef', model_id: saved.id, model_type: kind, model_hash: saved.manifest.files.model.sha256 }
    await writeFile(join(project.metadataDir, `${record.run_id}.json`), JSON.stringify(record))
    // the newest run's model fails its check: the one before it is served, and the newest is said to be skipped
    const fallback = await loadServedModel(project)
    expect(fallback.id).toBe(model.id)
    expect(fallback.skipped).toEqual([{ run_id: record.run_id, reason: expect.stringContaining('no trees') }])
    expect(model.id).not.toBe(saved.id)
  })
})

describe('the check of a typed model', () => {
  it('reads its raw input example through the encoder, and names the input of a value it does not take', async () => {
    const typed = await typedProject()
    try {
      const { model } = await typed.train(1)
      const served = await loadServedModel(typed)
      expect(served.schema.names).toEqual(['age', 'member', 'colour', 'signup'])
      expect(served.inputExample[0]).toEqual({ age: 18, member: true, colour: 'blue', signup: '01/01/2019' })
      expect(served.inputExample.some((row) => row.age === null)).toBe(true)
      // the manifest's example damaged: a number for the date
      const path = join(model.dir, 'manifest.json')
      const manifest = JSON.parse(await readFile(path, 'utf8')) as { input_example: Record<string, unknown>[] }
      manifest.input_example[0]!.signup = 3
      await writeFile(path, JSON.stringify(manifest))
      await expect(loadServedModel(typed)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND', message: expect.stringMatching(/input example: row 0, input "signup" is number 3, not a date or timestamp/) })
    } finally {
      await typed.remove()
    }
  })
})

describe('createModelHolder', () => {
  it('throws on start when a model is required and there is none, and starts empty otherwise', async () => {
    await expect(holder({ requireModel: true }).start()).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND' })
    const empty = holder()
    await empty.start()
    expect(empty.current()).toBeUndefined()
    const { model } = await project.train(1)
    await until(() => empty.current()?.id === model.id)
  })

  it('swaps to the model of a newer record, in the background, and tells onSwap', async () => {
    const first = await project.train(1)
    const swaps: string[] = []
    const h = holder({ onSwap: (m) => swaps.push(m.id) })
    await h.start()
    expect(h.current()?.id).toBe(first.model.id)
    const second = await project.train(2)
    expect(second.model.id).not.toBe(first.model.id)
    await until(() => h.current()?.id === second.model.id)
    expect(swaps).toEqual([first.model.id, second.model.id])
  })

  it('keeps serving the old model when the newer one is broken, and logs why', async () => {
    const first = await project.train(1)
    const errors: unknown[] = []
    const h = holder({ onError: (e) => errors.push(e) })
    await h.start()
    await project.train(2, { beforeRecord: (model) => writeFile(join(model.dir, 'model.json'), '{"corrupt": true}') })
    await until(() => errors.length > 0)
    expect(errors[0]).toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT' })
    await sleep(200)
    expect(h.current()?.id).toBe(first.model.id)
    expect(errors).toHaveLength(1) // not retried while its files stay as they are
    // A later good model is still taken.
    const third = await project.train(3)
    await until(() => h.current()?.id === third.model.id)
  })

  it('is not blocked by a garbled record named after every other: the newer good run is served, the garbled one said', async () => {
    await project.train(1)
    const h = holder()
    await h.start()
    await writeFile(join(project.metadataDir, '29991231T235959.999Z-abcdef.json'), '{ not json')
    const second = await project.train(2)
    await until(() => h.current()?.id === second.model.id)
    expect(h.current()?.skipped).toEqual([{ run_id: '29991231T235959.999Z-abcdef', reason: expect.stringContaining('not valid JSON') }])
  })

  it('takes a newer record of the model it serves without loading it again', async () => {
    const first = await project.train(1)
    const swaps: string[] = []
    const h = holder({ onSwap: (m) => swaps.push(m.runId) })
    await h.start()
    const loadedAt = h.current()!.loadedAt
    const again = await project.train(1) // the same data and seed: the same model, a new run
    expect(again.model.id).toBe(first.model.id)
    await until(() => h.current()?.runId === again.record.run_id)
    expect(h.current()!.loadedAt).toBe(loadedAt)
    expect(swaps).toEqual([first.record.run_id])
  })

  it('sees a new record through fs.watch alone, without waiting for the poll', async () => {
    await project.train(1)
    const h = holder({ pollMs: 60_000 })
    await h.start()
    const second = await project.train(2)
    await until(() => h.current()?.id === second.model.id, 3000)
  })

  it('never swaps a pinned model', async () => {
    const first = await project.train(1)
    const h = holder({ modelId: first.model.id })
    await h.start()
    await project.train(2)
    await sleep(300)
    expect(h.current()?.id).toBe(first.model.id)
  })

  it('stops watching when closed', async () => {
    const first = await project.train(1)
    const h = holder()
    await h.start()
    await h.close()
    await project.train(2)
    await sleep(300)
    expect(h.current()?.id).toBe(first.model.id)
  })

  it('swaps while concurrent requests run, with no failure, and later requests name the new model', async () => {
    const first = await project.train(1)
    const h = holder()
    await h.start()
    let stop = false
    let failures = 0
    const answers: { model: string; result: (string | number)[] }[] = []
    const loop = async () => {
      while (!stop) {
        // As a request does: take the model once, use that object to the end.
        const served: ServedModel | undefined = h.current()
        try {
          if (!served) throw new Error('no model')
          await Promise.resolve()
          answers.push({ model: served.id, result: served.predictor.predict([row, [6.7, 3.0, 5.2, 2.3]]) })
        } catch {
          failures++
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const loops = Array.from({ length: 16 }, loop)
    await sleep(50)
    const second = await project.train(2)
    await until(() => h.current()?.id === second.model.id)
    const swappedAt = answers.length
    await sleep(100)
    stop = true
    await Promise.all(loops)
    expect(failures).toBe(0)
    expect(answers.some((a) => a.model === first.model.id)).toBe(true)
    const after = answers.slice(swappedAt + 16)
    expect(after.length).toBeGreaterThan(0)
    expect(after.every((a) => a.model === second.model.id)).toBe(true)
    expect(answers.every((a) => a.result[0] === 'setosa' && a.result[1] === 'virginica')).toBe(true)
  })
})
