// The `pipeline` rule of `mlskel check`: mlskel.yaml and params.yaml validate as `mlskel run` validates them, and
// mlskel.lock says every stage is up to date, as a dry run of the pipeline decides it.
import { readFile } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
import { isMlskelError, type MlskelError } from '../../errors/index.js'
import { loadParams, PARAMS_FILE } from '../../params/index.js'
import { LOCK_FILE, runPipeline, type RunSummary } from '../../pipeline/index.js'
import type { Finding, Rule } from '../types.js'

export const pipelineRule: Rule = {
  id: 'pipeline',
  title: 'pipeline valid and up to date',
  async run(context) {
    const { root } = context
    const lockText = await readFile(join(root, LOCK_FILE), 'utf8').catch(ignoreMissing)
    // A dry run validates what a real run validates, decides each stage as a real run would, and by contract
    // runs nothing, writes nothing (no lock file, no cache) and takes no run lock.
    let dryRun: RunSummary
    try {
      dryRun = await runPipeline({ root, dryRun: true, progress: null, overrides: {} })
    } catch (error) {
      const problems = [asMlskelError(error)]
      // a pipeline that failed on mlskel.yaml has not read params.yaml yet; one that failed on it says so once
      const params = await paramsProblem(root)
      if (params && !problems.some((p) => p.code === params.code && p.message === params.message)) problems.push(params)
      return { findings: problems.map((p) => invalid(root, p)), summary: 'invalid, not checked for staleness' }
    }
    const findings: Finding[] = []
    // stages that list no params leave params.yaml unread by the pipeline, but the training code reads it
    const params = await paramsProblem(root)
    if (params) findings.push(invalid(root, params))
    if (dryRun.error) findings.push(invalid(root, dryRun.error))
    findings.push(...staleness(dryRun, lockText))
    return { findings, summary: summaryOf(dryRun, lockText !== undefined) }
  },
}

/** params.yaml's own validation, when there is one (a pipeline whose stages list no params may have none). */
async function paramsProblem(root: string): Promise<MlskelError | undefined> {
  try {
    // overrides stated as none: an MLSKEL_SET in the environment of `mlskel check` must not change the verdict
    await loadParams(root, { overrides: {} })
    return undefined
  } catch (error) {
    const problem = asMlskelError(error)
    return problem.code === 'MLSKEL_FILE_MISSING' && problem.where?.file === PARAMS_FILE ? undefined : problem
  }
}

function staleness(dryRun: RunSummary, lockText: string | undefined): Finding[] {
  const stale = dryRun.stages.filter((s) => s.status === 'would-run')
  if (dryRun.stages.length === 0) return []
  if (lockText === undefined) {
    // every stage would run for the same reason: one note, not a warning per stage
    return [{ level: 'info', code: 'MLSKEL_CHECK_LOCK_STALE', file: LOCK_FILE, message: `the pipeline has not run yet (no ${LOCK_FILE})`, fix: `Run the pipeline (\`mlskel run\`) and commit ${LOCK_FILE}.` }]
  }
  return stale.map((stage) => {
    const line = lineOfStage(lockText, stage.name)
    return { level: 'warning', code: 'MLSKEL_CHECK_LOCK_STALE', file: LOCK_FILE, ...(line ? { line } : {}), message: `stage ${stage.name} is out of date: ${stage.reasons.join(', ')}` }
  })
}

function summaryOf(dryRun: RunSummary, hasLock: boolean): string {
  const total = dryRun.stages.length
  const stages = `${total} stage${total === 1 ? '' : 's'}`
  if (total === 0) return 'no stages'
  if (!hasLock) return `${stages}, never run`
  const stale = dryRun.stages.filter((s) => s.status === 'would-run').length
  const failed = dryRun.stages.find((s) => s.status === 'failed')
  const stopped = failed ? `, stage ${failed.name} cannot run` : ''
  if (stale === 0 && !failed) return `${stages}, up to date`
  return `${stale} of ${stages} out of date${stopped}`
}

function invalid(root: string, error: MlskelError): Finding {
  const file = error.where?.file
  return {
    level: 'error',
    code: 'MLSKEL_CHECK_PIPELINE_INVALID',
    ...(file ? { file: isAbsolute(file) ? relative(root, file).split(sep).join('/') : file } : {}),
    ...(error.where?.line ? { line: error.where.line } : {}),
    message: error.where?.field && !error.message.includes(error.where.field) ? `${error.where.field}: ${error.message}` : error.message,
    fix: error.fix,
  }
}

/** Anything but an MlskelError is a bug or an I/O failure: the check runner reports it as such. */
function asMlskelError(error: unknown): MlskelError {
  if (isMlskelError(error)) return error
  throw error
}

function ignoreMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === 'ENOENT') return undefined
  throw error
}

/** The line of a stage's record in mlskel.lock (`  train:` under `stages:`), for the report to point at. */
function lineOfStage(lockText: string, name: string): number | undefined {
  const lines = lockText.split(/\r?\n/)
  const at = lines.findIndex((line) => line === `  ${name}:` || line === `  ${JSON.stringify(name)}:`)
  return at >= 0 ? at + 1 : undefined
}
