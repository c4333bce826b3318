// From raw values to a model's rows of numbers, by its signature: the one encoder that training (the transformed
// split), predict.ts (an input file) and the server (a request) all go through, so a value means the same to each.
//
// A signature's features are the model's columns. Its inputs are the raw columns they come from: a feature is its
// own input, except a datetime's parts (`signup_year`, `signup_month`, …), which all come from the one `signup`.
import type { FeatureSpec, Signature } from '../models/index.js'
import { DEFAULT_MISSING_VALUES, datetimePart, readBoolean, readDatetime, readNumber, type Clock, type DateFormat, type DatetimePart } from './columns.js'

/** One raw column a model takes, and the model columns it fills. */
export type InputField =
  | { name: string; type: 'number' | 'boolean'; column: number; missing: boolean }
  | { name: string; type: 'category'; column: number; missing: boolean; codes: ReadonlyMap<string, number>; categories: readonly string[] }
  | { name: string; type: 'datetime'; columns: readonly number[]; parts: readonly DatetimePart[]; format: DateFormat; missing: boolean }

export interface InputSchema {
  /** The raw columns, in the order a row given as an array lists them. */
  fields: readonly InputField[]
  /** Their names, in that order. */
  names: readonly string[]
  /** Input name → its position in `fields`. */
  index: ReadonlyMap<string, number>
  /** Model columns: the signature's features. */
  width: number
  /** Every input is a number filling its own column in order (rows given as numbers are the model's rows as they are). */
  plain: boolean
  /** Cells read as missing in text (CSV) input. */
  missingText: ReadonlySet<string>
  decimal: '.' | ','
}

const schemas = new WeakMap<Signature, InputSchema>()

/** The inputs of a signature; cached per signature object, so a request costs no allocation for it. */
export function inputSchemaOf(signature: Signature): InputSchema {
  let schema = schemas.get(signature)
  if (!schema) {
    schema = buildSchema(signature)
    schemas.set(signature, schema)
  }
  return schema
}

function buildSchema(signature: Signature): InputSchema {
  const fields: InputField[] = []
  const datetimes = new Map<string, Extract<InputField, { type: 'datetime' }>>()
  signature.features.forEach((f: FeatureSpec, column) => {
    const missing = f.missing ?? true
    if (f.type === 'category') {
      const categories = f.categories.map(String)
      const codes = new Map(categories.map((c, i) => [c, i]))
      if (f.other) {
        const at = codes.get(String(f.other.category))
        if (at !== undefined) for (const v of f.other.values) codes.set(String(v), at)
      }
      fields.push({ name: f.name, type: 'category', column, missing, codes, categories })
    } else if (f.type === 'number' && f.datetime) {
      const { column: source, part, format } = f.datetime
      let field = datetimes.get(source)
      if (!field) {
        field = { name: source, type: 'datetime', columns: [], parts: [], format: format ?? 'iso', missing }
        datetimes.set(source, field)
        fields.push(field)
      }
      ;(field.columns as number[]).push(column)
      ;(field.parts as DatetimePart[]).push(part)
    } else fields.push({ name: f.name, type: f.type, column, missing })
  })
  const names = fields.map((f) => f.name)
  return {
    fields,
    names,
    index: new Map(names.map((n, i) => [n, i])),
    width: signature.features.length,
    plain: fields.every((f, i) => f.type === 'number' && f.column === i),
    missingText: new Set(signature.read?.missing_values ?? DEFAULT_MISSING_VALUES),
    decimal: signature.read?.decimal ?? '.',
  }
}

/** Told of each category value the model never saw in training (it is predicted through the missing path). */
export type UnseenCategory = (field: string, value: string) => void

/**
 * The JSON values an input takes, as a JSON Schema (draft 2020-12): by type, what encodeValue takes. null, a missing
 * value, is taken by every input; a number is finite (JSON has no NaN, and a number too large for a double is
 * Infinity); a boolean is true, false, 0, 1 or a string (read as a boolean word by encodeChecked); a category is a
 * string, a number or a boolean (read as its text); a date is a string. A request's values are validated against these
 * (src/serve), then encoded by encodeChecked, which only reads: what no type says (a boolean word, a date) is found
 * by reading it, once.
 */
export function valueSchemaOf(field: InputField): Record<string, unknown> {
  switch (field.type) {
    case 'number':
      return { type: ['number', 'null'] }
    case 'boolean':
      return { type: ['boolean', 'integer', 'string', 'null'], minimum: 0, maximum: 1 }
    case 'category':
      return { type: ['string', 'number', 'boolean', 'null'] }
    case 'datetime':
      return { type: ['string', 'null'] }
  }
}

/**
 * Put a JSON value of `field` into `row` (the model's columns). Returns what is wrong with it, or undefined.
 * `null` is a missing value; a number is a number (or a category spelled as one); a string is a category, an ISO
 * date or timestamp (or in the column's recorded format), or a boolean word; numbers in strings are refused for a
 * numeric field (send JSON numbers), as are NaN and Infinity.
 */
export function encodeValue(field: InputField, value: unknown, row: number[], unseen?: UnseenCategory): string | undefined {
  return typeProblem(field, value) ?? encodeChecked(field, value, row, unseen)
}

/** What is wrong with the type of a value of `field`, or undefined when valueSchemaOf(field) takes it. */
function typeProblem(field: InputField, value: unknown): string | undefined {
  if (value === null) return undefined
  switch (field.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : numberProblem(value)
    case 'boolean':
      return typeof value === 'boolean' || value === 0 || value === 1 || typeof value === 'string' ? undefined : `is ${kindOf(value)}, not a boolean (true or false)`
    case 'category':
      return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' ? undefined : `is ${kindOf(value)}, not a category (a string)`
    case 'datetime':
      return typeof value === 'string' ? undefined : `is ${kindOf(value)}, not a date or timestamp (an ISO 8601 string such as "2024-03-31" or "2024-03-31T12:00:00")`
  }
}

/**
 * Put a value that valueSchemaOf(field) takes (the caller validated it) into `row`, reading it without checking its
 * type again. Returns what is wrong with text that does not read as the input (a boolean word, a date), or undefined.
 */
export function encodeChecked(field: InputField, value: unknown, row: number[], unseen?: UnseenCategory): string | undefined {
  if (value === null) {
    fillMissing(field, row)
    return undefined
  }
  switch (field.type) {
    case 'number':
      row[field.column] = value as number
      return undefined
    case 'boolean': {
      if (typeof value !== 'string') {
        row[field.column] = value === true ? 1 : value === false ? 0 : (value as number)
        return undefined
      }
      const b = readBoolean(value, true)
      if (b !== b) return `is ${kindOf(value)}, not a boolean (true or false)`
      row[field.column] = b
      return undefined
    }
    case 'category': {
      const text = typeof value === 'string' ? value.trim() : String(value)
      const code = field.codes.get(text)
      if (code === undefined) unseen?.(field.name, text)
      row[field.column] = code ?? NaN
      return undefined
    }
    case 'datetime': {
      const c = readDatetime(value as string, field.format)
      if (!c) return `is ${kindOf(value)}, not a date or timestamp (ISO 8601, such as "2024-03-31" or "2024-03-31T12:00:00"${field.format === 'iso' ? '' : `, or ${field.format}`})`
      fillDatetime(field, c, row)
      return undefined
    }
  }
}

/**
 * Put a text cell of `field` (a CSV field) into `row`: the column's missing-value tokens are missing, numbers are
 * read with the signature's decimal separator. Returns what is wrong with it, or undefined.
 */
export function encodeText(schema: InputSchema, field: InputField, text: string, row: number[], unseen?: UnseenCategory): string | undefined {
  const t = text.trim()
  if (schema.missingText.has(t)) {
    fillMissing(field, row)
    return undefined
  }
  switch (field.type) {
    case 'number': {
      const v = readNumber(t, schema.decimal)
      if (v === v) {
        row[field.column] = v
        return undefined
      }
      return `is ${JSON.stringify(t)}, not a number`
    }
    case 'boolean': {
      const b = readBoolean(t, true)
      if (b === b) {
        row[field.column] = b
        return undefined
      }
      return `is ${JSON.stringify(t)}, not a boolean (true or false)`
    }
    case 'category':
    case 'datetime':
      return encodeChecked(field, t, row, unseen) // a string, which both take
  }
}

/** A row of NaN: what a row is before its inputs fill it. */
export function emptyRow(schema: InputSchema): number[] {
  return new Array<number>(schema.width).fill(NaN)
}

function fillMissing(field: InputField, row: number[]): void {
  if (field.type === 'datetime') for (const c of field.columns) row[c] = NaN
  else row[field.column] = NaN
}

function fillDatetime(field: Extract<InputField, { type: 'datetime' }>, c: Clock, row: number[]): void {
  for (let i = 0; i < field.columns.length; i++) row[field.columns[i]!] = datetimePart(c, field.parts[i]!)
}

function numberProblem(v: unknown): string {
  if (typeof v === 'number') return `is ${v}, not a finite number`
  if (v === undefined) return 'is missing'
  if (typeof v === 'string') {
    const text = v.trim()
    if (/^[+-]?(nan|inf|infinity)$/i.test(text)) return `is the string ${JSON.stringify(v)}: NaN and Infinity are not allowed (send null for a missing value)`
    if (readNumber(text) === readNumber(text)) return `is the string ${JSON.stringify(v)}: send numbers as JSON numbers, not strings`
    return `is the string ${JSON.stringify(v)}, not a number`
  }
  return `is ${kindOf(v)}, not a number`
}

function kindOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`
  if (v === undefined) return 'nothing'
  return `${typeof v} ${String(v)}`
}
