// `runs diff` as data: what differs between two training runs — params, scores with deltas, input hashes per
// path, code (commits and the files changed between them), environment, hyper-parameters.
import type { MetadataRecord } from '../metadata/index.js'
import { canonicalJson } from '../json/index.js'
import { commitExists, git } from './git.js'

/** One changed value, by dotted key; `a`/`b` are undefined where the key is absent on that side. */
export interface ValueChange {
  key: string
  a?: unknown
  b?: unknown
}

export interface ScoreChange {
  metric: string
  split: string
  a?: number
  b?: number
  /** b − a, when both have the score. */
  delta?: number
}

export interface InputChange {
  path: string
  status: 'changed' | 'added' | 'removed'
  a?: string
  b?: string
}

export interface CodeSide {
  commit: string | null
  branch: string | null
  dirty: boolean | null
  /** The diff file saved beside the record when it was dirty, if any. */
  diff?: string
}

export interface CodeDiff {
  a: CodeSide
  b: CodeSide
  same_commit: boolean
  /** `git diff --name-status a b`, when both commits are in the repository: e.g. { status: 'M', path: 'src/model/train.ts' }. */
  files?: { status: string; path: string }[]
  /** Why files are absent, or what else to know (a dirty side's changes are not in the commit). */
  notes: string[]
}

export interface RunDiff {
  a: string
  b: string
  model: ValueChange[]
  params: ValueChange[]
  overrides: ValueChange[]
  hyper_parameters: ValueChange[]
  /** Every score either run has, with the delta; unchanged scores included (delta 0). */
  scores: ScoreChange[]
  /** data fields other than inputs and columns (identifier, rows, features, ...). */
  data: ValueChange[]
  /** Columns whose type or missing count differs, or that only one run has (from data.columns). */
  columns: ColumnChange[]
  inputs: InputChange[]
  code: CodeDiff
  environment: ValueChange[]
}

/**
 * Compare run `a` with run `b`. `root` is where to ask git about the commits; without it (or outside git) the
 * code section has the commits but no file list.
 */
export async function diffRuns(a: MetadataRecord, b: MetadataRecord, options: { root?: string } = {}): Promise<RunDiff> {
  return {
    a: a.run_id,
    b: b.run_id,
    // an import beside a training: where each model came from (source, and what was imported) is part of the model
    model: changes(pick(a, MODEL_FIELDS), pick(b, MODEL_FIELDS)),
    params: changes(a.params, b.params),
    overrides: changes(a.overrides, b.overrides),
    hyper_parameters: changes(a.hyper_parameters, b.hyper_parameters),
    scores: scoreChanges(a.scores, b.scores),
    data: changes(withoutInputs(a.data), withoutInputs(b.data)),
    columns: columnChanges(a.data.columns ?? [], b.data.columns ?? []),
    inputs: inputChanges(a.data.inputs, b.data.inputs),
    code: await codeDiff(a, b, options.root),
    environment: changes(a.environment, b.environment),
  }
}

const MODEL_FIELDS = ['model_id', 'model_type', 'model_hash', 'model_size', 'task', 'seed', 'source', 'imported'] as const

/** True when nothing but the run itself (id, time, durations) differs. */
export function isEmptyDiff(d: RunDiff): boolean {
  const lists = [d.model, d.params, d.overrides, d.hyper_parameters, d.data, d.columns, d.inputs, d.environment, d.scores.filter((s) => s.delta !== 0)]
  return lists.every((l) => l.length === 0) && d.code.same_commit && !d.code.a.dirty && !d.code.b.dirty
}

/**
 * Values flattened to dotted keys (`model.n_estimators`); arrays and empty objects are leaves, compared as JSON.
 */
export function flatten(value: unknown, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into)
  } else if (prefix) {
    into[prefix] = value
  } else if (value !== undefined && !(typeof value === 'object' && value !== null && !Array.isArray(value))) {
    into['(value)'] = value
  }
  return into
}

export function changes(a: unknown, b: unknown): ValueChange[] {
  const x = flatten(a)
  const y = flatten(b)
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()
  const out: ValueChange[] = []
  for (const key of keys) {
    const inA = Object.hasOwn(x, key)
    const inB = Object.hasOwn(y, key)
    if (inA && inB && canonicalJson(x[key] ?? null) === canonicalJson(y[key] ?? null)) continue
    out.push({ key, ...(inA ? { a: x[key] } : {}), ...(inB ? { b: y[key] } : {}) })
  }
  return out
}

export function scoreChanges(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>): ScoreChange[] {
  const out: ScoreChange[] = []
  const metrics = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  for (const metric of metrics) {
    const splits = [...new Set([...Object.keys(a[metric] ?? {}), ...Object.keys(b[metric] ?? {})])].sort(splitOrder)
    for (const split of splits) {
      const x = a[metric]?.[split]
      const y = b[metric]?.[split]
      out.push({ metric, split, ...(x !== undefined ? { a: x } : {}), ...(y !== undefined ? { b: y } : {}), ...(x !== undefined && y !== undefined ? { delta: y - x } : {}) })
    }
  }
  return out
}

export function inputChanges(a: readonly { path: string; sha256: string }[], b: readonly { path: string; sha256: string }[]): InputChange[] {
  const x = new Map(a.map((i) => [i.path, i.sha256]))
  const y = new Map(b.map((i) => [i.path, i.sha256]))
  const out: InputChange[] = []
  for (const path of [...new Set([...x.keys(), ...y.keys()])]) {
    const ha = x.get(path)
    const hb = y.get(path)
    if (ha === hb) continue
    out.push({ path, status: ha === undefined ? 'added' : hb === undefined ? 'removed' : 'changed', ...(ha ? { a: ha } : {}), ...(hb ? { b: hb } : {}) })
  }
  return out
}

/** cv first, then hold_out, then custom splits by name. */
function splitOrder(x: string, y: string): number {
  const rank = (s: string) => (s === 'cv' ? 0 : s === 'hold_out' ? 1 : 2)
  return rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0)
}

function pick(record: MetadataRecord, keys: readonly (keyof MetadataRecord)[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, record[k]]))
}

function withoutInputs(data: MetadataRecord['data']): Record<string, unknown> {
  const { inputs: _inputs, columns: _columns, ...rest } = data
  return rest
}

export interface ColumnChange {
  name: string
  /** Its type and missing values in each run; absent: the run's data had no such column. */
  a?: { type: string; missing: number }
  b?: { type: string; missing: number }
}

/** Per column of either run, in a's order then b's new ones: those whose type or missing count differs. */
export function columnChanges(a: readonly { name: string; type: string; missing: number }[], b: readonly { name: string; type: string; missing: number }[]): ColumnChange[] {
  const x = new Map(a.map((c) => [c.name, { type: c.type, missing: c.missing }]))
  const y = new Map(b.map((c) => [c.name, { type: c.type, missing: c.missing }]))
  const out: ColumnChange[] = []
  for (const name of [...new Set([...x.keys(), ...y.keys()])]) {
    const ca = x.get(name)
    const cb = y.get(name)
    if (ca && cb && ca.type === cb.type && ca.missing === cb.missing) continue
    out.push({ name, ...(ca ? { a: ca } : {}), ...(cb ? { b: cb } : {}) })
  }
  return out
}

function codeSide(record: MetadataRecord): CodeSide {
  const diff = (record.git as { diff?: { file?: unknown } | null }).diff
  return { commit: record.git.commit, branch: record.git.branch, dirty: record.git.dirty, ...(diff && typeof diff.file === 'string' ? { diff: diff.file } : {}) }
}

async function codeDiff(a: MetadataRecord, b: MetadataRecord, root: string | undefined): Promise<CodeDiff> {
  const sideA = codeSide(a)
  const sideB = codeSide(b)
  const notes: string[] = []
  for (const [name, side] of [['a', sideA], ['b', sideB]] as const) {
    if (side.dirty) notes.push(`${name} was trained from uncommitted changes${side.diff ? ` (saved in ${side.diff})` : ' (no diff was saved)'}: they are not in the file list`)
  }
  const same = sideA.commit === sideB.commit
  const result: CodeDiff = { a: sideA, b: sideB, same_commit: same, notes }
  if (same || !sideA.commit || !sideB.commit) {
    if (!sideA.commit || !sideB.commit) notes.push('a run has no commit recorded (trained outside git)')
    return result
  }
  if (!root) return result
  const [hasA, hasB] = await Promise.all([commitExists(root, sideA.commit), commitExists(root, sideB.commit)])
  if (!hasA || !hasB) {
    notes.push(`commit ${(!hasA ? sideA.commit : sideB.commit).slice(0, 12)} is not in this repository: no file list`)
    return result
  }
  const out = await git(root, ['diff', '--name-status', '--no-renames', sideA.commit, sideB.commit])
  if (out.code !== 0) {
    notes.push(`git diff failed: ${out.stderr.trim().split('\n')[0] ?? ''}`)
    return result
  }
  result.files = out.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [status = '', ...path] = line.split('\t')
      return { status, path: path.join('\t') }
    })
  return result
}
