// Reading prediction requests into rows of numbers in the served model's feature order, checked against its
// signature: pure functions that throw a ServeError listing every problem ({row, field, problem}).
//
// Values outside the training data's min/max (feature_schema) are allowed on purpose: a model still answers for
// them, and drift is for monitoring to judge, not for the request to fail.
import { closest, quote } from '../errors/index.js'
import { MAX_DETAILS, ServeError, type Problem } from './errors.js'

/** What validation needs of the served model: its feature names, in signature order. */
export interface InputSchema {
  features: readonly string[]
  /** Feature name → column. */
  index: ReadonlyMap<string, number>
}

const schemas = new WeakMap<readonly string[], InputSchema>()

/** The input schema of a feature list; cached per list, so a request costs no allocation for it. */
export function inputSchemaOf(features: readonly string[]): InputSchema {
  let schema = schemas.get(features)
  if (!schema) {
    schema = { features, index: new Map(features.map((name, i) => [name, i])) }
    schemas.set(features, schema)
  }
  return schema
}

export interface PredictRequest {
  rows: number[][]
  /** The body's `probabilities`, when it has one. */
  probabilities: boolean | undefined
}

const PREDICT_KEYS = new Set(['features', 'records', 'probabilities'])

/**
 * A /predict body: `{"features": [..]}` (one row, in feature order), `{"features": [[..], ..]}` (rows),
 * `{"records": [{name: value}, ..]}` (rows keyed by feature name; one object is one row), and optionally
 * `"probabilities": true`.
 */
export function readPredictBody(body: unknown, schema: InputSchema, maxRows: number): PredictRequest {
  if (!isPlainObject(body)) throw malformed(`the body must be a JSON object with "features" or "records", got ${kindOf(body)}`)
  for (const key of Object.keys(body)) {
    if (!PREDICT_KEYS.has(key)) throw malformed(`unknown key ${quote(key)} in the body; it takes "features" or "records", and "probabilities"`, [{ row: null, field: key, problem: 'unknown key' }])
  }
  const probabilities = body.probabilities
  if (probabilities !== undefined && typeof probabilities !== 'boolean') {
    throw malformed(`"probabilities" must be true or false, got ${quote(probabilities)}`, [{ row: null, field: 'probabilities', problem: `is ${kindOf(probabilities)}, not a boolean` }])
  }
  const hasFeatures = 'features' in body
  const hasRecords = 'records' in body
  if (hasFeatures === hasRecords) throw malformed(hasFeatures ? 'give "features" or "records", not both' : 'the body has neither "features" nor "records"')
  let rows: number[][]
  if (hasRecords) {
    const records = body.records
    rows = isPlainObject(records) ? fromRecords([records], schema, maxRows) : Array.isArray(records) ? fromRecords(records, schema, maxRows) : notRows('records', records)
  } else {
    const features = body.features
    if (isPlainObject(features)) rows = fromRecords([features], schema, maxRows)
    else if (!Array.isArray(features)) rows = notRows('features', features)
    else if (features.length === 0) throw noRows()
    else if (Array.isArray(features[0])) rows = fromArrays(features, schema, maxRows)
    else if (isPlainObject(features[0])) rows = fromRecords(features, schema, maxRows)
    else rows = fromArrays([features], schema, maxRows)
  }
  return { rows, probabilities }
}

const INVOCATION_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const

/**
 * An MLflow scoring request (/invocations, JSON): exactly one of `dataframe_split` ({columns?, data, index?}),
 * `dataframe_records` ([{name: value}]), `instances` or `inputs` (rows as arrays or records, or columns as
 * {name: [values]}).
 */
export function readInvocationsBody(body: unknown, schema: InputSchema, maxRows: number): number[][] {
  if (!isPlainObject(body)) throw malformed(`the body must be a JSON object with one of ${INVOCATION_KEYS.join(', ')}, got ${kindOf(body)}`)
  const keys = Object.keys(body)
  const unknown = keys.find((key) => !(INVOCATION_KEYS as readonly string[]).includes(key))
  if (unknown !== undefined) {
    throw malformed(`unknown key ${quote(unknown)} in the body; MLflow's scoring protocol takes one of ${INVOCATION_KEYS.join(', ')}`, [{ row: null, field: unknown, problem: 'unknown key' }])
  }
  if (keys.length !== 1) throw malformed(keys.length === 0 ? `the body has none of ${INVOCATION_KEYS.join(', ')}` : `give one of ${keys.join(', ')}, not several`)
  const key = keys[0] as (typeof INVOCATION_KEYS)[number]
  const value = body[key]
  switch (key) {
    case 'dataframe_split':
      return fromDataframeSplit(value, schema, maxRows)
    case 'dataframe_records':
      if (!Array.isArray(value)) return notRows(key, value)
      return fromRecords(value, schema, maxRows)
    case 'instances':
    case 'inputs':
      return fromInstances(key, value, schema, maxRows)
  }
}

function fromDataframeSplit(value: unknown, schema: InputSchema, maxRows: number): number[][] {
  if (!isPlainObject(value)) throw malformed(`"dataframe_split" must be an object {columns, data}, got ${kindOf(value)}`)
  for (const key of Object.keys(value)) {
    if (key !== 'columns' && key !== 'data' && key !== 'index') throw malformed(`unknown key ${quote(key)} in "dataframe_split"; it takes columns, data and index`, [{ row: null, field: `dataframe_split.${key}`, problem: 'unknown key' }])
  }
  const { columns, data } = value
  if (!Array.isArray(data)) return notRows('dataframe_split.data', data)
  if (columns === undefined) return fromArrays(data, schema, maxRows)
  if (!Array.isArray(columns) || !columns.every((c): c is string => typeof c === 'string')) throw malformed('"dataframe_split.columns" must be an array of feature names')
  if (sameOrder(columns, schema.features)) return fromArrays(data, schema, maxRows)
  // Columns in another order (or with names missing or unknown): map each row through its names.
  if (data.length === 0) throw noRows()
  checkRowCount(data.length, maxRows)
  const problems = new Problems()
  const seen = new Set<string>()
  for (const name of columns) {
    if (seen.has(name)) problems.add(null, name, 'is given twice in columns')
    seen.add(name)
    if (!schema.index.has(name)) problems.add(null, name, `is not a feature of the model${suggest(name, schema)}`)
  }
  for (const name of schema.features) if (!seen.has(name)) problems.add(null, name, 'is missing from columns')
  problems.throwIfAny()
  const width = schema.features.length
  const columnOf = schema.features.map((name) => columns.indexOf(name))
  const rows: number[][] = new Array(data.length)
  for (let r = 0; r < data.length && !problems.full; r++) {
    const given = data[r]
    if (!Array.isArray(given) || given.length !== width) {
      problems.add(r, null, Array.isArray(given) ? `has ${given.length} value${given.length === 1 ? '' : 's'}, columns has ${width}` : `is ${kindOf(given)}, not an array of ${width} values`)
      continue
    }
    const row = new Array<number>(width)
    for (let c = 0; c < width; c++) {
      const v: unknown = given[columnOf[c]!]
      const problem = valueProblem(v)
      if (problem) problems.add(r, schema.features[c]!, problem)
      else row[c] = v as number
    }
    rows[r] = row
  }
  problems.throwIfAny()
  return rows
}

function fromInstances(key: string, value: unknown, schema: InputSchema, maxRows: number): number[][] {
  if (isPlainObject(value)) {
    // columns: {name: [values]}
    const columns = Object.entries(value)
    const lengths = new Set(columns.map(([, v]) => (Array.isArray(v) ? v.length : -1)))
    if (lengths.has(-1) || lengths.size !== 1) throw malformed(`"${key}" as an object must map each feature name to an array of values, all of the same length`)
    const n = [...lengths][0]!
    checkRowCount(n, maxRows)
    const records = Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, v]) => [name, (v as unknown[])[i]])))
    return fromRecords(records, schema, maxRows)
  }
  if (!Array.isArray(value)) return notRows(key, value)
  if (value.length === 0) throw noRows()
  if (isPlainObject(value[0])) return fromRecords(value, schema, maxRows)
  if (!Array.isArray(value[0]) && schema.features.length === 1) return fromArrays(value.map((v) => [v]), schema, maxRows)
  return fromArrays(value, schema, maxRows)
}

/**
 * Rows as arrays in feature order. The fast path (every row a right-length array of finite numbers) returns the
 * arrays themselves, copying nothing.
 */
export function fromArrays(data: readonly unknown[], schema: InputSchema, maxRows: number): number[][] {
  if (data.length === 0) throw noRows()
  checkRowCount(data.length, maxRows)
  const width = schema.features.length
  let ok = true
  for (let r = 0; r < data.length && ok; r++) {
    const row = data[r]
    if (!Array.isArray(row) || row.length !== width) {
      ok = false
      break
    }
    for (let c = 0; c < width; c++) {
      const v = row[c]
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        ok = false
        break
      }
    }
  }
  if (ok) return data as number[][]
  const problems = new Problems()
  for (let r = 0; r < data.length && !problems.full; r++) {
    const row = data[r]
    if (!Array.isArray(row)) {
      problems.add(r, null, `is ${kindOf(row)}, not an array of ${width} values`)
      continue
    }
    if (row.length !== width) {
      problems.add(r, null, `has ${row.length} value${row.length === 1 ? '' : 's'}, the model takes ${width} (${schema.features.join(', ')})`)
      continue
    }
    for (let c = 0; c < width; c++) {
      const problem = valueProblem(row[c])
      if (problem) problems.add(r, schema.features[c]!, problem)
    }
  }
  problems.throwIfAny()
  return data as number[][]
}

/** Rows as records keyed by feature name, into arrays in feature order. */
export function fromRecords(records: readonly unknown[], schema: InputSchema, maxRows: number): number[][] {
  if (records.length === 0) throw noRows()
  checkRowCount(records.length, maxRows)
  const { features, index } = schema
  const width = features.length
  const rows: number[][] = new Array(records.length)
  const problems = new Problems()
  for (let r = 0; r < records.length; r++) {
    const record = records[r]
    if (!isPlainObject(record)) {
      problems.add(r, null, `is ${kindOf(record)}, not an object keyed by feature name`)
      continue
    }
    const row = new Array<number>(width)
    let found = 0
    for (let c = 0; c < width; c++) {
      const name = features[c]!
      const v = record[name]
      if (typeof v === 'number' && Number.isFinite(v)) {
        row[c] = v
        found++
        continue
      }
      if (v === undefined && !Object.hasOwn(record, name)) {
        problems.add(r, name, 'is missing')
        continue
      }
      found++
      problems.add(r, name, valueProblem(v) ?? 'is not a number')
    }
    if (Object.keys(record).length > found) {
      for (const key of Object.keys(record)) if (!index.has(key)) problems.add(r, key, `is not a feature of the model${suggest(key, schema)}`)
    }
    rows[r] = row
    if (problems.full) break
  }
  problems.throwIfAny()
  return rows
}

/**
 * A CSV body (/invocations with Content-Type text/csv): a header row of feature names (any order), then one row
 * per line. Fields may be quoted ("..."); empty lines are skipped.
 */
export function readCsv(text: string, schema: InputSchema, maxRows: number): number[][] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length === 0) throw malformed('the CSV body is empty; it needs a header row of feature names, then rows')
  const header = splitCsvLine(lines[0]!, 0).map((name) => name.trim())
  if (lines.length === 1) throw noRows()
  checkRowCount(lines.length - 1, maxRows)
  const problems = new Problems()
  const seen = new Set<string>()
  const columnOf: number[] = []
  header.forEach((name, i) => {
    const at = schema.index.get(name)
    if (at === undefined) problems.add(null, name, `is not a feature of the model${suggest(name, schema)}`)
    else if (seen.has(name)) problems.add(null, name, 'is given twice in the header')
    else columnOf[at] = i
    seen.add(name)
  })
  for (const name of schema.features) if (!seen.has(name)) problems.add(null, name, 'is missing from the header row')
  problems.throwIfAny()
  const width = schema.features.length
  const rows: number[][] = new Array(lines.length - 1)
  for (let r = 0; r < rows.length && !problems.full; r++) {
    const fields = splitCsvLine(lines[r + 1]!, r + 1)
    if (fields.length !== header.length) {
      problems.add(r, null, `has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`)
      continue
    }
    const row = new Array<number>(width)
    for (let c = 0; c < width; c++) {
      const field = fields[columnOf[c]!]!.trim()
      const value = NUMBER.test(field) ? Number(field) : NaN
      if (Number.isFinite(value)) row[c] = value
      else problems.add(r, schema.features[c]!, field === '' ? 'is empty' : NON_FINITE.test(field) ? `is ${quote(field)}: NaN and Infinity are not allowed` : `is ${quote(field)}, not a number`)
    }
    rows[r] = row
  }
  problems.throwIfAny()
  return rows
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i

function splitCsvLine(line: string, lineNumber: number): string[] {
  if (!line.includes('"')) return line.split(',')
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      fields.push(field)
      field = ''
    } else field += ch
  }
  if (quoted) throw malformed(`CSV line ${lineNumber + 1} has an unclosed quote`)
  fields.push(field)
  return fields
}

/** What is wrong with a value that should be a finite number; undefined when nothing is. */
export function valueProblem(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `is ${v}, not a finite number`
  if (v === null) return 'is null; a number is required'
  if (v === undefined) return 'is missing'
  if (typeof v === 'string') {
    const text = v.trim()
    if (NON_FINITE.test(text)) return `is the string ${quote(v)}: NaN and Infinity are not allowed`
    if (NUMBER.test(text)) return `is the string ${quote(v)}: send numbers as JSON numbers, not strings`
    return `is the string ${quote(v)}, not a number`
  }
  return `is ${kindOf(v)}, not a number`
}

function checkRowCount(rows: number, maxRows: number): void {
  if (rows > maxRows) throw new ServeError('MLSKEL_SERVE_TOO_MANY_ROWS', `the request has ${rows} rows; the server takes at most ${maxRows} per request`)
}

function noRows(): ServeError {
  return new ServeError('MLSKEL_SERVE_INVALID_INPUT', 'the request has no rows to predict', [{ row: null, field: null, problem: 'no rows' }])
}

function notRows(key: string, value: unknown): never {
  throw malformed(`${quote(key)} must be an array of rows, got ${kindOf(value)}`, [{ row: null, field: key, problem: `is ${kindOf(value)}, not an array` }])
}

function malformed(message: string, details?: Problem[]): ServeError {
  return new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', message, details)
}

function suggest(name: string, schema: InputSchema): string {
  const near = closest(name, schema.features)
  return near ? `; did you mean ${quote(near)}?` : ` (its features: ${schema.features.join(', ')})`
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i])
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return `the string ${quote(v)}`
  if (v === undefined) return 'nothing'
  return `${typeof v} ${String(v)}`
}

/** Problems gathered over a request: the first MAX_DETAILS are kept, all are counted. */
class Problems {
  readonly list: Problem[] = []
  count = 0

  get full(): boolean {
    return this.count >= MAX_DETAILS
  }

  add(row: number | null, field: string | null, problem: string): void {
    this.count++
    if (this.list.length < MAX_DETAILS) this.list.push({ row, field, problem })
  }

  throwIfAny(): void {
    if (this.count === 0) return
    const first = this.list[0]!
    const where = [first.row === null ? '' : `row ${first.row}`, first.field === null ? '' : `field ${quote(first.field)}`].filter(Boolean).join(', ')
    const more = this.full ? ` (and more; the first ${MAX_DETAILS} are in details)` : this.count > 1 ? ` (and ${this.count - 1} more problem${this.count > 2 ? 's' : ''}, in details)` : ''
    throw new ServeError('MLSKEL_SERVE_INVALID_INPUT', `${where ? `${where}: ` : ''}${first.problem}${more}`, this.list)
  }
}
