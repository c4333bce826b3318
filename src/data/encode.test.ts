import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import type { Signature } from '../models/contract/types.js'
import { emptyRow, encodeChecked, encodeText, encodeValue, inputSchemaOf, valueSchemaOf } from './encode.js'

const signature: Signature = {
  features: [
    { name: 'age', type: 'number', missing: true },
    { name: 'member', type: 'boolean' },
    { name: 'colour', type: 'category', categories: ['blue', 'red', '(other)'], other: { category: '(other)', values: ['teal', 'mauve'] } },
    { name: 'signup_year', type: 'number', datetime: { column: 'signup', part: 'year', format: '%d/%m/%Y' } },
    { name: 'signup_month', type: 'number', datetime: { column: 'signup', part: 'month', format: '%d/%m/%Y' } },
    { name: 'signup_weekday', type: 'number', datetime: { column: 'signup', part: 'weekday', format: '%d/%m/%Y' } },
  ],
  target: { name: 'churn', type: 'category', classes: ['no', 'yes'] },
  read: { missing_values: ['', 'NA', '?'], decimal: ',' },
}

/** A record through the schema's fields, as the server reads one. */
function encode(record: Record<string, unknown>, unseen?: (f: string, v: string) => void) {
  const schema = inputSchemaOf(signature)
  const row = emptyRow(schema)
  const problems = schema.fields.map((field) => encodeValue(field, record[field.name], row, unseen)).filter(Boolean)
  return { row, problems }
}

describe('inputSchemaOf', () => {
  it('lists a datetime input once, filling its parts, after the plain features', () => {
    const schema = inputSchemaOf(signature)
    expect(schema.names).toEqual(['age', 'member', 'colour', 'signup'])
    expect(schema.width).toBe(6)
    expect(schema.plain).toBe(false)
    expect(inputSchemaOf(signature)).toBe(schema)
    expect(inputSchemaOf({ features: [{ name: 'a', type: 'number' }], target: { name: 'y', type: 'number' } }).plain).toBe(true)
  })
})

describe('encodeValue', () => {
  it('reads raw JSON values into the model\'s columns', () => {
    expect(encode({ age: 41, member: true, colour: 'red', signup: '2024-03-31' })).toEqual({ row: [41, 1, 1, 2024, 3, 6], problems: [] })
    // the column's own format, as the raw file had it
    expect(encode({ age: 41, member: 'no', colour: ' blue ', signup: '01/04/2024' }).row).toEqual([41, 0, 0, 2024, 4, 0])
  })

  it('takes null as missing for every type', () => {
    const { row, problems } = encode({ age: null, member: null, colour: null, signup: null })
    expect(problems).toEqual([])
    expect(row.every(Number.isNaN)).toBe(true)
  })

  it('folds a rare training value into "other", and sends an unseen one down the missing path, telling of it', () => {
    const told: string[] = []
    expect(encode({ age: 1, member: 1, colour: 'teal', signup: '2024-01-01' }).row[2]).toBe(2)
    const { row } = encode({ age: 1, member: 1, colour: 'purple', signup: '2024-01-01' }, (f, v) => told.push(`${f}=${v}`))
    expect(row[2]).toBeNaN()
    expect(told).toEqual(['colour=purple'])
  })

  it('says what is wrong with a value of the wrong type', () => {
    expect(encode({ age: '41', member: 'maybe', colour: { a: 1 }, signup: '2024-02-30' }).problems).toEqual([
      'is the string "41": send numbers as JSON numbers, not strings',
      'is the string "maybe", not a boolean (true or false)',
      'is an object, not a category (a string)',
      'is the string "2024-02-30", not a date or timestamp (ISO 8601, such as "2024-03-31" or "2024-03-31T12:00:00", or %d/%m/%Y)',
    ])
    expect(encode({ member: true, colour: 'red', signup: '2024-01-01' }).problems).toEqual(['is missing'])
  })
})

describe('valueSchemaOf and encodeChecked', () => {
  it('take, between them, what encodeValue takes: a value its schema refuses has a problem, one it takes encodes the same', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true })
    const values = [null, 0, 1, -0, 0.5, 2, -1, 41, 1e308, Infinity, NaN, true, false, '', ' ', 'x', 'yes', 'No', '1', '2024-03-31', '31/03/2024', 'red', 'teal', [], ['red'], {}, { a: 1 }]
    const schema = inputSchemaOf(signature)
    for (const field of schema.fields) {
      const valid = ajv.compile(valueSchemaOf(field))
      for (const value of values) {
        const [a, b] = [emptyRow(schema), emptyRow(schema)]
        const problem = encodeValue(field, value, a)
        if (valid(value)) {
          expect(encodeChecked(field, value, b), `${field.name} ${String(value)}`).toBe(problem)
          expect(b, `${field.name} ${String(value)}`).toEqual(a)
        } else expect(problem, `${field.name} ${String(value)}`).toEqual(expect.any(String))
      }
    }
  })
})

describe('encodeText', () => {
  it('reads CSV cells with the data set\'s missing tokens and decimal separator', () => {
    const schema = inputSchemaOf(signature)
    const row = emptyRow(schema)
    const cells = ['41,5', 'yes', '?', 'NA']
    expect(schema.fields.map((f, i) => encodeText(schema, f, cells[i]!, row))).toEqual([undefined, undefined, undefined, undefined])
    expect(row.slice(0, 2)).toEqual([41.5, 1])
    expect(row.slice(2).every(Number.isNaN)).toBe(true)
    expect(encodeText(schema, schema.fields[0]!, 'abc', row)).toBe('is "abc", not a number')
  })
})
