// The `models` and `model-size` rules of `mlskel check`: every model folder is described by a training record,
// every record's model is present (or knowingly not committed) and hashes as recorded, and models stay small.
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { describeIssues } from '../../errors/index.js'
import { TEMP_PREFIX } from '../../fs/index.js'
import type { Hasher } from '../../hashing/index.js'
import { metadataRecordSchema, trainingRecordFiles, type MetadataRecord } from '../../metadata/index.js'
import { MANIFEST_FILE, MODEL_FILE, manifestSchema, readPending } from '../../models/index.js'
import { isProcessAlive, runText } from '../../process/index.js'
import type { CheckContext, Finding, Rule } from '../types.js'

/** A folder of the models folder that should hold one trained model. */
interface ModelFolder {
  /** Absolute. */
  dir: string
  /** Relative to the project root, with / separators: what findings name. */
  rel: string
  name: string
}

/** A training record that validated, and the file it came from. */
interface TrainingRecord {
  /** Relative to the project root. */
  file: string
  record: MetadataRecord
  /** model_location, normalised (no ./, no trailing /, / separators). */
  location: string
}

export const modelsRule: Rule = {
  id: 'models',
  title: 'models and their records',
  async run(context) {
    const [folders, { records, findings }] = await Promise.all([modelFolders(context), trainingRecords(context)])
    findings.push(...(await orphanFolders(folders, records)))
    findings.push(...(await checkRecordedModels(context, folders, records)))
    findings.push(...columnTypeChanges(records))
    return { findings, summary: `${count(folders.length, 'model')}, ${count(records.length, 'record')}` }
  },
}

export const modelSizeRule: Rule = {
  id: 'model-size',
  title: 'model size',
  async run(context) {
    const limitMb = context.config.model_size_mb
    const findings: Finding[] = []
    let largest: { folder: ModelFolder; bytes: number } | undefined
    for (const folder of await modelFolders(context)) {
      const files = await filesUnder(folder.dir)
      const bytes = files.reduce((total, f) => total + f.bytes, 0)
      if (!largest || bytes > largest.bytes) largest = { folder, bytes }
      if (bytes > limitMb * 1e6) {
        findings.push({ level: 'warning', code: 'MLSKEL_CHECK_MODEL_TOO_LARGE', file: folder.rel, message: `model folder ${folder.rel} holds ${formatSize(bytes)}, more than the limit of ${limitMb} MB (checks.model_size_mb)` })
      }
      const data = files.filter((f) => DATA_EXTENSIONS.has(extname(f.rel).toLowerCase())).map((f) => f.rel)
      if (data.length > 0) findings.push(dataInside(folder, data))
    }
    const summary = largest ? `largest model ${formatSize(largest.bytes)} (${largest.folder.rel}), limit ${limitMb} MB` : 'no models'
    return { findings, summary }
  },
}

/** Extensions of tabular and array data: a model folder holding such files likely carries its training data. */
const DATA_EXTENSIONS = new Set(['.csv', '.parquet', '.arrow', '.feather', '.npy', '.jsonl'])

function dataInside(folder: ModelFolder, files: string[]): Finding {
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? `, and ${files.length - 3} more` : '')
  return {
    level: 'warning',
    code: 'MLSKEL_CHECK_MODEL_TOO_LARGE',
    file: folder.rel,
    message: `model folder ${folder.rel} contains data files (${shown}); a model should not carry its training data`,
    fix: `Remove the data files from ${folder.rel} and have training write only ${MODEL_FILE} and ${MANIFEST_FILE} there; data belongs in data/.`,
  }
}

// 1. what is on disk: model folders and training records

/** The model folders: every folder of paths.models but the metadata folder, temp folders and hidden ones. */
async function modelFolders(context: CheckContext): Promise<ModelFolder[]> {
  let entries
  try {
    entries = await readdir(context.paths.models, { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith(TEMP_PREFIX))
    .map((e) => ({ name: e.name, dir: join(context.paths.models, e.name) }))
    .filter((f) => resolve(f.dir) !== resolve(context.paths.metadata))
    .map((f) => ({ ...f, rel: projectPath(context.root, f.dir) }))
    .sort((a, b) => (a.rel < b.rel ? -1 : 1))
}

/** Every training record, validated; one that does not validate is a finding rather than a record. */
async function trainingRecords(context: CheckContext): Promise<{ records: TrainingRecord[]; findings: Finding[] }> {
  const records: TrainingRecord[] = []
  const findings: Finding[] = []
  for (const name of await trainingRecordFiles(context.paths.metadata)) {
    const file = projectPath(context.root, join(context.paths.metadata, name))
    const read = await readTrainingRecord(join(context.paths.metadata, name))
    if ('problem' in read) findings.push({ level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file, message: `training record ${file} ${read.problem}` })
    else if (read.record.run_id !== name.slice(0, -'.json'.length)) {
      // a record copied or renamed under another run's name would pass for that run
      findings.push({ level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file, message: `training record ${file} holds run ${read.record.run_id}: a record is named by its run id (was it copied or renamed?)` })
    } else records.push({ file, record: read.record, location: normaliseLocation(read.record.model_location) })
  }
  return { records, findings }
}

async function readTrainingRecord(path: string): Promise<{ record: MetadataRecord } | { problem: string }> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    return { problem: `is not valid JSON: ${(error as Error).message}` }
  }
  const parsed = metadataRecordSchema.safeParse(raw)
  if (parsed.success) return { record: parsed.data }
  return { problem: `is invalid: ${describeIssues(parsed.error, 3).text}` }
}

/**
 * Columns whose type differs between the newest training and the one before it: a type is inferred from the data,
 * so one new value (a letter among a zip code's digits) can turn a numeric column categorical without a word.
 */
function columnTypeChanges(records: readonly TrainingRecord[]): Finding[] {
  const trained = records.filter((r) => r.record.data.columns !== undefined).sort((a, b) => (a.record.run_id < b.record.run_id ? 1 : -1))
  const [newest, previous] = trained
  if (!newest || !previous) return []
  const before = new Map(previous.record.data.columns!.map((c) => [c.name, c.type]))
  return newest.record.data.columns!.flatMap((c): Finding[] => {
    const was = before.get(c.name)
    if (was === undefined || was === c.type) return []
    return [
      {
        level: 'warning',
        code: 'MLSKEL_CHECK_COLUMN_TYPE_CHANGED',
        file: newest.file,
        message: `column ${JSON.stringify(c.name)} was ${was} in run ${previous.record.run_id} and is ${c.type} in the newest run ${newest.record.run_id}`,
      },
    ]
  })
}

// 2. folders no record names

async function orphanFolders(folders: ModelFolder[], records: TrainingRecord[]): Promise<Finding[]> {
  const locations = new Set(records.map((r) => r.location))
  const ids = new Set(records.map((r) => r.record.model_id))
  const orphans = folders.filter((folder) => !locations.has(folder.rel) && !ids.has(folder.name))
  return Promise.all(orphans.map((folder) => orphanFinding(folder)))
}

/** A model folder no record names: saved by a training still under way, left by one that died, or just unrecorded. */
async function orphanFinding(folder: ModelFolder): Promise<Finding> {
  const pending = await readPending(folder.dir).catch(() => undefined)
  if (pending && pending.pid > 0 && isProcessAlive(pending.pid)) {
    return { level: 'info', code: 'MLSKEL_CHECK_MODEL_ORPHAN', file: folder.rel, message: `model folder ${folder.rel} is being saved by a training under way (pid ${pending.pid}); its record is not written yet`, fix: 'Nothing to fix: check again once the training has ended.' }
  }
  if (pending) {
    return {
      level: 'error',
      code: 'MLSKEL_CHECK_MODEL_ORPHAN',
      file: folder.rel,
      message: `model folder ${folder.rel} was left by a training that stopped before writing its record (pid ${pending.pid}, no longer running): the model was never committed`,
      fix: 'Train again (`mlskel run train`): the next save removes the uncommitted model; or delete the folder.',
    }
  }
  return { level: 'error', code: 'MLSKEL_CHECK_MODEL_ORPHAN', file: folder.rel, message: `model folder ${folder.rel} is not named by any training record (by model_location or model_id)` }
}

// 3. each record's model: present and hashing as recorded, or absent because models are not committed

async function checkRecordedModels(context: CheckContext, folders: ModelFolder[], records: TrainingRecord[]): Promise<Finding[]> {
  const findings: Finding[] = []
  const missing: TrainingRecord[] = []
  // a folder is hashed and its manifest read once, however many records name it
  const checked = new Map<string, Promise<FolderState>>()
  for (const entry of records) {
    const folder = await folderOf(context.root, folders, entry)
    if (!folder) {
      missing.push(entry)
      continue
    }
    if (!checked.has(folder.rel)) checked.set(folder.rel, folderState(context, folder))
    const state = await checked.get(folder.rel)!
    if (state.modelHash !== undefined && state.modelHash !== entry.record.model_hash) {
      findings.push({
        level: 'error',
        code: 'MLSKEL_CHECK_MODEL_MISMATCH',
        file: `${folder.rel}/${MODEL_FILE}`,
        message: `${folder.rel}/${MODEL_FILE} has SHA-256 ${short(state.modelHash)}, but training record ${entry.file} says ${short(entry.record.model_hash)} (model_hash): the model or the record changed`,
      })
    }
  }
  for (const state of await Promise.all(checked.values())) findings.push(...state.findings)
  findings.push(...(await absentModels(context.root, missing)))
  return findings
}

/** The record's folder: model_location, else a folder of the models folder named by model_id. */
async function folderOf(root: string, folders: ModelFolder[], entry: TrainingRecord): Promise<ModelFolder | undefined> {
  const found = folders.find((f) => f.rel === entry.location) ?? folders.find((f) => f.name === entry.record.model_id)
  if (found) return found
  // a location outside the models folder is unusual, but the record is the authority on where its model is
  const dir = resolve(root, entry.location)
  const info = await stat(dir).catch(() => undefined)
  return info?.isDirectory() ? { dir, rel: projectPath(root, dir), name: entry.record.model_id } : undefined
}

interface FolderState {
  /** SHA-256 of model.json; undefined when it cannot be read. */
  modelHash: string | undefined
  findings: Finding[]
}

/** model.json's hash (through the shared stat cache) and whether the manifest agrees with it. */
async function folderState(context: CheckContext, folder: ModelFolder): Promise<FolderState> {
  const hasher = await context.hasher()
  let modelHash: string
  try {
    modelHash = await hasher.file(join(folder.dir, MODEL_FILE))
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(error as Error).message}`
    return { modelHash: undefined, findings: [mismatch(`${folder.rel}/${MODEL_FILE}`, `${folder.rel}/${MODEL_FILE} ${why}`)] }
  }
  const manifestFile = `${folder.rel}/${MANIFEST_FILE}`
  const manifest = await readManifestHash(join(folder.dir, MANIFEST_FILE))
  if ('problem' in manifest) return { modelHash, findings: [mismatch(manifestFile, `${manifestFile} ${manifest.problem}`)] }
  const findings: Finding[] = []
  if (manifest.sha256 !== modelHash) findings.push(mismatch(manifestFile, `${folder.rel}/${MODEL_FILE} has SHA-256 ${short(modelHash)}, but ${manifestFile} says ${short(manifest.sha256)} (files.model.sha256): the model changed after it was saved`))
  if (manifest.source) findings.push(...(await sourceFindings(hasher, folder, manifest.source)))
  return { modelHash, findings }
}

/** An imported model's original file (files.source): there, and the bytes that were imported. */
async function sourceFindings(hasher: Hasher, folder: ModelFolder, source: { path: string; sha256: string }): Promise<Finding[]> {
  const file = `${folder.rel}/${source.path}`
  const actual = await hasher.file(join(folder.dir, source.path)).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : Promise.reject(error)))
  if (actual === null) return [mismatch(file, `${file}, the imported model's original file, does not exist (${MANIFEST_FILE} names it)`)]
  if (actual === source.sha256) return []
  return [mismatch(file, `${file} has SHA-256 ${short(actual)}, but ${folder.rel}/${MANIFEST_FILE} says ${short(source.sha256)} (files.source.sha256): the imported file changed after it was imported`)]
}

async function readManifestHash(path: string): Promise<{ sha256: string; source?: { path: string; sha256: string } } | { problem: string }> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    return { problem: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `is not valid JSON: ${(error as Error).message}` }
  }
  const parsed = manifestSchema.safeParse(raw)
  if (parsed.success) return { sha256: parsed.data.files.model.sha256, ...(parsed.data.files.source ? { source: parsed.data.files.source } : {}) }
  return { problem: `is invalid: ${describeIssues(parsed.error).text}` }
}

function mismatch(file: string, message: string): Finding {
  return { level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file, message }
}

/**
 * Records whose model is absent. The template's .gitignore ignores models/* but keeps models/metadata/, so on a
 * fresh clone every model is legitimately absent: that is a note. An absent model that git would track is lost.
 */
async function absentModels(root: string, missing: TrainingRecord[]): Promise<Finding[]> {
  if (missing.length === 0) return []
  const ignored = await gitIgnored(root, missing.map((m) => m.location))
  const findings: Finding[] = missing
    .filter((m) => !ignored.has(m.location))
    .map((m) => ({ level: 'error', code: 'MLSKEL_CHECK_RECORD_ORPHAN', file: m.file, message: `training record ${m.file} names model folder ${m.location}, which does not exist` }))
  const notCommitted = missing.filter((m) => ignored.has(m.location))
  if (notCommitted.length > 0) findings.push(notCommittedNote(notCommitted))
  return findings
}

// one note for all of them: a clone with fifty records should not print fifty lines saying the same thing
function notCommittedNote(records: TrainingRecord[]): Finding {
  const how = 'models are not committed (git ignores them); `mlskel run train` rebuilds the newest, `mlskel runs verify <run id>` reproduces any'
  const fix = 'Nothing to fix: run `mlskel run train` to rebuild the newest model, or `mlskel runs verify <run id> --keep` to reproduce one.'
  if (records.length === 1) {
    const [only] = records as [TrainingRecord]
    return { level: 'info', code: 'MLSKEL_CHECK_RECORD_ORPHAN', file: only.location, message: `model ${only.location} of run ${only.record.run_id} is not present here: ${how}`, fix }
  }
  const runs = records.slice(0, 3).map((r) => r.record.run_id).join(', ') + (records.length > 3 ? `, and ${records.length - 3} more` : '')
  return { level: 'info', code: 'MLSKEL_CHECK_RECORD_ORPHAN', message: `the models of ${records.length} training records (runs ${runs}) are not present here: ${how}`, fix }
}

/** Which of these project folders git ignores; none outside a git work tree or without git. */
async function gitIgnored(root: string, folders: string[]): Promise<Set<string>> {
  // one `git check-ignore --stdin` for all: it exits 1 when none is ignored, 128 outside a repository. The trailing
  // / says "a folder": the folders are gone, and only so do folder patterns (`!models/keep/`) apply
  const result = await runText('git', ['check-ignore', '--stdin', '-z'], { cwd: root, input: folders.map((p) => `${p}/\0`).join('') })
  return result.code === 0 ? new Set(result.stdout.split('\0').filter(Boolean).map((p) => p.replace(/\/$/, ''))) : new Set()
}

// helpers

async function filesUnder(dir: string): Promise<{ rel: string; bytes: number }[]> {
  const files: { rel: string; bytes: number }[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    files.push({ rel: relative(dir, path).split(sep).join('/'), bytes: (await stat(path)).size })
  }
  return files
}

function projectPath(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/')
}

/** model_location as the project writes it: relative, / separators, no ./ or trailing /. */
function normaliseLocation(location: string): string {
  const posix = location.replace(/\\/g, '/')
  if (isAbsolute(location)) return posix.replace(/\/+$/, '')
  return posix.split('/').filter((part) => part !== '' && part !== '.').join('/')
}

function short(sha256: string): string {
  return `${sha256.slice(0, 12)}…`
}

/** Sizes in decimal units, as checks.model_size_mb counts them (10^6 bytes to the MB). */
function formatSize(bytes: number): string {
  if (bytes < 1e3) return `${bytes} bytes`
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`
  return `${(bytes / 1e6).toFixed(1)} MB`
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}
