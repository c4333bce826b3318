// `mlskel runs list|show|diff|verify`: parse what commander gave, ask the runs library, print.
import { relative } from 'node:path'
import type { Command } from 'commander'
import { MlskelError } from '../../errors/index.js'
import { diffRuns, listRuns, loadRuns, recordFileOf, resolveRun, summarize, verifyRun, VERIFY_EXIT } from '../../runs/index.js'
import { formatDiff, formatRecord, formatRunList, formatVerify, noRunsLine, type StageOfRun } from '../runs-format.js'

export interface ListCommandOptions {
  sortBy?: string
  limit?: string
  json?: boolean
}

export async function list(options: ListCommandOptions): Promise<void> {
  const { metadataDir, records, root } = await loadRuns()
  const limit = options.limit === undefined ? undefined : parseLimit(options.limit)
  const rows = listRuns(records, { sortBy: options.sortBy, limit })
  if (options.json) return print(JSON.stringify(rows.map(summarize), null, 2))
  if (rows.length === 0) return print(noRunsLine(relative(root, metadataDir) || metadataDir))
  print(formatRunList(rows, { sortBy: options.sortBy, width: process.stdout.columns ?? 120 }))
}

export async function show(id: string, options: { json?: boolean }): Promise<void> {
  const { metadataDir, records, root } = await loadRuns()
  const record = resolveRun(records, id, metadataDir)
  if (options.json) return print(JSON.stringify(record, null, 2))
  print(formatRecord(record, { recordFile: relative(root, recordFileOf(metadataDir, record.run_id)), stage: await stageOf(root, record.run_id) }))
}

/** The pipeline stage whose last run wrote this record, as mlskel.lock says (a lock that cannot be read says nothing). */
async function stageOf(root: string, runId: string): Promise<StageOfRun | undefined> {
  const { readLockFile } = await import('../../pipeline/index.js')
  const { lock } = await readLockFile(root).catch(() => ({ lock: { stages: {} } }))
  const found = Object.entries(lock.stages).find(([, entry]) => entry.run_id === runId)
  return found && { name: found[0], ran_at: found[1].ran_at, duration_ms: found[1].duration_ms, cmd: found[1].cmd }
}

export async function diff(a: string, b: string, options: { json?: boolean }): Promise<void> {
  const { metadataDir, records, root } = await loadRuns()
  const result = await diffRuns(resolveRun(records, a, metadataDir), resolveRun(records, b, metadataDir), { root })
  print(options.json ? JSON.stringify(result, null, 2) : formatDiff(result))
}

export async function verify(id: string, options: { json?: boolean; keep?: boolean }, command?: Command): Promise<void> {
  // --verbose (a global option) streams the training's own output to stderr; otherwise only its tail on failure
  const verbose = command?.optsWithGlobals<{ verbose?: boolean }>().verbose === true
  let result
  try {
    result = await verifyRun({ id, keep: options.keep, progress: process.stderr, ...(verbose ? { output: 'stderr' as const } : {}) })
  } catch (error) {
    // an unknown id or an invalid record: it cannot be verified, so exit 2 whatever the error's own code says
    if (error instanceof MlskelError && error.exitCode !== VERIFY_EXIT.cannot_verify) {
      throw new MlskelError(error.code, error.message, { where: error.where, fix: error.fix, cause: error, exitCode: VERIFY_EXIT.cannot_verify })
    }
    throw error
  }
  if (options.json) print(JSON.stringify(result, null, 2))
  else if (result.status === 'verified') print(formatVerify(result))
  else process.stderr.write(`${formatVerify(result)}\n`)
  process.exitCode = VERIFY_EXIT[result.status]
}

function parseLimit(text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new MlskelError('MLSKEL_USAGE', `--limit takes a whole number of at least 1, got "${text}"`, { exitCode: 2 })
  return n
}

function print(text: string): void {
  process.stdout.write(`${text}\n`)
}
