// Reading prediction requests into rows of the served model's columns: a request holds the raw values its training
// data had (numbers, category strings, dates as text, booleans; null is a missing value), keyed by input column or in
// input order, and every one goes through the one encoder (src/data/encode.ts) that training and predict.ts use, so
// a value means the same here. Pure functions that throw a ServeError listing every problem ({row, field, problem}).
//
// Values outside the training data's min/max (feature_schema) are allowed on purpose: a model still answers for
// them, and drift is for monitoring to judge, not for the request to fail. So are categories training never saw:
// they are predicted as missing values, and told to `unseen` (the server counts them).
import { emptyRow, encodeText, encodeValue, type InputField, type InputSchema, type UnseenCategory } from '../data/index.js'
import { closest, quote } from '../errors/index.js'
import { MAX_DETAILS, ServeError, type Problem } from './errors.js'

export interface PredictRequest {
  rows: number[][]
  /** The body's `probabilities`, when it has one. */
  probabilities: boolean | undefined
}

const PREDICT_KEYS = new Set(['features', 'records', 'probabilities'])

/**
 * A /predict body: `{"features": [..]}` (one row, in input order), `{"features": [[..], ..]}` (rows),
 * `{"records": [{name: value}, ..]}` (rows keyed by input name; one object is one row), and optionally
 * `"probabilities": true`.
 */
export function readPredictBody(body: unknown, schema: InputSchema, maxRows: number, unseen?: UnseenCategory): PredictRequest {
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
    rows = isPlainObject(records) ? fromRecords([records], schema, maxRows, unseen) : Array.isArray(records) ? fromRecords(records, schema, maxRows, unseen) : notRows('records', records)
  } else {
    const features = body.features
    if (isPlainObject(features)) rows = fromRecords([features], schema, maxRows, unseen)
    else if (!Array.isArray(features)) rows = notRows('features', features)
    else if (features.length === 0) throw noRows()
    else if (Array.isArray(features[0])) rows = fromArrays(features, schema, maxRows, unseen)
    else if (isPlainObject(features[0])) rows = fromRecords(features, schema, maxRows, unseen)
    else rows = fromArrays([features], schema, maxRows, unseen)
  }
  return { rows, probabilities }
}

const INVOCATION_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const

/**
 * An MLflow scoring request (/invocations, JSON): exactly one of `dataframe_split` ({columns?, data, index?}),
 * `dataframe_records` ([{name: value}]), `instances` or `inputs` (rows as arrays or records, or columns as
 * {name: [values]}).
 */
export function readInvocationsBody(body: unknown, schema: InputSchema, maxRows: number, unseen?: UnseenCategory): number[][] {
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
      return fromDataframeSplit(value, schema, maxRows, unseen)
    case 'dataframe_records':
      if (!Array.isArray(value)) return notRows(key, value)
      return fromRecords(value, schema, maxRows, unseen)
    case 'instances':
    case 'inputs':
      return fromInstances(key, value, schema, maxRows, unseen)
  }
}

function fromDataframeSplit(value: unknown, schema: InputSchema, maxRows: number, unseen: UnseenCategory | undefined): number[][] {
  if (!isPlainObject(value)) throw malformed(`"dataframe_split" must be an object {columns, data}, got ${kindOf(value)}`)
  for (const key of Object.keys(value)) {
    if (key !== 'columns' && key !== 'data' && key !== 'index') throw malformed(`unknown key ${quote(key)} in "dataframe_split"; it takes columns, data and index`, [{ row: null, field: `dataframe_split.${key}`, problem: 'unknown key' }])
  }
  const { columns, data } = value
  if (!Array.isArray(data)) return notRows('dataframe_split.data', data)
  if (columns === undefined) return fromArrays(data, schema, maxRows, unseen)
  if (!Array.isArray(columns) || !columns.every((c): c is string => typeof c === 'string')) throw malformed('"dataframe_split.columns" must be an array of feature names')
  if (sameOrder(columns, schema.names)) return fromArrays(data, schema, maxRows, unseen)
  // Columns in another order (or with names missing or unknown): map each row through its names.
  if (data.length === 0) throw noRows()
  checkRowCount(data.length, maxRows)
  const problems = new Problems()
  const seen = new Set<string>()
  for (const name of columns) {
    if (seen.has(name)) problems.add(null, name, 'is given twice in columns')
    seen.add(name)
    if (!schema.index.has(name)) problems.add(null, name, notAnInput(name, schema))
  }
  for (const name of schema.names) if (!seen.has(name)) problems.add(null, name, 'is missing from columns')
  problems.throwIfAny()
  const width = columns.length
  const columnOf = schema.names.map((name) => columns.indexOf(name))
  const rows: number[][] = new Array(data.length)
  for (let r = 0; r < data.length && !problems.full; r++) {
    const given = data[r]
    if (!Array.isArray(given) || given.length !== width) {
      problems.add(r, null, Array.isArray(given) ? `has ${given.length} value${given.length === 1 ? '' : 's'}, columns has ${width}` : `is ${kindOf(given)}, not an array of ${width} values`)
      continue
    }
    rows[r] = encodeArray(given, columnOf, schema, r, problems, unseen)
  }
  problems.throwIfAny()
  return rows
}

function fromInstances(key: string, value: unknown, schema: InputSchema, maxRows: number, unseen: UnseenCategory | undefined): number[][] {
  if (isPlainObject(value)) {
    // columns: {name: [values]}
    const columns = Object.entries(value)
    const lengths = new Set(columns.map(([, v]) => (Array.isArray(v) ? v.length : -1)))
    if (lengths.has(-1) || lengths.size !== 1) throw malformed(`"${key}" as an object must map each feature name to an array of values, all of the same length`)
    const n = [...lengths][0]!
    checkRowCount(n, maxRows)
    const records = Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, v]) => [name, (v as unknown[])[i]])))
    return fromRecords(records, schema, maxRows, unseen)
  }
  if (!Array.isArray(value)) return notRows(key, value)
  if (value.length === 0) throw noRows()
  if (isPlainObject(value[0])) return fromRecords(value, schema, maxRows, unseen)
  if (!Array.isArray(value[0]) && schema.fields.length === 1) return fromArrays(value.map((v) => [v]), schema, maxRows, unseen)
  return fromArrays(value, schema, maxRows, unseen)
}

/**
 * Rows as arrays of raw values in input order (`schema.names`). The fast path (a model of plain numbers, every row
 * a right-length array of finite numbers) returns the arrays themselves, copying nothing.
 */
export function fromArrays(data: readonly unknown[], schema: InputSchema, maxRows: number, unseen?: UnseenCategory): number[][] {
  if (data.length === 0) throw noRows()
  checkRowCount(data.length, maxRows)
  if (schema.plain && finiteRows(data, schema.width)) return data as number[][]
  const inputs = schema.fields.length
  const problems = new Problems()
  const rows: number[][] = new Array(data.length)
  for (let r = 0; r < data.length && !problems.full; r++) {
    const given = data[r]
    if (!Array.isArray(given)) {
      problems.add(r, null, `is ${kindOf(given)}, not an array of ${inputs} values`)
      continue
    }
    if (given.length !== inputs) {
      problems.add(r, null, `has ${given.length} value${given.length === 1 ? '' : 's'}, the model takes ${inputs} (${schema.names.join(', ')})`)
      continue
    }
    rows[r] = encodeArray(given, undefined, schema, r, problems, unseen)
  }
  problems.throwIfAny()
  return rows
}

/** Whether every row is an array of `width` finite numbers: the model's rows as they are. */
function finiteRows(data: readonly unknown[], width: number): boolean {
  for (let r = 0; r < data.length; r++) {
    const row = data[r]
    if (!Array.isArray(row) || row.length !== width) return false
    for (let c = 0; c < width; c++) {
      const v = row[c]
      if (typeof v !== 'number' || !Number.isFinite(v)) return false
    }
  }
  return true
}

/** One row of raw values into the model's columns; `at`: where each input is in `given` (absent: in input order). */
function encodeArray(given: readonly unknown[], at: readonly number[] | undefined, schema: InputSchema, r: number, problems: Problems, unseen: UnseenCategory | undefined): number[] {
  const row = emptyRow(schema)
  const { fields } = schema
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!
    const problem = encodeValue(field, given[at ? at[i]! : i], row, unseen)
    if (problem !== undefined) problems.add(r, field.name, problem)
  }
  return row
}

/** Rows as records of raw values keyed by input name, into the model's columns. */
export function fromRecords(records: readonly unknown[], schema: InputSchema, maxRows: number, unseen?: UnseenCategory): number[][] {
  if (records.length === 0) throw noRows()
  checkRowCount(records.length, maxRows)
  const { fields, index } = schema
  const rows: number[][] = new Array(records.length)
  const problems = new Problems()
  for (let r = 0; r < records.length; r++) {
    const record = records[r]
    if (!isPlainObject(record)) {
      problems.add(r, null, `is ${kindOf(record)}, not an object keyed by feature name`)
      continue
    }
    const row = emptyRow(schema)
    let found = 0
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!
      // own keys only: an input named like an Object method ("constructor") is not found on the prototype
      if (!Object.hasOwn(record, field.name)) {
        problems.add(r, field.name, 'is missing')
        continue
      }
      found++
      const problem = encodeValue(field, record[field.name], row, unseen)
      if (problem !== undefined) problems.add(r, field.name, problem)
    }
    if (Object.keys(record).length > found) {
      for (const key of Object.keys(record)) if (!index.has(key)) problems.add(r, key, notAnInput(key, schema))
    }
    rows[r] = row
    if (problems.full) break
  }
  problems.throwIfAny()
  return rows
}

/**
 * A CSV body (/invocations with Content-Type text/csv): a header row of input names (any order), then one row per
 * line, its cells read as the training data's were (its missing-value tokens, e.g. an empty cell, and decimal
 * separator). Fields may be quoted ("..."); empty lines are skipped.
 */
export function readCsv(text: string, schema: InputSchema, maxRows: number, unseen?: UnseenCategory): number[][] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '')
  if (lines.length === 0) throw malformed('the CSV body is empty; it needs a header row of feature names, then rows')
  const header = splitCsvLine(lines[0]!, 0).map((name) => name.trim())
  if (lines.length === 1) throw noRows()
  checkRowCount(lines.length - 1, maxRows)
  const problems = new Problems()
  const seen = new Set<string>()
  const { fields } = schema
  const columnOf: number[] = new Array(fields.length)
  header.forEach((name, i) => {
    const at = schema.index.get(name)
    if (at === undefined) problems.add(null, name, notAnInput(name, schema))
    else if (seen.has(name)) problems.add(null, name, 'is given twice in the header')
    else columnOf[at] = i
    seen.add(name)
  })
  for (const name of schema.names) if (!seen.has(name)) problems.add(null, name, 'is missing from the header row')
  problems.throwIfAny()
  const rows: number[][] = new Array(lines.length - 1)
  for (let r = 0; r < rows.length && !problems.full; r++) {
    const cells = splitCsvLine(lines[r + 1]!, r + 1)
    if (cells.length !== header.length) {
      problems.add(r, null, `has ${cells.length} field${cells.length === 1 ? '' : 's'}, the header has ${header.length}`)
      continue
    }
    const row = emptyRow(schema)
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!
      const problem = encodeText(schema, field, cells[columnOf[i]!]!, row, unseen)
      if (problem !== undefined) problems.add(r, field.name, problem)
    }
    rows[r] = row
  }
  problems.throwIfAny()
  return rows
}

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

type DatetimeInput = Extract<InputField, { type: 'datetime' }>

/** The problem with a name that is not an input: a near name, a datetime part's own name, or the inputs. */
function notAnInput(name: string, schema: InputSchema): string {
  // the manifest lists a datetime's parts as features (`signup_year`): a request gives the date itself
  const date = schema.fields.find((f): f is DatetimeInput => f.type === 'datetime' && name.startsWith(`${f.name}_`) && (f.parts as readonly string[]).includes(name.slice(f.name.length + 1)))
  if (date) return `is a part of the datetime ${quote(date.name)}, not an input: send ${quote(date.name)} itself (a date or timestamp), and the model reads its ${date.parts.join(', ')} from it`
  const near = closest(name, schema.names)
  return `is not a feature of the model${near ? `; did you mean ${quote(near)}?` : ` (its features: ${schema.names.join(', ')})`}`
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
