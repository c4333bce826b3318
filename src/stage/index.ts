// The hand-off from `mlskel run` to a stage's process, in one direction: before it starts a stage, the runner writes
// one JSON file (its path in MLSKEL_STAGE) saying which run this is, what the stage writes, what every stage writes,
// the --set overrides, and the content hash of every file of the stage's deps, which it has just computed. A stage's
// script reads it once, through stageContext, and hands what it needs to the library as explicit options
// (recordTraining's runId, command, overrides, exclude): no library function reads the environment or argv,
// re-reads mlskel.yaml, or hashes a file the runner already hashed. Run outside `mlskel run` (a test, by hand), the
// context is made on the spot: a new run id, the files hashed when asked.
import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { MlskelError, quote } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'
import { hashFile } from '../hashing/index.js'
import { declaredOutputs, STATE_DIR } from '../project/index.js'

/** The environment variable holding the hand-off file's path. */
export const STAGE_ENV = 'MLSKEL_STAGE'
export const HANDOFF_VERSION = 1

/** A run id: UTC time to the millisecond, then a random suffix; sorts by time as text. */
export const RUN_ID_PATTERN = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/

let lastRunTime = 0

/** A new run id, later than any this process made before. */
export function newRunId(now = new Date()): string {
  const time = Math.max(now.getTime(), lastRunTime + 1)
  lastRunTime = time
  return `${new Date(time).toISOString().replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`
}

export interface StageHandoff {
  handoff_version: typeof HANDOFF_VERSION
  /** The stage's name in mlskel.yaml. */
  stage: string
  /** This run of the stage: a record it writes is named after it, and mlskel.lock's entry names it. */
  run_id: string
  /** The stage's outs, project-relative. */
  outs: string[]
  /** Every stage's outs: files the pipeline writes, which never make the code dirty. */
  pipeline_outs: string[]
  /** The --set overrides that reach this stage. */
  overrides: Record<string, unknown>
  /** SHA-256 of each file of the stage's deps, by path (project-relative; an external input's absolute). */
  deps: Record<string, string>
}

/** Where the runner writes a stage's hand-off. */
export function handoffPath(root: string, runId: string): string {
  return join(root, STATE_DIR, 'stages', `${runId}.json`)
}

/** Write the hand-off (atomically) for a stage about to start; returns the environment entry that names it. */
export async function writeHandoff(root: string, handoff: StageHandoff): Promise<Record<string, string>> {
  const path = handoffPath(root, handoff.run_id)
  await writeFileAtomic(path, `${JSON.stringify(handoff)}\n`)
  return { [STAGE_ENV]: path }
}

export async function removeHandoff(root: string, runId: string): Promise<void> {
  await rm(handoffPath(root, runId), { force: true })
}

/** The hand-off named by `env`, or undefined when this process was not started by `mlskel run`. */
export async function readHandoff(env: NodeJS.ProcessEnv): Promise<StageHandoff | undefined> {
  const path = env[STAGE_ENV]
  if (!path) return undefined
  let data: unknown
  try {
    data = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new MlskelError('MLSKEL_STAGE_HANDOFF_INVALID', `${STAGE_ENV} names ${quote(path)}, which cannot be read as the stage's hand-off: ${(error as Error).message}`, { where: { file: path } })
  }
  const h = data as Partial<StageHandoff> | null
  const ok =
    h !== null &&
    typeof h === 'object' &&
    h.handoff_version === HANDOFF_VERSION &&
    typeof h.stage === 'string' &&
    typeof h.run_id === 'string' &&
    RUN_ID_PATTERN.test(h.run_id) &&
    Array.isArray(h.outs) &&
    Array.isArray(h.pipeline_outs) &&
    isRecord(h.overrides) &&
    isRecord(h.deps) &&
    Object.values(h.deps).every((v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v))
  if (!ok) throw new MlskelError('MLSKEL_STAGE_HANDOFF_INVALID', `${quote(path)} is not a stage hand-off of version ${HANDOFF_VERSION} (written by another mlskel?)`, { where: { file: path } })
  return h as StageHandoff
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** What a stage's script knows of its run, whether `mlskel run` started it or not. */
export interface StageContext {
  /** The stage's name, when `mlskel run` started it. */
  stage: string | undefined
  runId: string
  /** How the script was started, without the machine's paths (project-relative, or file names outside it). */
  command: string[]
  overrides: Record<string, unknown>
  /** What the pipeline writes (every stage's outs): never code, so never in a record's diff. */
  pipelineOutputs: string[]
  /** A file's SHA-256: the runner's, for a file of the stage's deps; else hashed now. */
  hash(path: string): Promise<string>
}

export interface StageContextOptions {
  root: string
  /** Where the hand-off is named (MLSKEL_STAGE); pass process.env. */
  env: NodeJS.ProcessEnv
  /** The script's command line; pass process.argv. */
  argv: readonly string[]
  /** Overrides to use when not started by `mlskel run` (a test's, or a script's own). */
  overrides?: Record<string, unknown>
}

/** The stage's context: from the runner's hand-off, or made now when there is none. */
export async function stageContext(o: StageContextOptions): Promise<StageContext> {
  const handoff = await readHandoff(o.env)
  const deps = new Map(Object.entries(handoff?.deps ?? {}).map(([path, sha]) => [isAbsolute(path) ? path : resolve(o.root, path), sha]))
  return {
    stage: handoff?.stage,
    runId: handoff?.run_id ?? newRunId(),
    command: portableCommand(o.argv, o.root),
    overrides: handoff?.overrides ?? o.overrides ?? {},
    pipelineOutputs: handoff?.pipeline_outs ?? (await declaredOutputs(o.root)),
    hash: async (path) => deps.get(resolve(o.root, path)) ?? hashFile(resolve(o.root, path)),
  }
}

/**
 * A command line without the machine's paths: paths inside `root` relative to it (posix), others by file name (a
 * record travels to other machines, and the server shows its command).
 */
export function portableCommand(argv: readonly string[], root: string | undefined): string[] {
  return argv.map((arg) => {
    if (!isAbsolute(arg)) return arg
    if (root === undefined) return basename(arg)
    const rel = relative(root, arg)
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : basename(arg)
  })
}
