// Finding training runs: a project's records, newest first, and one of them by run id, unique prefix or `latest`.
import { join } from 'node:path'
import { MlskelError, closest, quote } from '../errors/index.js'
import { readRecords, type MetadataRecord } from '../metadata/index.js'
import { findProjectRoot, loadSettings, projectPaths, settingsSchema } from '../settings/index.js'

export interface ProjectRuns {
  root: string
  /** The folder of the training records (models/metadata unless .env says otherwise). */
  metadataDir: string
  /** Every record, validated, newest first. */
  records: MetadataRecord[]
}

/** The training records of the project at or above `from` (default: the current folder). */
export async function loadRuns(from?: string): Promise<ProjectRuns> {
  const root = findProjectRoot(from)
  const metadataDir = projectPaths(root, loadSettings(settingsSchema, { root })).metadata
  return { root, metadataDir, records: await readRecords(metadataDir) }
}

/** The record file of a run. */
export function recordFileOf(metadataDir: string, runId: string): string {
  return join(metadataDir, `${runId}.json`)
}

/**
 * The run named by `id`: `latest`, a whole run id, or a prefix of exactly one. MLSKEL_RUN_AMBIGUOUS lists the
 * candidates; MLSKEL_RUN_NOT_FOUND suggests a near id and how to list them. Both exit with code 2, like other
 * usage errors, so that `runs verify` keeps 1 for "reproduced differently".
 */
export function resolveRun(records: readonly MetadataRecord[], id: string, metadataDir: string): MetadataRecord {
  const wanted = id.trim()
  if (wanted === 'latest') {
    const newest = records[0]
    if (!newest) throw new MlskelError('MLSKEL_RUN_NOT_FOUND', `no training recorded in ${metadataDir}, so there is no latest run`, { where: { file: metadataDir }, fix: 'Train a model first: `mlskel run train`.', exitCode: 2 })
    return newest
  }
  const exact = records.find((r) => r.run_id === wanted)
  if (exact) return exact
  // run ids are upper-case only in their T and Z: accept any case
  const matches = wanted ? records.filter((r) => r.run_id.toLowerCase().startsWith(wanted.toLowerCase())) : []
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1) {
    const shown = matches.slice(0, 10).map((r) => r.run_id)
    throw new MlskelError('MLSKEL_RUN_AMBIGUOUS', `run id ${quote(wanted)} matches ${matches.length} runs: ${shown.join(', ')}${matches.length > 10 ? ', …' : ''}`, { where: { file: metadataDir }, exitCode: 2 })
  }
  if (records.length === 0) {
    throw new MlskelError('MLSKEL_RUN_NOT_FOUND', `no run ${quote(wanted)}: no training is recorded in ${metadataDir}`, { where: { file: metadataDir }, fix: 'Train a model first: `mlskel run train`.', exitCode: 2 })
  }
  // compare with the ids cut to the length given, so a mistyped prefix finds its run
  const byPrefix = new Map(records.map((r) => [r.run_id.slice(0, wanted.length), r.run_id]))
  const near = closest(wanted, byPrefix.keys())
  const suggestion = near !== undefined ? ` Did you mean ${quote(byPrefix.get(near))}?` : ''
  throw new MlskelError('MLSKEL_RUN_NOT_FOUND', `no run with id ${quote(wanted)} among the ${records.length} recorded in ${metadataDir}.${suggestion}`, { where: { file: metadataDir }, exitCode: 2 })
}
