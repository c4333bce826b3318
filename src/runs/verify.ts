// `runs verify`: prove a training record by reproducing it. The recorded raw inputs must hash as recorded; then,
// in a clean temporary clone at the recorded commit (plus the recorded diff when the tree was dirty), with the
// recorded params and overrides, training runs again and its record must match: same model hash, same scores.
//
// The clone is `git clone --shared --no-checkout`: it borrows the repository's objects (instant, nothing copied)
// and, unlike `git worktree add`, leaves no trace in the user's .git (no worktree entry to prune after a crash,
// no hooks of theirs run). Training runs through this mlskel's runPipeline with the clone as root, so it is the
// project's own stage commands (tsx from its node_modules) and the project's own mlskel library that train.
import { copyFile, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { PassThrough, type Writable } from 'node:stream'
import { stringify as stringifyYaml } from 'yaml'
import { MlskelError, type ErrorCode } from '../errors/index.js'
import { hashBytes, hashFile } from '../hashing/index.js'
import { MANIFEST_FILE, MODEL_FILE, manifestSchema, modelHoldsFile } from '../models/index.js'
import { readRecord, trainingRecordFiles, type MetadataRecord } from '../metadata/index.js'
import { runPipeline, type StageOutput } from '../pipeline/index.js'
import { declaredOutputs, PROJECT_FILE } from '../project/index.js'
import { loadSettings, projectPaths, settingsSchema } from '../settings/index.js'
import { PARAMS_FILE } from '../params/index.js'
import { commitExists, git, repositoryOf } from './git.js'
import { loadRuns, resolveRun } from './load.js'

/** Scores are equal when they differ by no more than this (they are the same computation, so normally exactly). */
export const SCORE_TOLERANCE = 1e-12

/** The stage that trains: `mlskel run <it> --force` reproduces a record. */
export const TRAIN_STAGE = 'train'

export interface VerifyOptions {
  /** The project (default: found from the current folder). */
  root?: string
  /** Run id, unique prefix, or `latest`. */
  id: string
  /** Keep the temporary checkout for inspection (its path is in the result). */
  keep?: boolean
  /** Where the step lines and the re-run's progress go (default: nowhere). */
  progress?: Writable | null
  /** Where the training's own output goes; by default it is kept and its tail shown only if training fails. */
  output?: StageOutput
}

export interface Difference {
  /** model_hash, scores.<metric>.<split>, or input <path>. */
  field: string
  /** The recorded value; undefined when the record lacks it. */
  recorded?: unknown
  /** The value the re-run produced; undefined when it lacks it. */
  reproduced?: unknown
}

export interface VerifyResult {
  verified: boolean
  run_id: string
  /** verified; differs (exit 1): reproduced, differently; cannot_verify (exit 2): see reason. */
  status: 'verified' | 'differs' | 'cannot_verify'
  /** Why it could not verify. */
  reason?: string
  code?: ErrorCode
  fix?: string
  differences?: Difference[]
  /** The run id of the reproduction's record (in the checkout). */
  reproduced_run_id?: string
  /** The temporary checkout, when kept. */
  checkout?: string
  /** How it was verified: by training again (a trained model), or by its stored bytes (an imported one). */
  method: 'retrained' | 'bytes'
  /** What the method means, for an imported model. */
  note?: string
}

/** What `runs verify` says of every imported model, verified or not. */
export const IMPORTED_NOTE = 'an imported model is verified by its bytes, not by training it again: mlskel did not train it'

/** Exit codes of `runs verify`. */
export const VERIFY_EXIT = { verified: 0, differs: 1, cannot_verify: 2 } as const

/** A reason verification cannot go on: the run is neither proved nor disproved. */
class CannotVerify extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fix?: string,
  ) {
    super(message)
  }
}

/**
 * Verify the run `options.id`. An unknown or ambiguous id, or an invalid record, throws (MlskelError); every
 * other outcome is the result: verified, differs (with each difference), or cannot_verify (with the reason).
 */
export async function verifyRun(options: VerifyOptions): Promise<VerifyResult> {
  const { root, metadataDir, records } = await loadRuns(options.root)
  const record = resolveRun(records, options.id, metadataDir)
  const say = (line: string) => options.progress?.write(`verify: ${line}\n`)
  if (record.source === 'imported') return verifyImported(root, record, say)
  let checkout: string | undefined
  let keep = false
  try {
    // 1. the code: a git repository that holds the commit, and the diff when the tree was dirty
    say(`run ${record.run_id} (model ${record.model_id}, commit ${record.git.commit?.slice(0, 12) ?? 'none'}${record.git.dirty ? ', dirty' : ''})`)
    const repo = await repositoryOf(root)
    if (!repo) {
      const installed = (await git(root, ['--version'])).code === 0
      throw new CannotVerify('MLSKEL_VERIFY_NOT_GIT', installed ? `${root} is not in a git repository, so the recorded commit cannot be checked out` : 'git is not installed, so the recorded commit cannot be checked out')
    }
    const commit = record.git.commit
    if (!commit) throw new CannotVerify('MLSKEL_VERIFY_COMMIT_MISSING', `run ${record.run_id} records no commit: it was trained outside git or before the first commit`, 'Commit the code, train again, and verify that run.')
    if (!(await commitExists(root, commit))) {
      throw new CannotVerify('MLSKEL_VERIFY_COMMIT_MISSING', `commit ${commit} of run ${record.run_id} is not in the repository at ${repo.top} (rewritten history, or trained in another clone)`)
    }
    const patch = record.git.dirty ? await usableDiff(record, metadataDir) : undefined
    say(patch ? `code: commit ${commit.slice(0, 12)} plus the recorded diff (${patch.bytes} bytes)` : `code: commit ${commit.slice(0, 12)}, clean`)

    // 2. the raw inputs must be as they were; derived ones (a stage's outputs) are rebuilt and compared after
    const outs = await stageOutputs(root, repo.prefix, commit)
    const raw = record.data.inputs.filter((input) => !outs.some((out) => isUnder(input.path, out)))
    for (const input of raw) {
      const actual = await hashFile(resolve(root, input.path)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined
        throw error
      })
      if (actual === undefined) throw new CannotVerify('MLSKEL_VERIFY_INPUT_CHANGED', `not reproducible: ${input.path} is gone since training (sha256 was ${input.sha256})`)
      if (actual !== input.sha256) throw new CannotVerify('MLSKEL_VERIFY_INPUT_CHANGED', `not reproducible: ${input.path} changed since training (sha256 was ${input.sha256}, is ${actual})`)
    }
    say(`inputs: ${raw.length} raw input${raw.length === 1 ? '' : 's'} unchanged${raw.length ? ` (${raw.map((i) => i.path).join(', ')})` : ''}; ${record.data.inputs.length - raw.length} derived, rebuilt and compared`)

    // 3. a clean checkout of the commit, plus the diff, with the project's dependencies and raw data
    checkout = await mkdtemp(join(tmpdir(), 'mlskel-verify-'))
    keep = options.keep === true
    const top = join(checkout, 'repo')
    await must(git(root, ['clone', '--quiet', '--shared', '--no-checkout', repo.top, top]), 'git clone of the repository')
    await must(git(top, ['-c', 'core.hooksPath=/dev/null', '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', commit]), `git checkout ${commit.slice(0, 12)}`)
    const project = join(top, repo.prefix)
    if (patch) await applyDiff(project, top, patch.path)
    if (!(await exists(join(project, PROJECT_FILE)))) throw new CannotVerify('MLSKEL_VERIFY_CHECKOUT_FAILED', `commit ${commit.slice(0, 12)} has no ${repo.prefix}${PROJECT_FILE}: the project was not there yet`)
    say(`checkout: ${project}`)
    await linkDependencies(root, project)
    for (const input of raw) {
      // an external input (mlskel.yaml's `external:`) is read in place, by its absolute path, there as here
      if (isOutside(input.path)) continue
      const target = join(project, input.path)
      const there = await hashFile(target).catch(() => undefined)
      if (there === input.sha256) continue
      // not tracked at that commit (or different there): the project's copy, proved unchanged in step 2
      await mkdir(dirname(target), { recursive: true })
      await copyFile(join(root, input.path), target)
    }
    await writeParams(project, record)

    // 4. train there, as the project does
    const checkoutMetadata = projectPaths(project, loadSettings(settingsSchema, { root: project })).metadata
    // names only: the records committed at that commit are not this verification's business, valid or not
    const before = new Set(await trainingRecordFiles(checkoutMetadata))
    say(`training: mlskel run ${TRAIN_STAGE} --force${Object.keys(record.overrides).length ? ` with --set ${Object.entries(record.overrides).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}` : ''}`)
    const captured = captureOutput()
    const summary = await runPipeline({
      root: project,
      stages: [TRAIN_STAGE],
      force: true,
      overrides: record.overrides,
      progress: options.progress ?? null,
      output: options.output ?? captured.output,
      argv: ['runs', 'verify', record.run_id],
      env: withoutOverrides(process.env),
    }).catch((error: unknown) => {
      if (error instanceof MlskelError) throw new CannotVerify('MLSKEL_VERIFY_TRAINING_FAILED', `the pipeline at commit ${commit.slice(0, 12)} could not start: ${error.code}: ${error.message}`)
      throw error
    })
    if (summary.error) {
      const tail = captured.text().trim().split('\n').slice(-15).join('\n')
      throw new CannotVerify('MLSKEL_VERIFY_TRAINING_FAILED', `training in the checkout failed: ${summary.error.code}: ${summary.error.message}${tail ? `\n${tail}` : ''}`)
    }
    const fresh = (await trainingRecordFiles(checkoutMetadata)).filter((name) => !before.has(name)).sort()
    const newest = fresh.at(-1)
    const reproduced = newest === undefined ? undefined : await readRecord(join(checkoutMetadata, newest))
    if (!reproduced) throw new CannotVerify('MLSKEL_VERIFY_TRAINING_FAILED', `training in the checkout ran but wrote no record in ${checkoutMetadata}`)

    // 5. compare; and the model kept in the project must be the one recorded (its bytes, not only its manifest)
    const differences = compareRuns(record, reproduced)
    const stored = await hashFile(join(root, record.model_location, MODEL_FILE)).catch(() => undefined)
    if (stored !== undefined && stored !== record.model_hash) {
      differences.push({ field: `stored ${record.model_location}/${MODEL_FILE}`, recorded: record.model_hash, reproduced: stored })
      say(`the stored model ${record.model_location}/${MODEL_FILE} is not the recorded model: sha256 ${stored}`)
    }
    say(differences.length === 0 ? `reproduced: model ${reproduced.model_id}, same model hash and scores` : `reproduced differently: ${differences.length} difference${differences.length === 1 ? '' : 's'}`)
    return {
      verified: differences.length === 0,
      run_id: record.run_id,
      status: differences.length === 0 ? 'verified' : 'differs',
      ...(differences.length > 0 ? { differences } : {}),
      reproduced_run_id: reproduced.run_id,
      ...(keep ? { checkout } : {}),
      method: 'retrained',
    }
  } catch (error) {
    if (!(error instanceof CannotVerify)) throw error
    say(`cannot verify: ${error.message.split('\n')[0]}`)
    return { verified: false, run_id: record.run_id, status: 'cannot_verify', reason: error.message, code: error.code, fix: error.fix ?? catalogFix(error.code), ...(keep && checkout ? { checkout } : {}), method: 'retrained' }
  } finally {
    if (checkout && !keep) await rm(checkout, { recursive: true, force: true }).catch(() => undefined)
  }
}

/**
 * Verify an imported model by its bytes: mlskel did not train it, so there is nothing to train again. The model folder
 * must hold model.json as recorded (model_hash), the original file as it was imported (imported.sha256 and size, which
 * model.json names too), and model.json's model must be that file's (the kind's holdsFile: XGBoost's JSON value for
 * value, an ONNX file to the byte). A folder or original file that is not there cannot be verified (exit 2).
 */
async function verifyImported(root: string, record: MetadataRecord, say: (line: string) => void): Promise<VerifyResult> {
  const imported = record.imported!
  const base = { run_id: record.run_id, method: 'bytes' as const, note: IMPORTED_NOTE }
  say(`run ${record.run_id}: model ${record.model_id}, imported from ${imported.file} (${imported.tool} ${imported.tool_version}); ${IMPORTED_NOTE}`)
  const dir = resolve(root, record.model_location)
  const cannot = (why: string): VerifyResult => {
    say(`cannot verify: ${why}`)
    return { ...base, verified: false, status: 'cannot_verify', reason: why, code: 'MLSKEL_VERIFY_IMPORT_MISSING', fix: catalogFix('MLSKEL_VERIFY_IMPORT_MISSING') }
  }
  const manifestText = await readFile(join(dir, MANIFEST_FILE), 'utf8').catch(() => undefined)
  if (manifestText === undefined) return cannot(`the model folder ${record.model_location} (or its ${MANIFEST_FILE}) is not there`)
  let parsedJson: unknown
  try {
    parsedJson = JSON.parse(manifestText)
  } catch {
    parsedJson = undefined
  }
  const manifest = manifestSchema.safeParse(parsedJson)
  const source = manifest.success ? manifest.data.files.source : undefined
  if (!source) return cannot(`${record.model_location}/${MANIFEST_FILE} names no original file (files.source): the folder is not the one the import wrote`)
  const bytes = await readFile(join(dir, source.path)).catch(() => undefined)
  if (bytes === undefined) return cannot(`the original file ${record.model_location}/${source.path} is not there`)

  const differences: Difference[] = []
  const modelHash = await hashFile(join(dir, MODEL_FILE)).catch(() => undefined)
  if (modelHash !== record.model_hash) differences.push({ field: `model_hash (${record.model_location}/${MODEL_FILE})`, recorded: record.model_hash, ...(modelHash ? { reproduced: modelHash } : {}) })
  const sha256 = hashBytes(bytes)
  if (sha256 !== imported.sha256) differences.push({ field: `imported.sha256 (${record.model_location}/${source.path})`, recorded: imported.sha256, reproduced: sha256 })
  if (bytes.length !== imported.size) differences.push({ field: `imported.size (${record.model_location}/${source.path})`, recorded: imported.size, reproduced: bytes.length })
  if (modelHash !== undefined) {
    // the kind's own word on whether model.json's model is that file (a model.json edited with its manifest and record aside)
    const holds = await modelHoldsFile(dirname(dir), basename(dir), bytes).catch(() => false)
    if (holds === false) differences.push({ field: `${record.model_location}/${MODEL_FILE} holds the imported file`, recorded: true, reproduced: false })
  }
  say(differences.length === 0 ? `verified by its bytes: ${MODEL_FILE} is the recorded model and ${source.path} the imported file (sha256 ${sha256.slice(0, 12)}…)` : `not verified: ${differences.length} difference${differences.length === 1 ? '' : 's'}`)
  return { ...base, verified: differences.length === 0, status: differences.length === 0 ? 'verified' : 'differs', ...(differences.length > 0 ? { differences } : {}) }
}

/** What differs between a record and its reproduction: the model's hash, each score, each derived input's hash. */
export function compareRuns(recorded: MetadataRecord, reproduced: MetadataRecord): Difference[] {
  const out: Difference[] = []
  if (recorded.model_hash !== reproduced.model_hash) out.push({ field: 'model_hash', recorded: recorded.model_hash, reproduced: reproduced.model_hash })
  const metrics = [...new Set([...Object.keys(recorded.scores), ...Object.keys(reproduced.scores)])].sort()
  for (const metric of metrics) {
    const a = recorded.scores[metric] ?? {}
    const b = reproduced.scores[metric] ?? {}
    for (const split of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const x = a[split]
      const y = b[split]
      if (x !== undefined && y !== undefined && Math.abs(x - y) <= SCORE_TOLERANCE) continue
      out.push({ field: `scores.${metric}.${split}`, ...(x !== undefined ? { recorded: x } : {}), ...(y !== undefined ? { reproduced: y } : {}) })
    }
  }
  const now = new Map(reproduced.data.inputs.map((i) => [i.path, i.sha256]))
  for (const input of recorded.data.inputs) {
    const sha = now.get(input.path)
    if (sha !== input.sha256) out.push({ field: `input ${input.path}`, recorded: input.sha256, ...(sha !== undefined ? { reproduced: sha } : {}) })
  }
  return out
}

/** The record's diff file, checked: present, whole, and the bytes recorded. */
async function usableDiff(record: MetadataRecord, metadataDir: string): Promise<{ path: string; bytes: number }> {
  const diff = (record.git as { diff?: { file?: string | null; sha256?: string; bytes?: number; cap_bytes?: number; truncated?: boolean } | null }).diff
  const dirtyWithout = (why: string) => new CannotVerify('MLSKEL_VERIFY_DIFF_MISSING', `run ${record.run_id} was trained from uncommitted changes, and ${why}`)
  if (!diff) throw dirtyWithout('no diff of them was recorded')
  if (diff.truncated || !diff.file) throw dirtyWithout(`their diff (${diff.bytes ?? '?'} bytes) was over the cap of ${diff.cap_bytes ?? '?'} bytes, so it was not saved`)
  const path = join(metadataDir, diff.file)
  const sha = await hashFile(path).catch(() => undefined)
  if (sha === undefined) throw dirtyWithout(`their diff file ${path} is missing`)
  if (diff.sha256 && sha !== diff.sha256) throw dirtyWithout(`their diff file ${path} changed since (sha256 was ${diff.sha256}, is ${sha})`)
  return { path, bytes: diff.bytes ?? (await stat(path)).size }
}

/**
 * Apply the recorded diff. Its paths are relative to the repository's top (git's default), so it is applied
 * there: `git apply` run in a subfolder would skip paths silently. A patch relative to the project root (a
 * project in a subfolder, written with --relative) is tried there when it does not apply at the top.
 */
async function applyDiff(project: string, top: string, patch: string): Promise<void> {
  const args = ['apply', '--binary', '--whitespace=nowarn', patch]
  const atTop = await git(top, args)
  if (atTop.code === 0) return
  if (project !== top && (await git(project, ['apply', '--check', '--binary', patch])).code === 0) return void (await must(git(project, args), 'git apply of the recorded diff'))
  throw new CannotVerify('MLSKEL_VERIFY_CHECKOUT_FAILED', `the recorded diff does not apply to the commit's files: ${atTop.stderr.trim().split('\n').slice(0, 3).join(' ')}`)
}

/** node_modules (a link to the project's), and .env (local settings such as folder paths), as the project has them. */
async function linkDependencies(root: string, project: string): Promise<void> {
  const modules = join(root, 'node_modules')
  if (!(await exists(modules))) throw new CannotVerify('MLSKEL_VERIFY_TRAINING_FAILED', `${modules} does not exist: the project's dependencies are needed to train`, 'Install the project\'s dependencies (npm install), then verify again.')
  if (!(await exists(join(project, 'node_modules')))) await symlink(modules, join(project, 'node_modules'), 'dir')
  const env = join(root, '.env')
  if ((await exists(env)) && !(await exists(join(project, '.env')))) await copyFile(env, join(project, '.env'))
}

/** Whether a recorded input path leaves the project: copying it into the checkout would write outside it. */
function isOutside(path: string): boolean {
  return isAbsolute(path) || path === '..' || path.startsWith('../')
}

/** params.yaml as the record resolved it (overrides included; they are passed again so the new record lists them). */
async function writeParams(project: string, record: MetadataRecord): Promise<void> {
  if (record.params === null || typeof record.params !== 'object') return
  const header = `# params.yaml as resolved for run ${record.run_id}, written by mlskel runs verify\n`
  await writeFile(join(project, PARAMS_FILE), header + stringifyYaml(record.params))
}

/** Every stage's outputs, from mlskel.yaml at the commit (the project's copy when git cannot show it). */
async function stageOutputs(root: string, prefix: string, commit: string): Promise<string[]> {
  const shown = await git(root, ['show', `${commit}:${prefix}${PROJECT_FILE}`])
  return declaredOutputs(root, shown.code === 0 ? shown.stdout : undefined)
}

function isUnder(path: string, folder: string): boolean {
  const f = folder.replace(/^\.\//, '').replace(/\/+$/, '')
  return path === f || path.startsWith(`${f}/`)
}

async function must(pending: ReturnType<typeof git>, what: string): Promise<void> {
  const result = await pending
  if (result.code !== 0) throw new CannotVerify('MLSKEL_VERIFY_CHECKOUT_FAILED', `${what} failed: ${result.stderr.trim().split('\n').slice(0, 3).join(' ')}`)
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  )
}

function captureOutput(): { output: StageOutput; text: () => string } {
  const chunks: string[] = []
  const stream = () => new PassThrough().on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  return { output: { stdout: stream(), stderr: stream() }, text: () => chunks.join('') }
}

/** The overrides come from the record, never from a MLSKEL_SET left in the caller's environment. */
function withoutOverrides(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MLSKEL_SET: _ignored, ...rest } = env
  return rest
}

function catalogFix(code: ErrorCode): string {
  return new MlskelError(code, '').fix
}
