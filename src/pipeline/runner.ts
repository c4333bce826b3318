// `mlskel run` as a library call: select the stages, decide for each whether it must run (and say why), run it
// through the shell, and record each success in mlskel.lock at once, so a later failure loses nothing.
import { readdir, stat } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import type { Writable } from 'node:stream'
import { MlskelError, quote } from '../errors/index.js'
import { sweepStaleTemps, type SweepTarget } from '../fs/index.js'
import { Hasher, listFiles } from '../hashing/index.js'
import { canonicalJson } from '../json/index.js'
import type { Overrides } from '../params/index.js'
import { StateCache } from './cache.js'
import { shellQuote, signalNumber, stageEnv, startCommand, type StageOutput, type StartedCommand } from './execute.js'
import { selectStages, type Pipeline, type Stage } from './graph.js'
import { loadPipeline } from './load.js'
import { readLockFile, writeLockFile, type StageRecord } from './lock.js'
import { Reporter, type StageSummary } from './reporter.js'
import { acquireRunLock, type RunLock } from './run-lock.js'
import { HASH_CACHE_FILE, PROJECT_FILE } from '../project/files.js'
import type { StageHandoff } from '../stage/index.js'

/** The hash cache, beside the run lock in mlskel's own (uncommitted) state folder. */
export { HASH_CACHE_FILE }
/** Set in each stage's environment to the stage's name. */

export interface RunPipelineOptions {
  /** The project root (the folder holding mlskel.yaml). */
  root: string
  /** Stages to run, with their upstream stages; all when empty. */
  stages?: readonly string[]
  /** Arguments appended, shell-quoted, to the named stages' commands (`mlskel run train -- --fast`). */
  args?: readonly string[]
  /** Run the named stages (all when none are named) even when up to date. */
  force?: boolean
  /** Say what would run and why; run nothing, write nothing, take no lock. */
  dryRun?: boolean
  /** Also run the stages that depend on the named ones. */
  downstream?: boolean
  /** params.yaml overrides for this run (`--set`), handed to stages in MLSKEL_SET and recorded. */
  overrides?: Overrides
  /** Where progress lines go (default: stdout); null for none. */
  progress?: Writable | null
  /** Where the stages' own output goes (default: our stdout and stderr, as they are). */
  output?: StageOutput
  /** Forward SIGINT and SIGTERM received by this process to the running stage, then stop (default: true). */
  forwardSignals?: boolean
  /** The command line, recorded in the run lock for whoever finds it held. */
  argv?: readonly string[]
  /** The environment stages start from (default: process.env). */
  env?: NodeJS.ProcessEnv
}

export interface RunSummary {
  /** True when no stage failed (a dry run is ok too). */
  ok: boolean
  stages: StageSummary[]
  /** Why the run stopped, when a stage failed, was killed, left an output missing or lacked a dep. */
  error?: MlskelError
  duration_ms: number
}

/**
 * Run the pipeline at `options.root`. Problems found before anything runs (mlskel.yaml, params.yaml, an unknown
 * stage, a held run lock) throw; once stages start, the result says which ran, were skipped, failed or did not
 * run, with the error that stopped the run in `error`.
 */
export async function runPipeline(options: RunPipelineOptions): Promise<RunSummary> {
  const began = performance.now()
  const { root } = options
  const overrides = options.overrides ?? {}
  const args = options.args ?? []
  const named = options.stages ?? []
  if (args.length > 0 && named.length === 0) {
    throw new MlskelError('MLSKEL_USAGE', `arguments after -- (${args.map(shellQuote).join(' ')}) go to the named stages' commands, and no stage was named`, {
      fix: 'Name the stage(s) the arguments are for: mlskel run <stage> -- <args>.',
    })
  }
  const dryRun = options.dryRun === true
  const cache = await StateCache.open(root)
  const pipeline = await loadPipeline(root, { overrides, cache })
  const selection = await selectStages(pipeline, named, { downstream: options.downstream })
  const runLock = dryRun ? undefined : await acquireRunLock(root, options.argv)
  // with the lock held, no other run writes here: what a killed writer left half-way goes before anything is hashed
  if (runLock) await sweepStaleTemps(sweepTargets(pipeline)).catch(() => undefined)

  const summaries: StageSummary[] = selection.stages.map((s) => ({ name: s.name, status: 'not-run', reasons: [], duration_ms: 0 }))
  const reporter = options.progress === null ? undefined : new Reporter(options.progress ?? process.stdout, selection.stages.length)
  const run = new StageRunner(pipeline, options, overrides, runLock)
  let error: MlskelError | undefined
  let hasher: Hasher | undefined
  try {
    const { lock, sha } = await readLockFile(root, cache.lock)
    if (sha !== undefined && cache.lock?.sha !== sha) cache.setLock({ sha, data: lock })
    hasher = await Hasher.open(join(root, HASH_CACHE_FILE))
    if (!dryRun && options.forwardSignals !== false) run.forwardSignals()

    for (const [i, stage] of selection.stages.entries()) {
      const summary = summaries[i]!
      if (run.interrupted) {
        error = interruptedError(run.interrupted, `before stage ${quote(stage.name)} started`)
        break
      }
      const cmd = selection.targets.has(stage.name) && args.length > 0 ? `${stage.cmd} ${args.map(shellQuote).join(' ')}` : stage.cmd

      // 1. the stage's inputs as they are now
      const deps: Record<string, string> = {}
      const ranUpstream = upstreamOf(pipeline, stage).filter((name) => statusOf(summaries, name) === 'ran' || statusOf(summaries, name) === 'would-run')
      for (const [d, dep] of stage.deps.entries()) {
        // an external input's absolute path stays as it is; a project path is under the root
        const hash = await hasher.path(resolve(root, dep))
        if (hash !== undefined) deps[dep] = hash
        else if (!(dryRun && producers(pipeline, dep).some((p) => statusOf(summaries, p) === 'would-run'))) {
          error = await depMissing(pipeline, stage, dep, d)
          break
        }
      }
      if (error) {
        summary.status = 'failed'
        reporter?.failed(i, stage.name, undefined, error.message)
        break
      }
      const params: Record<string, unknown> = {}
      for (const key of stage.params) params[key] = pipeline.paramValues[key]
      const stageOverrides = Object.fromEntries(Object.entries(overrides).filter(([key]) => stage.params.some((p) => key === p || key.startsWith(`${p}.`) || p.startsWith(`${key}.`))))
      const outs: Record<string, string | undefined> = {}
      for (const out of stage.outs) outs[out] = await hasher.path(join(root, out))

      // 2. run it, or not, and say why
      const forced = options.force === true && selection.targets.has(stage.name)
      summary.reasons = reasonsToRun(lock.stages[stage.name], { cmd, deps, params, outs }, { forced, upstream: ranUpstream, dryRun })
      if (summary.reasons.length === 0) {
        summary.status = 'skipped'
        reporter?.skipped(i, stage.name)
        continue
      }
      if (dryRun) {
        summary.status = 'would-run'
        reporter?.wouldRun(i, stage.name, summary.reasons)
        continue
      }
      if (run.interrupted) {
        error = interruptedError(run.interrupted, `before stage ${quote(stage.name)} started`)
        break
      }
      reporter?.started(i, stage.name, summary.reasons)
      const ranAt = new Date()
      // the stage's hand-off (src/stage): its run id, outputs, overrides, and the hashes of its deps' files just taken
      const { newRunId } = await import('../stage/index.js')
      const runId = newRunId(ranAt)
      const handoff = {
        handoff_version: 1 as const,
        stage: stage.name,
        run_id: runId,
        outs: stage.outs,
        pipeline_outs: pipeline.stages.flatMap((s) => s.outs),
        overrides: stageOverrides,
        deps: await depFiles(hasher, root, stage.deps),
      }
      const outcome = await run.execute(stage, cmd, handoff)
      summary.duration_ms = Math.round(outcome.ms)
      if (outcome.error) {
        error = outcome.error
        summary.status = 'failed'
        reporter?.failed(i, stage.name, outcome.ms, outcome.why)
        break
      }

      // 3. its outputs must be there; then record it at once
      const written: Record<string, string> = {}
      let missing: string | undefined
      for (const [o, out] of stage.outs.entries()) {
        const hash = await hasher.path(join(root, out))
        if (hash === undefined) {
          error = new MlskelError('MLSKEL_STAGE_OUTPUT_MISSING', `stage ${quote(stage.name)} exited with code 0 but did not write its output ${quote(out)}; it was not recorded as done`, {
            where: { file: PROJECT_FILE, line: await pipeline.lineOf(['stages', stage.name, 'outs', o]), field: `stages.${stage.name}.outs[${o}]` },
          })
          missing = out
          break
        }
        written[out] = hash
      }
      if (error) {
        summary.status = 'failed'
        reporter?.failed(i, stage.name, outcome.ms, `output ${missing} missing`)
        break
      }
      // a stage that wrote a record of this run (a training) is linked to it: `mlskel runs show` shows the stage
      const recorded = (await wroteRecord(root, stage.outs, runId)) ? { run_id: runId } : {}
      const record: StageRecord = { cmd, deps, params, ...(Object.keys(stageOverrides).length > 0 ? { overrides: stageOverrides } : {}), outs: written, ...recorded, ran_at: ranAt.toISOString(), duration_ms: Math.round(outcome.ms) }
      lock.stages[stage.name] = record
      cache.setLock(await writeLockFile(root, lock, pipeline.declared))
      await hasher.save()
      summary.status = 'ran'
      reporter?.finished(i, stage.name, outcome.ms)
    }
  } finally {
    run.stopForwarding()
    if (!dryRun) {
      // both caches are advisory: failing to write them must not hide the run's own outcome
      await hasher?.save().catch(() => undefined)
      await cache.save().catch(() => undefined)
    }
    await runLock?.release()
  }
  const duration = performance.now() - began
  reporter?.summary(summaries, duration, dryRun)
  return { ok: error === undefined, stages: summaries, ...(error ? { error } : {}), duration_ms: Math.round(duration) }
}

export interface StageState {
  cmd: string
  deps: Record<string, string>
  params: Record<string, unknown>
  outs: Record<string, string | undefined>
}

/** Why a stage must run, given its last successful run; empty when it is up to date. */
export function reasonsToRun(record: StageRecord | undefined, now: StageState, context: { forced?: boolean; upstream?: readonly string[]; dryRun?: boolean } = {}): string[] {
  const reasons: string[] = []
  if (context.forced) reasons.push('forced')
  if (!record) return [...reasons, 'never run']
  if (record.cmd !== now.cmd) reasons.push('command changed')
  for (const [dep, hash] of Object.entries(now.deps)) {
    if (record.deps[dep] === undefined) reasons.push(`dep ${dep} added`)
    else if (record.deps[dep] !== hash) reasons.push(`dep ${dep} changed`)
  }
  for (const dep of Object.keys(record.deps)) if (!(dep in now.deps)) reasons.push(`dep ${dep} removed`)
  for (const [key, value] of Object.entries(now.params)) {
    if (!(key in record.params)) reasons.push(`param ${key} added`)
    else if (canonicalJson(record.params[key]) !== canonicalJson(value)) reasons.push(`param ${key} changed`)
  }
  for (const key of Object.keys(record.params)) if (!(key in now.params)) reasons.push(`param ${key} removed`)
  for (const [path, hash] of Object.entries(now.outs)) {
    if (hash === undefined) reasons.push(`output ${path} missing`)
    else if (record.outs[path] === undefined) reasons.push(`output ${path} added`)
    else if (record.outs[path] !== hash) reasons.push(`output ${path} changed since last run`)
  }
  for (const name of context.upstream ?? []) reasons.push(`upstream stage ${name} ${context.dryRun ? 'would run' : 'ran'}`)
  return reasons
}

/**
 * Where a run and its stages write: the root (mlskel.lock), mlskel's state folder, and every stage output (a folder
 * and all below it; beside a file). A temp there whose writer is dead was left by a crash.
 */
function sweepTargets(pipeline: Pipeline): SweepTarget[] {
  const root = pipeline.root
  const targets = new Map<string, boolean>([[root, false], [join(root, '.mlskel'), true]])
  for (const out of pipeline.stages.flatMap((s) => s.outs)) {
    targets.set(join(root, out), true)
    const parent = dirname(join(root, out))
    if (!targets.has(parent)) targets.set(parent, false)
  }
  return [...targets].map(([dir, recursive]) => ({ dir, recursive }))
}

function upstreamOf(pipeline: Pipeline, stage: Stage): string[] {
  return [...new Set(pipeline.upstream.get(stage.name)!.map((e) => e.on))]
}

function producers(pipeline: Pipeline, dep: string): string[] {
  return pipeline.stages.filter((s) => s.outs.some((o) => o === dep || dep.startsWith(`${o}/`) || o.startsWith(`${dep}/`))).map((s) => s.name)
}

function statusOf(summaries: StageSummary[], name: string): StageSummary['status'] | undefined {
  return summaries.find((s) => s.name === name)?.status
}

async function depMissing(pipeline: Pipeline, stage: Stage, dep: string, index: number): Promise<MlskelError> {
  const by = producers(pipeline, dep)
  const message = by.length > 0
    ? `stage ${quote(stage.name)} needs ${quote(dep)}, which does not exist although stage ${by.map((s) => quote(s)).join(', ')} should produce it`
    : `stage ${quote(stage.name)} needs ${quote(dep)}, which does not exist, and no stage lists it under outs`
  return new MlskelError('MLSKEL_PIPELINE_DEP_MISSING', message, {
    where: { file: PROJECT_FILE, line: await pipeline.lineOf(['stages', stage.name, 'deps', index]), field: `stages.${stage.name}.deps[${index}]` },
  })
}

function interruptedError(signal: NodeJS.Signals, when: string): MlskelError {
  return new MlskelError('MLSKEL_STAGE_KILLED', `mlskel received ${signal} and stopped the run ${when}`, { exitCode: 128 + signalNumber(signal) })
}

interface Outcome {
  ms: number
  error?: MlskelError
  /** A short account of the failure, for the progress line. */
  why: string
}

/** Starts stage commands one at a time, and passes on the signals this process receives to the one running. */
class StageRunner {
  interrupted: NodeJS.Signals | undefined
  private command: StartedCommand | undefined
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.interrupted ??= signal
    this.command?.signal(signal)
  }
  private forwarding = false

  constructor(
    private readonly pipeline: Pipeline,
    private readonly options: RunPipelineOptions,
    private readonly overrides: Overrides,
    private readonly runLock: RunLock | undefined,
  ) {}

  forwardSignals(): void {
    this.forwarding = true
    process.on('SIGINT', this.onSignal)
    process.on('SIGTERM', this.onSignal)
  }

  stopForwarding(): void {
    this.forwarding = false
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
  }

  async execute(stage: Stage, cmd: string, handoff: StageHandoff): Promise<Outcome> {
    const { root } = this.options
    const { writeHandoff, removeHandoff } = await import('../stage/index.js')
    const env = stageEnv(root, await writeHandoff(root, handoff), this.options.env)
    try {
      return await this.start(stage, cmd, env)
    } finally {
      await removeHandoff(root, handoff.run_id).catch(() => undefined)
    }
  }

  private async start(stage: Stage, cmd: string, env: NodeJS.ProcessEnv): Promise<Outcome> {
    const { root } = this.options
    const where = { file: PROJECT_FILE, line: await this.pipeline.lineOf(['stages', stage.name, 'cmd']), field: `stages.${stage.name}.cmd` }
    const t0 = performance.now()
    let result
    try {
      // with signals forwarded, the stage gets a process group of its own so that they reach all of it
      const started = startCommand(cmd, { cwd: root, env, output: this.options.output ?? 'inherit', ownGroup: this.forwarding, stopGraceS: stage.stopGraceS })
      this.command = started
      // the lock names the stage's group, so that a run finding this one dead waits for its stage too; a failure to
      // say so leaves the watch (execute.ts) as the guard, and must not stop a stage already running
      if (started.pgid !== undefined) await this.runLock?.setStage({ name: stage.name, pgid: started.pgid, stop_grace_s: stage.stopGraceS }).catch(() => undefined)
      result = await started.done
      if (started.pgid !== undefined) await this.runLock?.setStage(undefined).catch(() => undefined)
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause)
      return { ms: performance.now() - t0, why, error: new MlskelError('MLSKEL_STAGE_FAILED', `stage ${quote(stage.name)} could not start: ${why}`, { where, cause }) }
    } finally {
      this.command = undefined
    }
    const ms = performance.now() - t0
    if (this.interrupted) {
      return { ms, why: `interrupted by ${this.interrupted}`, error: interruptedError(this.interrupted, `while stage ${quote(stage.name)} ran; the stage was stopped and not recorded as done`) }
    }
    if (result.signal) {
      const status = result.code !== null ? ` (exit status ${result.code} from the shell)` : ''
      return { ms, why: `killed by ${result.signal}`, error: new MlskelError('MLSKEL_STAGE_KILLED', `stage ${quote(stage.name)} was killed by signal ${result.signal}${status}; it was not recorded as done`, { where }) }
    }
    if (result.code !== 0) {
      return { ms, why: `exit code ${result.code}`, error: new MlskelError('MLSKEL_STAGE_FAILED', `stage ${quote(stage.name)} failed with exit code ${result.code}: ${cmd}`, { where }) }
    }
    return { ms, why: '' }
  }
}

/** Every file of the deps, with the hash the hasher has just taken (a cache hit each): the stage needs not hash them again. */
async function depFiles(hasher: Hasher, root: string, deps: readonly string[]): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const dep of deps) {
    const path = resolve(root, dep)
    const info = await stat(path).catch(() => undefined)
    if (!info) continue
    const names = info.isDirectory() ? (await listFiles(path)).map((file) => join(dep, file)) : [dep]
    for (const name of names) files[name.split(sep).join('/')] = await hasher.file(resolve(root, name))
  }
  return files
}

/** Whether the stage wrote `<run_id>.json` somewhere in its outputs: the record of that run. */
async function wroteRecord(root: string, outs: readonly string[], runId: string): Promise<boolean> {
  for (const out of outs) {
    const entries = await readdir(join(root, out), { recursive: true, withFileTypes: true }).catch(() => [])
    if (entries.some((entry) => entry.isFile() && entry.name === `${runId}.json`)) return true
  }
  return false
}
