// The served model and its hot swap: loads a model with its training record, checks that it predicts, and (unless
// pinned) watches models/metadata so a newer record's model is loaded and checked in the background, then swapped
// in by one reference assignment. Requests take `current()` once, so those in flight finish on the model they began with.
import { watch, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { emptyRow, encodeValue, inputSchemaOf, type InputSchema } from '../data/index.js'
import { MlskelError, quote } from '../errors/index.js'
import type { Logger } from '../logging/index.js'
import { loadModel, readRecord, trainingRecordFiles, type MetadataRecord } from '../metadata/index.js'
import { loadSavedModel, MANIFEST_FILE, MODEL_FILE, type ModelManifest, type Predictor } from '../models/index.js'
import type { Task } from '../params/index.js'

export interface ServedModel {
  id: string
  runId: string
  record: MetadataRecord
  manifest: ModelManifest
  predictor: Predictor
  task: Task
  /** Feature names (the model's columns), in signature order. */
  features: string[]
  /** Its inputs (the raw columns requests give) and the columns they fill: what requests are read with. */
  schema: InputSchema
  /** A few input rows of raw values keyed by input name (the manifest's, else the record's): it predicted them on load. */
  inputExample: ModelManifest['input_example']
  featureSchema: MetadataRecord['feature_schema']
  /** Classification: the class labels, in the order of predicted probabilities. */
  classes?: (string | number)[]
  gitCommit: string | null
  /** When this process loaded it (ISO 8601). */
  loadedAt: string
  /** Newer training runs passed over to serve this one: their model did not load or check, or their record is bad. */
  skipped?: SkippedRun[]
}

export interface SkippedRun {
  run_id: string
  reason: string
}

export interface LoadServedModelOptions {
  modelsDir: string
  metadataDir: string
  /** A model id or unique prefix: that model (pinned). Absent: the model of the newest training record. */
  modelId?: string
}

/**
 * Load the model to serve with its training record, and check it: it must predict its own input example. A pinned
 * model is served with the newest record that names it; a model no record names is refused (its signature's
 * ranges, classes and commit come from the record).
 */
export async function loadServedModel(o: LoadServedModelOptions): Promise<ServedModel> {
  if (o.modelId === undefined) {
    const files = await trainingRecordFiles(o.metadataDir)
    if (files.length === 0) {
      throw new MlskelError('MLSKEL_MODEL_NOT_FOUND', `no model id given and no training recorded in ${o.metadataDir}, so there is no newest model to serve`, { where: { file: o.metadataDir } })
    }
    // the newest run whose model loads and checks: a bad newest record or model must not stop a replica starting
    const skipped: SkippedRun[] = []
    for (const name of files) {
      try {
        const model = await loadForRecord(o.modelsDir, await readRecord(join(o.metadataDir, name)))
        return skipped.length > 0 ? { ...model, skipped } : model
      } catch (error) {
        skipped.push({ run_id: name.slice(0, -'.json'.length), reason: error instanceof Error ? error.message : String(error) })
      }
    }
    throw new MlskelError('MLSKEL_MODEL_NOT_FOUND', `none of the ${files.length} training records in ${o.metadataDir} names a model that loads and checks; the newest: ${skipped[0]!.reason}`, { where: { file: o.metadataDir } })
  }
  const loaded = await loadModel(o.modelsDir, { id: o.modelId, metadataDir: o.metadataDir })
  const record = await newestRecordOf(o.metadataDir, loaded.manifest.id)
  if (!record) {
    throw new MlskelError('MLSKEL_MODEL_NOT_FOUND', `model ${loaded.manifest.id} exists but no training record in ${o.metadataDir} names it, so it cannot be served`, {
      where: { file: o.metadataDir },
      fix: 'Serve a model that `mlskel runs list` shows, or restore its record in models/metadata.',
    })
  }
  return checked(record, loaded.manifest, loaded.predictor)
}

export interface ModelHolder {
  /** The served model, or undefined before one is loaded. A request takes it once, at its start, and keeps that object. */
  current(): ServedModel | undefined
  /** Loads the first model, then watches the metadata folder unless pinned. */
  start(): Promise<void>
  /** Stops watching and waits for a background load under way. */
  close(): Promise<void>
}

export interface ModelHolderOptions extends LoadServedModelOptions {
  logger: Logger
  /** How often the metadata folder is polled besides fs.watch (which misses events on some file systems); default 1000 ms. */
  pollMs?: number
  /** start() throws when no model can be loaded; default false: the holder starts empty and serves the first model that appears. */
  requireModel?: boolean
  /** Called whenever the served model changes, the first load included. */
  onSwap?: (model: ServedModel) => void
  /** Called when a model found in the background fails to load or check (it is also logged, and the old one keeps serving). */
  onError?: (error: unknown) => void
}

/**
 * Holds the served model. Only a record newer (by run id) than the served one's leads to a swap: deleting the newest
 * record does not roll back (restart, or pin with a model id). Only records named <run_id>.json are considered, as
 * recordTraining writes them; a candidate that fails is logged once and retried only when its model's files change.
 */
export function createModelHolder(o: ModelHolderOptions): ModelHolder {
  const pollMs = o.pollMs ?? 1000
  if (!Number.isFinite(pollMs) || pollMs <= 0) throw new TypeError(`pollMs must be a positive number of milliseconds, got ${quote(o.pollMs)}`)
  // fs.watch fires several events per atomic write (temp file, rename): they are gathered into one check.
  const debounceMs = Math.min(50, pollMs)
  const pinned = o.modelId !== undefined
  let served: ServedModel | undefined
  let watcher: FSWatcher | undefined
  let poll: NodeJS.Timeout | undefined
  let debounce: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false
  let closed = false
  // Candidates that failed, by run id, with the state of their model files then: retried only when those change.
  const failed = new Map<string, string>()
  const failedReasons = new Map<string, string>()

  const swap = (next: ServedModel) => {
    const previous = served
    served = next
    o.logger.info({ model_id: next.id, run_id: next.runId, previous_model_id: previous?.id ?? null }, previous ? 'serving a newer model' : 'serving model')
    if (next.skipped?.length) o.logger.warn({ skipped: next.skipped, run_id: next.runId }, `passed over ${next.skipped.length} newer run${next.skipped.length === 1 ? '' : 's'} whose model did not load or check (see /ready)`)
    o.onSwap?.(next)
  }

  const schedule = () => {
    if (closed) return
    if (debounce) clearTimeout(debounce)
    debounce = setTimeout(() => {
      debounce = undefined
      void check()
    }, debounceMs)
    debounce.unref()
  }

  const check = async (): Promise<void> => {
    if (closed) return
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      do {
        again = false
        await checkOnce()
      } while (again && !closed)
    })().finally(() => {
      running = undefined
    })
    return running
  }

  const checkOnce = async () => {
    if (!watcher) startWatcher()
    if (pinned) {
      if (served) return
      try {
        swap(await loadServedModel(o))
        stopWatching()
      } catch (error) {
        reportOnce('pinned', '', error)
      }
      return
    }
    let files: string[]
    try {
      files = await trainingRecordFiles(o.metadataDir)
    } catch (error) {
      reportOnce('metadata folder', '', error)
      return
    }
    // the runs newer than the one served, newest first: the first whose model loads and checks is served; the
    // ones above it are skipped (and said), so a bad record or model never blocks the runs after it
    const skipped: SkippedRun[] = []
    for (const name of files) {
      const runId = name.slice(0, -'.json'.length)
      if (served && runId <= served.runId) break
      let record: MetadataRecord
      try {
        record = await readRecord(join(o.metadataDir, name))
      } catch (error) {
        reportOnce(runId, 'record', error)
        skipped.push({ run_id: runId, reason: error instanceof Error ? error.message : String(error) })
        continue
      }
      if (served && record.model_id === served.id) {
        // a newer run of the model already served (retrained to the same bytes): its record, without a reload
        served = { ...served, runId: record.run_id, record, gitCommit: record.git.commit, skipped }
        return
      }
      const state = await filesState(o.modelsDir, record.model_id)
      if (failed.get(runId) === state) {
        skipped.push({ run_id: runId, reason: failedReasons.get(runId) ?? 'its model did not load' })
        continue
      }
      try {
        const next = await loadForRecord(o.modelsDir, record)
        if (closed) return
        failed.delete(runId)
        swap(skipped.length > 0 ? { ...next, skipped } : next)
        return
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        failed.set(runId, state)
        failedReasons.set(runId, reason)
        skipped.push({ run_id: runId, reason })
        o.logger.error({ err: error, run_id: runId, model_id: record.model_id, serving: served?.id ?? null }, `the model of run ${runId} could not be loaded; ${served ? `still serving ${served.id}` : 'no model is served yet'}`)
        o.onError?.(error)
      }
    }
    if (served && skipped.length > 0) served = { ...served, skipped }
  }

  // Problems that repeat at every poll (an unreadable record, a missing pinned model) are logged once each.
  const reported = new Set<string>()
  const reportOnce = (what: string, detail: string, error: unknown) => {
    const key = `${what}:${detail}:${error instanceof Error ? error.message : String(error)}`
    if (reported.has(key)) return
    if (reported.size >= 1000) reported.clear()
    reported.add(key)
    o.logger.error({ err: error, serving: served?.id ?? null }, `watching ${o.metadataDir}: ${error instanceof Error ? error.message : String(error)}`)
    o.onError?.(error)
  }

  const startWatcher = () => {
    if (closed || (pinned && served)) return
    try {
      watcher = watch(o.metadataDir, { persistent: false }, schedule)
      watcher.on('error', () => {
        watcher?.close()
        watcher = undefined
      })
    } catch {
      // The folder may not exist yet (no training so far): the poll keeps looking, and watches once it is there.
      watcher = undefined
    }
  }

  const stopWatching = () => {
    watcher?.close()
    watcher = undefined
    if (poll) clearInterval(poll)
    poll = undefined
    if (debounce) clearTimeout(debounce)
    debounce = undefined
  }

  return {
    current: () => served,
    async start() {
      if (closed) throw new Error('the model holder is closed')
      try {
        swap(await loadServedModel(o))
      } catch (error) {
        if (o.requireModel) throw error
        o.logger.warn({ err: error }, `no model to serve yet: ${error instanceof Error ? error.message : String(error)}`)
      }
      if (pinned && served) return
      startWatcher()
      poll = setInterval(schedule, pollMs)
      poll.unref()
    },
    async close() {
      closed = true
      stopWatching()
      await running
    },
  }
}

/** The file name of the newest training record. */
/** The newest readable record naming `modelId`; unreadable records are skipped (they name no model we can trust). */
async function newestRecordOf(metadataDir: string, modelId: string): Promise<MetadataRecord | undefined> {
  for (const name of await trainingRecordFiles(metadataDir)) {
    const record = await readRecord(join(metadataDir, name)).catch(() => undefined)
    if (record?.model_id === modelId) return record
  }
  return undefined
}

async function loadForRecord(modelsDir: string, record: MetadataRecord): Promise<ServedModel> {
  const { manifest, predictor } = await loadSavedModel(modelsDir, record.model_id)
  // loadSavedModel checked model.json's bytes against its manifest; the manifest must be the record's too, or a model
  // edited together with its manifest would be served under the recorded id
  if (manifest.files.model.sha256 !== record.model_hash) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${record.model_id} is not the model run ${record.run_id} recorded: its model.json hashes ${manifest.files.model.sha256}, the record says ${record.model_hash}`, {
      where: { file: join(modelsDir, record.model_id, 'model.json') },
    })
  }
  return checked(record, manifest, predictor)
}

/** The model as served, once it has predicted its input example: rows in, one valid answer per row out. */
function checked(record: MetadataRecord, manifest: ModelManifest, predictor: Predictor): ServedModel {
  const features = manifest.signature.features.map((f) => f.name)
  const target = manifest.signature.target
  const classes = target.type === 'category' ? target.classes : undefined
  const fail = (problem: string, cause?: unknown) =>
    new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id} (run ${record.run_id}) failed its check on its input example: ${problem}`, {
      where: { field: 'input_example' },
      ...(cause === undefined ? {} : { cause }),
    })
  if (record.task !== (classes ? 'classification' : 'regression')) throw fail(`the record says ${record.task} but the model's target is ${target.type === 'category' ? 'a category' : 'a number'}`)
  const schema = inputSchemaOf(manifest.signature)
  const example = manifest.input_example.length > 0 ? manifest.input_example : record.input_example
  // raw values, read as a request's are
  const rows = example.map((values, i) => {
    const row = emptyRow(schema)
    for (const field of schema.fields) {
      const problem = Object.hasOwn(values, field.name) ? encodeValue(field, values[field.name], row) : 'is missing'
      if (problem !== undefined) throw fail(`row ${i}, input ${quote(field.name)} ${problem}`)
    }
    return row
  })
  let answers: (string | number)[]
  try {
    answers = predictor.predict(rows)
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error), error)
  }
  if (!Array.isArray(answers) || answers.length !== rows.length) throw fail(`${rows.length} rows gave ${Array.isArray(answers) ? answers.length : 'no'} answers`)
  answers.forEach((answer, i) => {
    const ok = classes ? classes.includes(answer) : typeof answer === 'number' && Number.isFinite(answer)
    if (!ok) throw fail(`row ${i} gave ${quote(answer)}, ${classes ? 'not one of the classes' : 'not a finite number'}`)
  })
  return {
    id: manifest.id,
    runId: record.run_id,
    record,
    manifest,
    predictor,
    task: record.task,
    features,
    schema,
    inputExample: example,
    featureSchema: record.feature_schema,
    ...(classes ? { classes } : {}),
    gitCommit: record.git.commit,
    loadedAt: new Date().toISOString(),
  }
}

/** Size and time of a model's files: a failed candidate is retried only when these change. */
async function filesState(modelsDir: string, id: string): Promise<string> {
  const parts = await Promise.all(
    [MODEL_FILE, MANIFEST_FILE].map((file) =>
      stat(join(modelsDir, id, file)).then(
        (s) => `${s.size}:${s.mtimeMs}`,
        () => 'missing',
      ),
    ),
  )
  return parts.join('/')
}
