// The model store: one folder per trained model under models/, named by the content hash of its model.json, with
// a manifest beside it. Loading checks the hash and finds the loader by kind; models are JSON, never code.
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { MlskelError, didYouMean, quote, describeIssues } from '../../errors/index.js'
import { TEMP_PREFIX, writeDirAtomic, writeFileAtomic } from '../../fs/index.js'
import { hashBytes } from '../../hashing/index.js'
import { canonicalJson } from '../../json/index.js'
import { modelKind, registeredModelKinds } from './kinds.js'
import { PENDING_FILE, pendingText, recoverPendingModels } from './pending.js'
import { signatureSchema } from './signature.js'
import type { ModelManifest, Predictor } from './types.js'

/** A raw input value: a number, a category or datetime as text, a boolean, or null for a missing value. */
export const rawValue = z.union([z.number(), z.string(), z.boolean(), z.null()])
export type RawValue = z.output<typeof rawValue>

export const MODEL_FILE = 'model.json'
export const MANIFEST_FILE = 'manifest.json'
/** Format of model.json's envelope ({ format, kind, ...the kind's own data }). */
export const MODEL_FORMAT = 1
/** The name an imported model's original file is kept under in its folder: source.json, source.onnx (see saveModel). */
export const SOURCE_FILE_PATTERN = /^source\.[a-z0-9]{1,10}$/

const fileEntry = z.strictObject({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.int().min(0) })

export const manifestSchema = z
  .strictObject({
    manifest_version: z.literal(1),
    id: z.string().regex(/^[0-9a-f]{16}$/).describe('first 16 hex characters of the SHA-256 of model.json'),
    kind: z.string().min(1).describe('the model kind; its loader is registered under this name'),
    description: z.string(),
    signature: signatureSchema,
    input_example: z.array(z.record(z.string(), rawValue)).describe('a few input rows as the model takes them, raw values keyed by input column (null: a missing value)'),
    files: z.strictObject({
      model: fileEntry.extend({ path: z.literal(MODEL_FILE) }),
      source: fileEntry
        .extend({ path: z.string().regex(SOURCE_FILE_PATTERN) })
        .optional()
        .describe('an imported model\'s original file, as it was imported (model.json names it too, so the model\'s hash covers it)'),
    }),
  })
  .describe('mlskel model manifest: what a saved model is and how to check it')

export interface SaveModelOptions {
  description: string
  inputExample: Record<string, RawValue>[]
  /**
   * An imported model's original file, kept beside model.json under `path` (source.<extension>) as it was imported:
   * `mlskel runs verify` checks its bytes. Named in model.json and the manifest (files.source) with its SHA-256.
   */
  source?: { path: string; bytes: Uint8Array }
}

export interface SavedModel {
  id: string
  dir: string
  manifest: ModelManifest
  /** Bytes of the model's folder (model.json and manifest.json). */
  size: number
}

export interface LoadedModel {
  manifest: ModelManifest
  predictor: Predictor
  dir: string
}

/**
 * Save a trained model to <modelsDir>/<id>/: model.json (deterministic JSON of the predictor) and manifest.json.
 * The id is derived from model.json's content, so saving the same model twice keeps the first folder.
 *
 * A new folder is pending until its training record is written (recordTraining commits it): it holds PENDING_FILE
 * meanwhile. Saving first finishes what dead writers left pending in `modelsDir`: a model whose record never came is
 * removed (pending.ts), so a crash between a save and its record leaves no model without a record.
 */
export async function saveModel(modelsDir: string, predictor: Predictor, o: SaveModelOptions): Promise<SavedModel> {
  const own = predictor.toJSON()
  if (own === null || typeof own !== 'object' || Array.isArray(own)) throw new TypeError(`predictor ${predictor.kind}: toJSON() must return an object`)
  if (o.source && !SOURCE_FILE_PATTERN.test(o.source.path)) throw new TypeError(`saveModel: source.path ${JSON.stringify(o.source.path)} is not source.<extension>`)
  // the original file is named in model.json, so that the model's id and hash cover its bytes: two files that make
  // the same predictor (an XGBoost JSON re-indented) are two models, each with its own original beside it
  const source = o.source && { path: o.source.path, sha256: hashBytes(o.source.bytes), size: o.source.bytes.byteLength }
  let text: string
  try {
    text = canonicalJson({ ...(own as Record<string, unknown>), format: MODEL_FORMAT, kind: predictor.kind, ...(source ? { source } : {}) })
  } catch (error) {
    // V8 holds no string longer than 2^29 - 24 characters: a model.json of half a gigabyte
    if (error instanceof RangeError && /string length/i.test(error.message)) {
      throw new MlskelError('MLSKEL_MODEL_TOO_LARGE', `the ${predictor.kind} model is too large to save: its model.json would be over ${Math.floor(2 ** 29 / 2 ** 20)} MB, the largest text a JavaScript engine holds`, {
        where: { file: MODEL_FILE },
        cause: error,
      })
    }
    throw error
  }
  const sha256 = hashBytes(text)
  const id = sha256.slice(0, 16)
  const manifest: ModelManifest = manifestSchema.parse({
    manifest_version: 1,
    id,
    kind: predictor.kind,
    description: o.description,
    signature: predictor.signature,
    input_example: o.inputExample,
    files: { model: { path: MODEL_FILE, sha256, size: Buffer.byteLength(text) }, ...(source ? { source } : {}) },
  })
  const dir = join(modelsDir, id)
  // housekeeping: a failure here must not stop a training (check still reports what is left)
  await recoverPendingModels(modelsDir).catch(() => undefined)
  const fill = async (temp: string) => {
    await writeFileAtomic(join(temp, MODEL_FILE), text)
    if (o.source) await writeFileAtomic(join(temp, o.source.path), o.source.bytes)
    await writeFileAtomic(join(temp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`)
    // in the folder before it is renamed into place: it is never there, not even for a moment, unmarked
    await writeFileAtomic(join(temp, PENDING_FILE), pendingText(true))
  }
  const outcome = await writeDirAtomic(dir, fill)
  if (outcome === 'kept' && !((await holds(dir, MODEL_FILE, sha256)) && (!source || (await holds(dir, source.path, source.sha256))))) {
    // A folder by that name whose model.json (or original file) is not this model's (edited or half-deleted): put the real one back.
    await writeDirAtomic(dir, fill, { replace: true })
  }
  const onDisk = outcome === 'kept' ? await readManifest(dir, id).catch(() => manifest) : manifest
  return { id, dir, manifest: onDisk, size: await folderSize(dir) }
}

/**
 * Load a saved model by id or unique id prefix. Checks model.json against the manifest's hash before reading it.
 * (Which model is the newest is a question for the training records: the metadata module's loadModel.)
 */
export async function loadSavedModel(modelsDir: string, idOrPrefix: string): Promise<LoadedModel> {
  const id = await resolveId(modelsDir, idOrPrefix)
  const dir = join(modelsDir, id)
  const manifest = await readManifest(dir, id)
  const modelPath = join(dir, MODEL_FILE)
  let bytes: Buffer
  try {
    bytes = await readFile(modelPath)
  } catch (error) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${id} has no readable ${MODEL_FILE}: ${(error as Error).message}`, { where: { file: modelPath }, cause: error })
  }
  const actual = hashBytes(bytes)
  if (actual !== manifest.files.model.sha256) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `${MODEL_FILE} of model ${id} has SHA-256 ${actual.slice(0, 16)}…, but its manifest says ${manifest.files.model.sha256.slice(0, 16)}…: the file was changed or damaged`, {
      where: { file: modelPath, field: 'files.model.sha256' },
    })
  }
  const load = modelKind(manifest.kind)?.load
  if (!load) {
    const known = registeredModelKinds()
    throw new MlskelError('MLSKEL_MODEL_KIND_UNKNOWN', `model ${id} is of kind ${quote(manifest.kind)}, which no loader is registered for (known: ${known.join(', ') || 'none'}).${didYouMean(manifest.kind, known)}`, {
      where: { file: join(dir, MANIFEST_FILE), field: 'kind' },
    })
  }
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `${MODEL_FILE} of model ${id} is not valid JSON: ${(error as Error).message}`, { where: { file: modelPath }, cause: error })
  }
  const envelope = json as { format?: unknown; kind?: unknown }
  if (envelope === null || typeof envelope !== 'object' || envelope.format !== MODEL_FORMAT || envelope.kind !== manifest.kind) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `${MODEL_FILE} of model ${id} is not a format ${MODEL_FORMAT} ${quote(manifest.kind)} model (format ${quote(envelope?.format)}, kind ${quote(envelope?.kind)})`, { where: { file: modelPath } })
  }
  let predictor: Predictor
  try {
    predictor = load(json, manifest)
  } catch (error) {
    if (error instanceof MlskelError) throw error
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${id} (${manifest.kind}) could not be loaded: ${error instanceof Error ? error.message : String(error)}`, { where: { file: modelPath }, cause: error })
  }
  return { manifest, predictor, dir }
}

/**
 * Whether saved model `id` holds `file` as it was imported (its kind's holdsFile: an XGBoost JSON value for value, an
 * ONNX file to the byte); undefined when its kind cannot say (a kind mlskel trains). model.json is read as it is: check
 * it against its manifest first (loadSavedModel).
 */
export async function modelHoldsFile(modelsDir: string, id: string, file: Uint8Array): Promise<boolean | undefined> {
  const manifest = await readManifest(join(modelsDir, id), id)
  const holds = modelKind(manifest.kind)?.holdsFile
  if (!holds) return undefined
  const text = await readFile(join(modelsDir, id, MODEL_FILE), 'utf8')
  return holds(JSON.parse(text) as unknown, file)
}

/** The ids of the models in `modelsDir`, sorted. */
export async function listModelIds(modelsDir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(modelsDir, { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return entries.filter((e) => e.isDirectory() && /^[0-9a-f]{16}$/.test(e.name) && !e.name.startsWith(TEMP_PREFIX)).map((e) => e.name).sort()
}

async function resolveId(modelsDir: string, prefix: string): Promise<string> {
  const ids = await listModelIds(modelsDir)
  if (ids.includes(prefix)) return prefix
  const matches = prefix ? ids.filter((id) => id.startsWith(prefix.toLowerCase())) : []
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) {
    throw new MlskelError('MLSKEL_MODEL_AMBIGUOUS', `model id ${quote(prefix)} matches ${matches.length} models: ${matches.join(', ')}`, { where: { file: modelsDir } })
  }
  const known = ids.length > 0 ? ` (models there: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})` : ' (it holds no model)'
  throw new MlskelError('MLSKEL_MODEL_NOT_FOUND', `no model with id ${quote(prefix)} in ${modelsDir}${known}`, { where: { file: modelsDir } })
}

async function readManifest(dir: string, id: string): Promise<ModelManifest> {
  const path = join(dir, MANIFEST_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${id}: ${MANIFEST_FILE} is missing or not JSON: ${(error as Error).message}`, { where: { file: path }, cause: error })
  }
  const parsed = manifestSchema.safeParse(raw)
  if (!parsed.success) {
    const { field, text } = describeIssues(parsed.error)
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${id}: ${MANIFEST_FILE} field ${text}`, { where: { file: path, field } })
  }
  if (parsed.data.id !== id) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model folder ${id} holds the manifest of model ${parsed.data.id}`, { where: { file: path, field: 'id' } })
  }
  return parsed.data
}

async function holds(dir: string, file: string, sha256: string): Promise<boolean> {
  try {
    return hashBytes(await readFile(join(dir, file))) === sha256
  } catch {
    return false
  }
}

/** Bytes of the model's files (its pending file is not the model's). */
async function folderSize(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name !== PENDING_FILE && !entry.name.startsWith(TEMP_PREFIX)) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}
