// Reading prediction requests into rows of the served model's columns, schema first. A request holds the raw values
// its training data had (numbers, category strings, dates as text, booleans; null is a missing value), keyed by input
// column or in input order. For each served model, JSON Schemas of its requests are made from its inputs (each value's
// schema is the one encoder's, src/data/encode.ts's valueSchemaOf) and compiled by Ajv once, when the model is first
// read with (the server does it when the model swaps in): the body's shape, and its rows as arrays or as records.
// Ajv validates every value once; the encoder then only reads values into the model's columns (a boolean word or a
// date is found wrong by reading it), and the rows it makes go to the predictor as CheckedRows, not checked again.
//
// A body the validators refuse is explained in mlskel's terms: Ajv's first error says where (the body's shape, the
// number of rows, or a row), and a row's problems come from validators that list them all, one row at a time, so a
// body of 10,000 bad rows costs at most the 100 problems kept ({row, field, problem}, worded by the encoder).
//
// Values outside the training data's min/max (feature_schema) are allowed on purpose: a model still answers for
// them, and drift is for monitoring to judge, not for the request to fail. So are categories training never saw:
// they are predicted as missing values, and told to `unseen` (the server counts them).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { CsvError, parse as parseCsv } from 'csv-parse/sync'
import { emptyRow, encodeChecked, encodeText, encodeValue, valueSchemaOf, type InputField, type InputSchema, type UnseenCategory } from '../data/index.js'
import { closest, quote } from '../errors/index.js'
import { asCheckedRows, type CheckedRows } from '../models/index.js'
import { MAX_DETAILS, ServeError, type Problem } from './errors.js'

export interface PredictRequest {
  rows: CheckedRows
  /** The body's `probabilities`, when it has one. */
  probabilities: boolean | undefined
}

/**
 * A /predict body: `{"features": [..]}` (one row, in input order), `{"features": [[..], ..]}` (rows),
 * `{"records": [{name: value}, ..]}` (rows keyed by input name; one object is one row), and optionally
 * `"probabilities": true`.
 */
export function readPredictBody(body: unknown, schema: InputSchema, maxRows: number, unseen?: UnseenCategory): PredictRequest {
  return requestReader(schema, maxRows).predict(body, unseen)
}

/**
 * An MLflow scoring request (/invocations, JSON): exactly one of `dataframe_split` ({columns?, data, index?}),
 * `dataframe_records` ([{name: value}]), `instances` or `inputs` (rows as arrays or records, or columns as
 * {name: [values]}).
 */
export function readInvocationsBody(body: unknown, schema: InputSchema, maxRows: number, unseen?: UnseenCategory): CheckedRows {
  return requestReader(schema, maxRows).invocations(body, unseen)
}

/**
 * Rows as arrays of raw values in input order (`schema.names`). A model of plain numbers gets the arrays themselves
 * when they hold no null, copying nothing.
 */
export function fromArrays(data: readonly unknown[], schema: InputSchema, maxRows: number, unseen?: UnseenCategory): CheckedRows {
  return requestReader(schema, maxRows).rows('arrays', data, unseen)
}

/** Rows as records of raw values keyed by input name, into the model's columns. */
export function fromRecords(records: readonly unknown[], schema: InputSchema, maxRows: number, unseen?: UnseenCategory): CheckedRows {
  return requestReader(schema, maxRows).rows('records', records, unseen)
}

/**
 * A CSV body (/invocations with Content-Type text/csv), parsed by csv-parse: a header row of input names (any order),
 * then one record per row, its cells read as the training data's were (its missing-value tokens, e.g. an empty cell,
 * and decimal separator). Fields may be quoted ("...", with "" for a quote), and a quoted field may hold commas and
 * line breaks; records end with \n, \r\n or \r; blank lines are skipped.
 */
export function readCsv(text: string, schema: InputSchema, maxRows: number, unseen?: UnseenCategory): CheckedRows {
  return requestReader(schema, maxRows).csv(text, unseen)
}

/** The readers of one model's requests, their validators compiled. */
export interface RequestReader {
  predict(body: unknown, unseen?: UnseenCategory): PredictRequest
  invocations(body: unknown, unseen?: UnseenCategory): CheckedRows
  csv(text: string, unseen?: UnseenCategory): CheckedRows
  rows(kind: RowsKind, data: readonly unknown[], unseen?: UnseenCategory): CheckedRows
}

type RowsKind = 'arrays' | 'records'

/** An Ajv validator, not as a type guard (which would narrow what it refused to `never`). */
type Validator = ((data: unknown) => boolean) & Pick<ValidateFunction, 'errors'>

const readers = new WeakMap<InputSchema, Map<number, RequestReader>>()

/**
 * The readers of requests for a model's inputs, at most `maxRows` rows a request: made (their JSON Schemas compiled)
 * on the first call for an input schema and row limit, then the same object.
 */
export function requestReader(schema: InputSchema, maxRows: number): RequestReader {
  let byRows = readers.get(schema)
  if (!byRows) readers.set(schema, (byRows = new Map()))
  let reader = byRows.get(maxRows)
  if (!reader) byRows.set(maxRows, (reader = makeReader(schema, maxRows)))
  return reader
}

const PREDICT_KEYS = ['features', 'records', 'probabilities'] as const
const INVOCATION_KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const

/**
 * The JSON Schemas (draft 2020-12) of a model's requests, by $id: `row` (the inputs' values in input order), `record`
 * (keyed by input name), `arrays` and `records` (1 to maxRows of them), and the bodies' shapes, `predict` and
 * `invocations` (where their rows are; the rows are validated as `arrays` or `records` once found).
 */
export function requestSchemas(schema: InputSchema, maxRows: number): Record<'row' | 'record' | 'arrays' | 'records' | 'predict' | 'invocations', Record<string, unknown>> {
  const values = schema.fields.map(valueSchemaOf)
  const n = schema.fields.length
  const rowsOf = (ref: string) => ({ type: 'array', minItems: 1, maxItems: maxRows, items: { $ref: ref } })
  return {
    row: { $id: 'row', type: 'array', minItems: n, maxItems: n, prefixItems: values },
    record: { $id: 'record', type: 'object', required: schema.names, additionalProperties: false, properties: Object.fromEntries(schema.names.map((name, i) => [name, values[i]])) },
    arrays: { $id: 'arrays', ...rowsOf('row') },
    records: { $id: 'records', ...rowsOf('record') },
    predict: {
      $id: 'predict',
      type: 'object',
      additionalProperties: false,
      properties: { probabilities: { type: 'boolean' }, features: { type: ['array', 'object'] }, records: { type: ['array', 'object'] } },
      // "neither" is found where the rows are looked for; it must come after an unknown key, which would name it
      dependentSchemas: { features: { not: { required: ['records'] } } },
    },
    invocations: {
      $id: 'invocations',
      type: 'object',
      additionalProperties: false,
      properties: {
        dataframe_split: {
          type: 'object',
          required: ['data'],
          additionalProperties: false,
          properties: { columns: { type: 'array', items: { type: 'string' } }, data: { type: 'array' }, index: true },
        },
        dataframe_records: { type: 'array' },
        instances: { type: ['array', 'object'] },
        inputs: { type: ['array', 'object'] },
      },
    },
  }
}

function makeReader(schema: InputSchema, maxRows: number): RequestReader {
  const schemas = requestSchemas(schema, maxRows)
  // Validators that stop at the first error, for every request; strict, so a schema Ajv would read otherwise than
  // written fails here, not in a request. ownProperties: an input named like an Object method ("constructor") is a
  // record's own key or missing. validateSchema off: checking the schemas against draft 2020-12's meta-schema compiled
  // that meta-schema in each Ajv, ~75 of the ~115 ms a model's readers took to make at every start and swap; these
  // schemas are made here, and validate.test.ts checks them against it for every kind of input.
  const options = { strict: true, allowUnionTypes: true, ownProperties: true, validateSchema: false } as const
  const fast = new Ajv2020({ ...options, schemas: Object.values(schemas) })
  const gate = (id: keyof typeof schemas) => fast.getSchema(id)!
  const predictShape = gate('predict')
  const invocationsShape = gate('invocations')
  const rowsValid: Record<RowsKind, Validator> = { arrays: gate('arrays'), records: gate('records') }
  // and, for a request refused, validators of one row that list all its errors with the values that made them
  const every = new Ajv2020({ ...options, allErrors: true, verbose: true, schemas: [schemas.row, schemas.record] })
  const rowValid: Record<RowsKind, Validator> = { arrays: every.getSchema('row')!, records: every.getSchema('record')! }
  const { fields, names, index } = schema
  const width = fields.length

  /** Rows found in a body, validated (413 for too many, 400 listing each problem) and read into the model's columns. */
  const rows = (kind: RowsKind, data: readonly unknown[], unseen: UnseenCategory | undefined): CheckedRows => {
    const validate = rowsValid[kind]
    if (validate(data)) return encode(kind, data, unseen)
    const first = validate.errors![0]!
    if (first.instancePath === '' && first.keyword === 'maxItems') throw tooManyRows(data.length, maxRows)
    if (first.instancePath === '' && first.keyword === 'minItems') throw noRows()
    const problems = explain(kind, data, unseen)
    // the validators of a row take what the validator of rows refuses in one: never a body passed with no problem
    if (problems.count === 0) throw new Error(`a request's ${kind} were refused (${first.instancePath} ${first.keyword}), but no row has a problem`)
    return problems.throw()
  }

  /** Valid rows into the model's columns; a value that does not read (a boolean word, a date) is a problem. */
  const encode = (kind: RowsKind, data: readonly unknown[], unseen: UnseenCategory | undefined): CheckedRows => {
    if (kind === 'arrays' && schema.plain) return asCheckedRows(numbersOf(data as readonly (number | null)[][]))
    const problems = new Problems()
    const out: number[][] = new Array(data.length)
    for (let r = 0; r < data.length && !problems.full; r++) {
      const given = data[r] as unknown[] | Record<string, unknown>
      const row = emptyRow(schema)
      for (let i = 0; i < width; i++) {
        const field = fields[i]!
        const problem = encodeChecked(field, kind === 'arrays' ? (given as unknown[])[i] : (given as Record<string, unknown>)[field.name], row, unseen)
        if (problem !== undefined) problems.add(r, field.name, problem)
      }
      out[r] = row
    }
    problems.throwIfAny()
    return asCheckedRows(out)
  }

  /** Every problem of rows that were refused, row by row, until MAX_DETAILS: Ajv's errors in mlskel's words. */
  const explain = (kind: RowsKind, data: readonly unknown[], unseen: UnseenCategory | undefined): Problems => {
    const problems = new Problems()
    const validate = rowValid[kind]
    const scratch = emptyRow(schema)
    for (let r = 0; r < data.length && !problems.full; r++) {
      const given = data[r]
      const errors = validate(given) ? [] : validate.errors!
      // a row that is not an array of the inputs, or not an object: one problem
      if (errors.some((e) => e.instancePath === '' && (e.keyword === 'type' || e.keyword === 'minItems' || e.keyword === 'maxItems'))) {
        problems.add(r, null, kind === 'records' ? `is ${kindOf(given)}, not an object keyed by feature name` : Array.isArray(given) ? `has ${given.length} value${given.length === 1 ? '' : 's'}, the model takes ${width} (${names.join(', ')})` : `is ${kindOf(given)}, not an array of ${width} values`)
        continue
      }
      const found: { at: number; field: string; problem: string }[] = []
      const wrong = new Set<number>()
      for (const e of errors) {
        if (e.keyword === 'required') {
          const name = (e.params as { missingProperty: string }).missingProperty
          wrong.add(index.get(name)!)
          found.push({ at: index.get(name)!, field: name, problem: 'is missing' })
        } else if (e.keyword === 'additionalProperties') {
          // after the inputs, in the record's order
          const name = (e.params as { additionalProperty: string }).additionalProperty
          found.push({ at: Infinity, field: name, problem: notAnInput(name, schema) })
        } else {
          // a value its input does not take: worded as the encoder words it
          const at = valueIndex(e, kind)
          if (wrong.has(at)) continue
          wrong.add(at)
          found.push({ at, field: names[at]!, problem: encodeValue(fields[at]!, e.data, scratch)! })
        }
      }
      // the values of the right type may still not read (a boolean word, a date)
      for (let i = 0; i < width; i++) {
        if (wrong.has(i)) continue
        const field = fields[i]!
        const problem = encodeChecked(field, kind === 'arrays' ? (given as unknown[])[i] : (given as Record<string, unknown>)[field.name], scratch, unseen)
        if (problem !== undefined) found.push({ at: i, field: field.name, problem })
      }
      found.sort((a, b) => a.at - b.at)
      for (const { field, problem } of found) problems.add(r, field, problem)
    }
    return problems
  }

  /** The input of a value's error: its place in a row, or its name in a record (a JSON pointer's last token). */
  const valueIndex = (e: ErrorObject, kind: RowsKind): number => {
    const token = e.instancePath.slice(1)
    return kind === 'arrays' ? Number(token) : index.get(token.replaceAll('~1', '/').replaceAll('~0', '~'))!
  }

  return {
    rows: (kind, data, unseen) => rows(kind, data, unseen),

    predict(body, unseen) {
      if (!predictShape(body)) {
        const first = predictShape.errors![0]!
        // both keys is said before what is wrong with either
        if ((first.instancePath === '/features' || first.instancePath === '/records') && 'features' in (body as object) && 'records' in (body as object)) throw malformed('give "features" or "records", not both')
        throw shapeError(first, body, PREDICT_SHAPE)
      }
      const b = body as { features?: unknown[] | Record<string, unknown>; records?: unknown[] | Record<string, unknown>; probabilities?: boolean }
      let found: CheckedRows
      if (b.records !== undefined) found = isPlainObject(b.records) ? rows('records', [b.records], unseen) : rows('records', b.records, unseen)
      else if (b.features === undefined) throw malformed('the body has neither "features" nor "records"')
      else if (isPlainObject(b.features)) found = rows('records', [b.features], unseen)
      else if (b.features.length === 0) throw noRows()
      else if (Array.isArray(b.features[0])) found = rows('arrays', b.features, unseen)
      else if (isPlainObject(b.features[0])) found = rows('records', b.features, unseen)
      else found = rows('arrays', [b.features], unseen)
      return { rows: found, probabilities: b.probabilities }
    },

    invocations(body, unseen) {
      if (!invocationsShape(body)) {
        const first = invocationsShape.errors![0]!
        // several keys is said before what is wrong with any of them (an unknown key, before that)
        if (first.instancePath !== '' && Object.keys(body as object).length > 1) throw several(Object.keys(body as object))
        throw shapeError(first, body, INVOCATIONS_SHAPE)
      }
      const keys = Object.keys(body as object)
      if (keys.length === 0) throw malformed(`the body has none of ${INVOCATION_KEYS.join(', ')}`)
      if (keys.length > 1) throw several(keys)
      const key = keys[0] as (typeof INVOCATION_KEYS)[number]
      const value = (body as Record<string, unknown>)[key]
      switch (key) {
        case 'dataframe_split': {
          const { columns, data } = value as { columns?: string[]; data: unknown[] }
          if (columns === undefined || sameOrder(columns, names)) return rows('arrays', data, unseen)
          return rows('arrays', inInputOrder(columns, data), unseen)
        }
        case 'dataframe_records':
          return rows('records', value as unknown[], unseen)
        case 'instances':
        case 'inputs':
          return fromInstances(key, value as unknown[] | Record<string, unknown>, unseen)
      }
    },

    csv(text, unseen) {
      let records: string[][]
      try {
        records = parseCsv(text, { bom: true, relax_column_count: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n', '\r'] }) as string[][]
      } catch (error) {
        if (error instanceof CsvError) throw malformed(`the CSV body is not valid CSV: ${error.message}`)
        throw error
      }
      // a line of spaces is empty too
      records = records.filter((record) => record.length > 1 || record[0]!.trim() !== '')
      if (records.length === 0) throw malformed('the CSV body is empty; it needs a header row of feature names, then rows')
      const header = records[0]!.map((name) => name.trim())
      if (records.length === 1) throw noRows()
      checkRowCount(records.length - 1, maxRows)
      const problems = new Problems()
      const columnOf = columnsOf(header, 'the header', 'the header row', problems)
      problems.throwIfAny()
      const out: number[][] = new Array(records.length - 1)
      for (let r = 0; r < out.length && !problems.full; r++) {
        const cells = records[r + 1]!
        if (cells.length !== header.length) {
          problems.add(r, null, `has ${cells.length} field${cells.length === 1 ? '' : 's'}, the header has ${header.length}`)
          continue
        }
        const row = emptyRow(schema)
        for (let i = 0; i < width; i++) {
          const field = fields[i]!
          const problem = encodeText(schema, field, cells[columnOf[i]!]!, row, unseen)
          if (problem !== undefined) problems.add(r, field.name, problem)
        }
        out[r] = row
      }
      problems.throwIfAny()
      return asCheckedRows(out)
    },
  }

  /** Where each input is among `names` (a header, or dataframe_split's columns): every input once, and nothing else. */
  function columnsOf(given: readonly string[], where: string, whereMissing: string, problems: Problems): number[] {
    const seen = new Set<string>()
    const columnOf: number[] = new Array(width)
    given.forEach((name, i) => {
      const at = index.get(name)
      if (at === undefined) problems.add(null, name, notAnInput(name, schema))
      else if (seen.has(name)) problems.add(null, name, `is given twice in ${where}`)
      else columnOf[at] = i
      seen.add(name)
    })
    for (const name of names) if (!seen.has(name)) problems.add(null, name, `is missing from ${whereMissing}`)
    return columnOf
  }

  /** dataframe_split's data in the order of its columns, as rows in input order (a row not of their width as it is). */
  function inInputOrder(columns: readonly string[], data: readonly unknown[]): unknown[] {
    if (data.length === 0) throw noRows()
    checkRowCount(data.length, maxRows)
    const problems = new Problems()
    const columnOf = columnsOf(columns, 'columns', 'columns', problems)
    problems.throwIfAny()
    return data.map((given) => (Array.isArray(given) && given.length === columns.length ? columnOf.map((at) => given[at]) : given))
  }

  function fromInstances(key: string, value: unknown[] | Record<string, unknown>, unseen: UnseenCategory | undefined): CheckedRows {
    if (isPlainObject(value)) {
      // columns: {name: [values]}
      const columns = Object.entries(value)
      const lengths = new Set(columns.map(([, v]) => (Array.isArray(v) ? v.length : -1)))
      if (lengths.has(-1) || lengths.size !== 1) throw malformed(`"${key}" as an object must map each feature name to an array of values, all of the same length`)
      const n = [...lengths][0]!
      checkRowCount(n, maxRows)
      return rows('records', Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, v]) => [name, (v as unknown[])[i]]))), unseen)
    }
    if (value.length === 0) throw noRows()
    if (isPlainObject(value[0])) return rows('records', value, unseen)
    // a model of one input: its values, one a row
    if (!Array.isArray(value[0]) && width === 1) return rows('arrays', value.map((v) => [v]), unseen)
    return rows('arrays', value, unseen)
  }
}

/** A plain model's valid rows as they are, or (when a value is null, a missing value) new rows with NaN for it. */
function numbersOf(data: readonly (number | null)[][]): number[][] {
  for (let r = 0; r < data.length; r++) {
    const row = data[r]!
    for (let c = 0; c < row.length; c++) if (row[c] === null) return data.map((given) => given.map((v) => v ?? NaN))
  }
  return data as number[][]
}

/** How the first error of a body's shape is told: by where it is (a JSON pointer) and its keyword. */
type ShapeErrors = (at: string, keyword: string, e: ErrorObject, body: unknown) => ServeError | undefined

const PREDICT_SHAPE: ShapeErrors = (at, keyword, e, body) => {
  if (at === '' && keyword === 'type') return malformed(`the body must be a JSON object with "features" or "records", got ${kindOf(body)}`)
  if (at === '' && keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty
    return malformed(`unknown key ${quote(key)} in the body; it takes "features" or "records", and "probabilities"`, [{ row: null, field: key, problem: 'unknown key' }])
  }
  if (at === '' && keyword === 'not') return malformed('give "features" or "records", not both')
  if (at === '/probabilities') {
    const value = (body as Record<string, unknown>).probabilities
    return malformed(`"probabilities" must be true or false, got ${quote(value)}`, [{ row: null, field: 'probabilities', problem: `is ${kindOf(value)}, not a boolean` }])
  }
  const key = at.slice(1)
  if ((PREDICT_KEYS as readonly string[]).includes(key)) return notRows(key, (body as Record<string, unknown>)[key])
  return undefined
}

const INVOCATIONS_SHAPE: ShapeErrors = (at, keyword, e, body) => {
  if (at === '' && keyword === 'type') return malformed(`the body must be a JSON object with one of ${INVOCATION_KEYS.join(', ')}, got ${kindOf(body)}`)
  if (at === '' && keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty
    return malformed(`unknown key ${quote(key)} in the body; MLflow's scoring protocol takes one of ${INVOCATION_KEYS.join(', ')}`, [{ row: null, field: key, problem: 'unknown key' }])
  }
  const split = (body as { dataframe_split?: Record<string, unknown> }).dataframe_split
  if (at === '/dataframe_split') {
    if (keyword === 'type') return malformed(`"dataframe_split" must be an object {columns, data}, got ${kindOf(split)}`)
    if (keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty
      return malformed(`unknown key ${quote(key)} in "dataframe_split"; it takes columns, data and index`, [{ row: null, field: `dataframe_split.${key}`, problem: 'unknown key' }])
    }
    if (keyword === 'required') return notRows('dataframe_split.data', undefined)
  }
  if (at === '/dataframe_split/data') return notRows('dataframe_split.data', split!.data)
  if (at.startsWith('/dataframe_split/columns')) return malformed('"dataframe_split.columns" must be an array of feature names')
  const key = at.slice(1)
  if ((INVOCATION_KEYS as readonly string[]).includes(key)) return notRows(key, (body as Record<string, unknown>)[key])
  return undefined
}

function shapeError(e: ErrorObject, body: unknown, tell: ShapeErrors): ServeError {
  const error = tell(e.instancePath, e.keyword, e, body)
  // every error a shape's schema can give is told above; one that is not is a bug, and worded as Ajv words it
  return error ?? malformed(`the body does not fit the request's schema: ${e.instancePath || 'the body'} ${e.message ?? e.keyword}`)
}

function several(keys: readonly string[]): ServeError {
  return malformed(`give one of ${keys.join(', ')}, not several`)
}

function checkRowCount(rows: number, maxRows: number): void {
  if (rows > maxRows) throw tooManyRows(rows, maxRows)
}

function tooManyRows(rows: number, maxRows: number): ServeError {
  return new ServeError('MLSKEL_SERVE_TOO_MANY_ROWS', `the request has ${rows} rows; the server takes at most ${maxRows} per request`)
}

function noRows(): ServeError {
  return new ServeError('MLSKEL_SERVE_INVALID_INPUT', 'the request has no rows to predict', [{ row: null, field: null, problem: 'no rows' }])
}

function notRows(key: string, value: unknown): ServeError {
  return malformed(`${quote(key)} must be an array of rows, got ${kindOf(value)}`, [{ row: null, field: key, problem: `is ${kindOf(value)}, not an array` }])
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
    if (this.count > 0) this.throw()
  }

  throw(): never {
    const first = this.list[0]!
    const where = [first.row === null ? '' : `row ${first.row}`, first.field === null ? '' : `field ${quote(first.field)}`].filter(Boolean).join(', ')
    const more = this.full ? ` (and more; the first ${MAX_DETAILS} are in details)` : this.count > 1 ? ` (and ${this.count - 1} more problem${this.count > 2 ? 's' : ''}, in details)` : ''
    throw new ServeError('MLSKEL_SERVE_INVALID_INPUT', `${where ? `${where}: ` : ''}${first.problem}${more}`, this.list)
  }
}
