// How `mlskel runs` shows runs to a person: plain aligned text, no colour, short ids where a column is narrow.
// Presentation, so the CLI's: the runs library (src/runs/) gives the data, for scripts as much as for people.
import type { MetadataRecord } from '../metadata/index.js'
import { flatten, lowerIsBetter, metricColumns, type ColumnChange, type RunDiff, type ValueChange, type VerifyResult } from '../runs/index.js'

/** Columns padded to their widest cell; numbers (and cells of numeric columns) right-aligned. */
export function formatTable(rows: readonly (readonly string[])[], options: { right?: readonly boolean[]; indent?: string } = {}): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)))
  const pad = (cell: string, i: number) => (options.right?.[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))
  return rows.map((row) => `${options.indent ?? ''}${row.map(pad).join('  ')}`.trimEnd()).join('\n')
}

/** A score to 4 decimals, or '-' when absent. */
export function formatScore(value: number | undefined): string {
  if (value === undefined) return '-'
  if (!Number.isFinite(value)) return String(value)
  return Math.abs(value) >= 1e5 ? value.toExponential(3) : value.toFixed(4)
}

/** A change b − a, signed: +0.0133, -0.0200, 0 when equal. */
export function formatDelta(delta: number | undefined): string {
  if (delta === undefined) return ''
  if (delta === 0) return '0'
  const text = Math.abs(delta) >= 1e-4 ? Math.abs(delta).toFixed(4) : Math.abs(delta).toExponential(2)
  return `${delta > 0 ? '+' : '-'}${text}`
}

/** 2026-11-26T18:09:40.977Z → 2026-11-26 18:09:40Z */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = -1
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

function commitCell(record: MetadataRecord): string {
  if (!record.git.commit) return '-'
  return `${record.git.commit.slice(0, 8)}${record.git.dirty ? '*' : ''}`
}

export interface ListFormatOptions {
  /** The metric --sort-by used: its column is shown even when it is not a main one. */
  sortBy?: string
  /** Room in characters (default 120): cv columns are added beside hold-out ones while they fit. */
  width?: number
}

/**
 * The `runs list` table: run id, time, model id, task, the main hold-out scores (cv beside them when there is
 * room), data id, commit with `*` when the tree was dirty.
 */
export function formatRunList(records: readonly MetadataRecord[], options: ListFormatOptions = {}): string {
  const metrics = metricColumns(records, options.sortBy)
  const build = (withCv: boolean) => {
    const head = ['run', 'time', 'model', 'task']
    const right = [false, false, false, false]
    for (const m of metrics) {
      head.push(m)
      right.push(true)
      if (withCv) {
        head.push(`${m} cv`)
        right.push(true)
      }
    }
    head.push('data', 'commit')
    right.push(false, false)
    const rows = records.map((r) => {
      const cells = [r.run_id, formatTime(r.timestamp), r.model_id.slice(0, 8), r.task]
      for (const m of metrics) {
        cells.push(formatScore(r.scores[m]?.hold_out))
        if (withCv) cells.push(formatScore(r.scores[m]?.cv))
      }
      // an imported model's training data is not known: the cell says where the model came from instead
      cells.push(r.data.identifier?.slice(0, 8) ?? 'imported', commitCell(r))
      return cells
    })
    return formatTable([head, ...rows], { right })
  }
  const wide = build(true)
  const longest = Math.max(...wide.split('\n').map((line) => line.length))
  const table = longest <= (options.width ?? 120) ? wide : build(false)
  const notes: string[] = []
  if (records.some((r) => r.git.dirty)) notes.push(records.some((r) => r.git.dirty && r.source === 'imported') ? '* trained or imported from uncommitted changes' : '* trained from uncommitted changes')
  if (records.some((r) => r.source === 'imported')) notes.push('imported: trained elsewhere (mlskel models import); its commit is the project\'s at import')
  if (options.sortBy) notes.push(`sorted by ${options.sortBy} (hold-out), ${lowerIsBetter(options.sortBy) ? 'lowest' : 'highest'} first`)
  return notes.length > 0 ? `${table}\n\n${notes.join('; ')}` : table
}

/** The line `runs list` prints when no training is recorded. */
export function noRunsLine(metadataDir: string): string {
  return `No training recorded yet in ${metadataDir}. Train a model with \`mlskel run\` (or \`npm run train\`), then list it here.`
}

/** `runs show`: every field of the record, in sections. */
/** The stage of mlskel.lock whose last run wrote a record. */
export interface StageOfRun {
  name: string
  ran_at: string
  duration_ms: number
  cmd: string
}

export function formatRecord(record: MetadataRecord, options: { recordFile?: string; stage?: StageOfRun | undefined } = {}): string {
  const out: string[] = []
  const section = (title: string, lines: string[]) => {
    if (lines.length > 0) out.push('', title, ...lines)
  }
  const pairs = (entries: [string, unknown][]) => formatTable(entries.filter(([, v]) => v !== undefined).map(([k, v]) => [k, text(v)]), { indent: '  ' }).split('\n')
  const shown = new Set<string>()
  const take = <K extends string>(...keys: K[]) => keys.forEach((k) => shown.add(k))

  out.push(`run ${record.run_id}  (${formatTime(record.timestamp)})`, record.description)
  if (options.recordFile) out.push(`record: ${options.recordFile}`)
  if (options.stage) out.push(`stage:  ${options.stage.name} in mlskel.lock (its last run: ${formatTime(options.stage.ran_at)}, ${(options.stage.duration_ms / 1000).toFixed(1)} s, \`${options.stage.cmd}\`)`)
  take('run_id', 'timestamp', 'description', 'schema_version')

  section('model', pairs([
    ['id', record.model_id],
    ['type', record.model_type],
    ['task', record.task],
    ['location', record.model_location],
    ['sha256', record.model_hash],
    ['size', formatBytes(record.model_size)],
  ]))
  take('model_id', 'model_type', 'task', 'model_location', 'model_hash', 'model_size')

  const imported = record.source === 'imported'
  if (record.imported !== undefined) {
    const { hold_out: holdOut, ...file } = record.imported
    section('imported (trained elsewhere)', pairs([...Object.entries(flatten(file)), ['hold_out', holdOut ? `${holdOut.path} (${holdOut.from === 'project' ? 'the project\'s test split' : '--data'})` : 'none: no data to score on']]))
  }
  take('source', 'imported')

  const { inputs, features, ...data } = record.data
  section('data and inputs', [
    ...pairs([...Object.entries(flatten(data)), ['features', features.join(', ')]]),
    ...(inputs.length > 0 ? ['  inputs:', formatTable(inputs.map((i) => [i.path, i.sha256]), { indent: '    ' })] : []),
  ])
  for (const key of ['feature_schema', 'target', 'input_example'] as const) {
    if (record[key] === undefined) continue
    take(key)
    const value = record[key]
    if (key === 'feature_schema' && Array.isArray(value) && value.length === 0) {
      out.push(`  ${key}: none${imported ? ' (its training data is not known)' : ''}`)
    } else if (key === 'feature_schema' && Array.isArray(value) && value.every((v) => v !== null && typeof v === 'object')) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v as object)))]
      out.push(`  ${key}:`, formatTable([columns, ...value.map((v) => columns.map((c) => text((v as Record<string, unknown>)[c])))], { indent: '    ' }))
    } else {
      out.push(...pairs(Object.entries(flatten(value, key))))
    }
  }
  take('data')

  const overrides = Object.entries(record.overrides)
  if (imported) section('params and overrides', ['  none: the model was trained elsewhere'])
  else section('params and overrides', [
    ...pairs(Object.entries(flatten(record.params))),
    `  seed: ${record.seed ?? 'unknown'}`,
    overrides.length > 0 ? `  overrides (mlskel run --set): ${overrides.map(([k, v]) => `${k}=${text(v)}`).join(', ')}` : '  overrides: none',
    '  hyper-parameters:',
    ...formatTable(Object.entries(flatten(record.hyper_parameters)).map(([k, v]) => [k, text(v)]), { indent: '    ' }).split('\n'),
  ])
  take('params', 'overrides', 'seed', 'hyper_parameters')

  const splits = [...new Set(Object.values(record.scores).flatMap((s) => Object.keys(s)))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  section(`scores (${record.testing_strategy ?? 'none: imported without data to score it on'})`, formatTable([['metric', ...splits], ...Object.entries(record.scores).map(([m, s]) => [m, ...splits.map((sp) => formatScore(s[sp]))])], { indent: '  ', right: [false, ...splits.map(() => true)] }).split('\n'))
  take('scores', 'testing_strategy')
  if (record.evaluation !== undefined) {
    const { confusion_matrix: matrix, ...rest } = (record.evaluation.hold_out ?? {}) as { confusion_matrix?: { labels: unknown[]; matrix: number[][] } }
    const lines = pairs(Object.entries(flatten({ ...record.evaluation, hold_out: rest }, 'evaluation')))
    if (matrix && Array.isArray(matrix.labels) && Array.isArray(matrix.matrix)) {
      const labels = matrix.labels.map((l) => text(l))
      lines.push('  confusion matrix (rows: actual, columns: predicted):', formatTable([['', ...labels], ...matrix.matrix.map((row, i) => [labels[i] ?? '', ...row.map(String)])], { indent: '    ', right: [false, ...labels.map(() => true)] }))
    }
    section('hold-out evaluation', lines)
    take('evaluation')
  }

  const { diff, ...git } = record.git as MetadataRecord['git'] & { diff?: unknown }
  section('code (git)', pairs([...Object.entries(flatten(git)), ...(diff !== undefined ? Object.entries(flatten(diff, 'diff')) : []), ['command', record.command.join(' ')]]))
  take('git', 'command')

  section('environment', pairs(Object.entries(flatten(record.environment))))
  take('environment')

  const durations = Object.entries(record.durations)
  const total = durations.reduce((sum, [, s]) => sum + s, 0)
  section('durations', durations.length > 0 ? pairs([...durations.map(([k, s]): [string, unknown] => [k, `${s.toFixed(3)} s`]), ['total', `${total.toFixed(3)} s`]]) : ['  none recorded'])
  take('durations')

  const rest = Object.keys(record).filter((k) => !shown.has(k))
  if (rest.length > 0) section('other', pairs(rest.flatMap((k) => Object.entries(flatten((record as Record<string, unknown>)[k], k)))))
  return out.join('\n')
}

/** `runs diff`: only what differs, section by section; scores always, with their deltas. */
export function formatDiff(d: RunDiff): string {
  const out: string[] = [`a: ${d.a}`, `b: ${d.b}`]
  const changeLines = (title: string, list: ValueChange[]) => {
    if (list.length === 0) return
    out.push('', title, formatTable(list.map((c) => [c.key, Object.hasOwn(c, 'a') ? text(c.a) : '(absent)', '→', Object.hasOwn(c, 'b') ? text(c.b) : '(absent)']), { indent: '  ' }))
  }
  changeLines('model', d.model)
  changeLines('params', d.params)
  changeLines('overrides (--set)', d.overrides)
  changeLines('hyper-parameters', d.hyper_parameters)

  out.push('', 'scores (delta = b - a)', formatTable([['metric', 'split', 'a', 'b', 'delta'], ...d.scores.map((s) => [s.metric, s.split, formatScore(s.a), formatScore(s.b), formatDelta(s.delta)])], { indent: '  ', right: [false, false, true, true, true] }))

  changeLines('data', d.data)
  if (d.columns.length > 0) {
    const side = (c: ColumnChange['a']) => (c ? `${c.type}, ${c.missing} missing` : '(absent)')
    out.push('', 'columns (type, missing values)', formatTable(d.columns.map((c) => [c.name, side(c.a), '→', side(c.b)]), { indent: '  ' }))
  }
  if (d.inputs.length > 0) {
    out.push('', 'inputs', formatTable(d.inputs.map((i) => [i.status, i.path, i.a ? i.a.slice(0, 12) : '', '→', i.b ? i.b.slice(0, 12) : '']), { indent: '  ' }))
  } else {
    out.push('', 'inputs: same files, same hashes')
  }

  const side = (s: RunDiff['code']['a']) => (s.commit ? `${s.commit.slice(0, 12)}${s.dirty ? ' (dirty)' : ''}${s.branch ? ` on ${s.branch}` : ''}` : 'no commit')
  out.push('', 'code')
  out.push(d.code.same_commit ? `  same commit: ${side(d.code.a)}${d.code.b.dirty !== d.code.a.dirty ? ` / b: ${side(d.code.b)}` : ''}` : `  commit  ${side(d.code.a)} → ${side(d.code.b)}`)
  if (d.code.files) out.push(d.code.files.length > 0 ? formatTable(d.code.files.map((f) => [f.status, f.path]), { indent: '    ' }) : '    no file changed between the commits')
  for (const note of d.code.notes) out.push(`  note: ${note}`)

  if (d.environment.length > 0) changeLines('environment', d.environment)
  else out.push('', 'environment: same')
  return out.join('\n')
}

/** `runs verify`'s verdict, after the progress lines. */
export function formatVerify(result: VerifyResult): string {
  const lines: string[] = []
  const bytes = result.method === 'bytes'
  if (result.status === 'verified') lines.push(bytes ? `verified: run ${result.run_id}'s stored model and imported file are the bytes recorded` : `verified: run ${result.run_id} reproduced with the same model hash and scores`)
  else if (result.status === 'differs') {
    lines.push(bytes ? `not verified: run ${result.run_id}'s stored files are not the bytes recorded` : `not verified: run ${result.run_id} reproduced differently`)
    for (const d of result.differences ?? []) {
      const delta = typeof d.recorded === 'number' && typeof d.reproduced === 'number' ? `  (delta ${formatDelta(d.reproduced - d.recorded)})` : ''
      lines.push(`  ${d.field}: recorded ${d.recorded === undefined ? '(absent)' : text(d.recorded)}, ${bytes ? 'found' : 'reproduced'} ${d.reproduced === undefined ? '(absent)' : text(d.reproduced)}${delta}`)
    }
  } else {
    lines.push(`cannot verify run ${result.run_id} (${result.code}): ${result.reason}`)
    if (result.fix) lines.push(`  fix: ${result.fix}`)
  }
  if (result.checkout) lines.push(`checkout kept at ${result.checkout}`)
  if (result.note) lines.push(`note: ${result.note}`)
  return lines.join('\n')
}

function rank(split: string): number {
  return split === 'cv' ? 0 : split === 'hold_out' ? 1 : 2
}

function text(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && !Number.isInteger(value)) return String(value)
  return JSON.stringify(value) ?? String(value)
}
