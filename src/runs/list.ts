// `runs list` as data: one summary row per run, the metrics that matter for its task, sorted newest or best first.
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import type { MetadataRecord } from '../metadata/index.js'
import { KNOWN_METRICS, METRIC_NAME_PATTERN } from '../models/index.js'

/** The scores a table shows first, per task: the hold-out value of each, the cross-validated one beside it. */
export const MAIN_METRICS: Readonly<Record<MetadataRecord['task'], readonly string[]>> = {
  classification: ['accuracy', 'f1_macro'],
  regression: ['r2', 'mean_absolute_error'],
}

/** Losses and errors: smaller is better. Every other metric (accuracy, r2, custom_*) is better when larger. */
export function lowerIsBetter(metric: string): boolean {
  return /(_error|_loss)$/.test(metric) || metric === 'log_loss'
}

/** One row of `runs list --json`: what the table shows, at full precision, with full hashes. */
export interface RunSummaryRow {
  run_id: string
  timestamp: string
  model_id: string
  task: MetadataRecord['task']
  /** Every score of the run: { metric: { split: value } }. */
  scores: Record<string, Record<string, number>>
  /** SHA-256 of the input data (data.identifier); null for an imported model (its training data is not known). */
  data_id: string | null
  /** trained by the project's pipeline, or imported (`mlskel models import`). */
  source: MetadataRecord['source']
  commit: string | null
  dirty: boolean | null
  description: string
}

export interface ListOptions {
  /** Sort by this metric's hold-out score, best first; runs without it go last. Default: newest first. */
  sortBy?: string
  /** At most this many rows (after sorting). */
  limit?: number
}

export function summarize(record: MetadataRecord): RunSummaryRow {
  return {
    run_id: record.run_id,
    timestamp: record.timestamp,
    model_id: record.model_id,
    task: record.task,
    scores: record.scores,
    data_id: record.data.identifier,
    source: record.source,
    commit: record.git.commit,
    dirty: record.git.dirty,
    description: record.description,
  }
}

/** The runs to list, in order: records are given newest first, and ties in --sort-by keep that order. */
export function listRuns(records: readonly MetadataRecord[], options: ListOptions = {}): MetadataRecord[] {
  let rows = [...records]
  if (options.sortBy !== undefined) {
    const metric = checkSortMetric(options.sortBy, records)
    const sign = lowerIsBetter(metric) ? 1 : -1
    const value = (r: MetadataRecord) => r.scores[metric]?.hold_out
    // Array.prototype.sort is stable: equal scores stay newest first
    rows = rows.sort((a, b) => {
      const x = value(a)
      const y = value(b)
      if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1
      return sign * (x - y)
    })
  }
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new MlskelError('MLSKEL_USAGE', `--limit must be a whole number of at least 1, got ${quote(options.limit)}`, { exitCode: 2 })
    rows = rows.slice(0, options.limit)
  }
  return rows
}

/** A metric name --sort-by accepts: a known one or custom_*; MLSKEL_METRIC_UNKNOWN otherwise, with a suggestion. */
export function checkSortMetric(metric: string, records: readonly MetadataRecord[] = []): string {
  if (METRIC_NAME_PATTERN.test(metric)) return metric
  const candidates = new Set<string>([...KNOWN_METRICS, ...records.flatMap((r) => Object.keys(r.scores))])
  throw new MlskelError('MLSKEL_METRIC_UNKNOWN', `--sort-by ${quote(metric)} is not a metric.${didYouMean(metric, candidates)}`, { exitCode: 2 })
}

/** The metric columns of a table of these runs: the main metrics of the tasks present, then `extra` if missing. */
export function metricColumns(records: readonly MetadataRecord[], extra?: string): string[] {
  const columns: string[] = []
  for (const task of ['classification', 'regression'] as const) {
    if (records.some((r) => r.task === task)) columns.push(...MAIN_METRICS[task])
  }
  if (extra !== undefined && !columns.includes(extra)) columns.push(extra)
  return columns
}
