import { Ajv2020 } from 'ajv/dist/2020.js'
import { describe, expect, it } from 'vitest'
import { inputSchemaOf } from '../data/encode.js'
import type { Signature } from '../models/index.js'
import { ServeError } from './errors.js'
import { TYPED_SIGNATURE } from './test-models.js'
import { fromArrays, fromRecords, readCsv, readInvocationsBody, readPredictBody, requestReader, requestSchemas } from './validate.js'

const numbers = (...names: string[]): Signature => ({ features: names.map((name) => ({ name, type: 'number' as const })), target: { name: 'y', type: 'number' } })
const schema = inputSchemaOf(numbers('a', 'b', 'c'))
const typed = inputSchemaOf(TYPED_SIGNATURE)

function problemsOf(run: () => unknown): { code: string; status: number; details: unknown } {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ServeError)
    const e = error as ServeError
    return { code: e.code, status: e.statusCode, details: e.details }
  }
  throw new Error('expected a ServeError')
}

/** Collects what the readers tell of unseen categories. */
function recorder(): { told: string[]; unseen: (field: string, value: string) => void } {
  const told: string[] = []
  return { told, unseen: (field, value) => told.push(`${field}=${value}`) }
}

describe('fromArrays', () => {
  it('returns valid rows of a plain numeric model as they are, copying nothing', () => {
    const rows = [[1, 2, 3], [4, 5, 6]]
    expect(fromArrays(rows, schema, 10)).toBe(rows)
  })

  it('reads null as a missing value (NaN), in new rows', () => {
    const rows = [[1, null, 3]]
    const read = fromArrays(rows, schema, 10)
    expect(read).not.toBe(rows)
    expect(read).toEqual([[1, NaN, 3]])
  })

  it('lists each bad value by row and field', () => {
    expect(problemsOf(() => fromArrays([[1, true, 3], [1, 2], 'x'], schema, 10)).details).toEqual([
      { row: 0, field: 'b', problem: 'is boolean true, not a number' },
      { row: 1, field: null, problem: 'has 2 values, the model takes 3 (a, b, c)' },
      { row: 2, field: null, problem: 'is the string "x", not an array of 3 values' },
    ])
  })

  it('refuses more rows than the maximum with 413, before looking at them', () => {
    expect(problemsOf(() => fromArrays([[1, 2, 3], [1, 2, 3], 'junk'], schema, 2))).toMatchObject({ code: 'MLSKEL_SERVE_TOO_MANY_ROWS', status: 413 })
  })

  it('keeps at most 100 problems', () => {
    const { details } = problemsOf(() => fromArrays(Array.from({ length: 500 }, () => ['x', 'y', 'z']), schema, 1000))
    expect(details).toHaveLength(100)
  })

  it('reads raw values in input order into the model\'s columns, a date filling all its parts', () => {
    // age, member, colour, signup: the date once, for its year, month and weekday
    expect(typed.names).toEqual(['age', 'member', 'colour', 'signup'])
    expect(fromArrays([[41, true, 'red', '2024-03-31'], [null, false, 'teal', '01/04/2024']], typed, 10)).toEqual([
      [41, 1, 3, 2024, 3, 6],
      [NaN, 0, 0, 2024, 4, 0],
    ])
  })
})

describe('fromRecords', () => {
  it('orders values by the signature, whatever the key order', () => {
    expect(fromRecords([{ c: 3, a: 1, b: 2 }], schema, 10)).toEqual([[1, 2, 3]])
  })

  it('names missing and unknown features, suggesting a near name', () => {
    expect(problemsOf(() => fromRecords([{ a: 1, bb: 2, c: 3, zzz: 4 }], schema, 10)).details).toEqual([
      { row: 0, field: 'b', problem: 'is missing' },
      { row: 0, field: 'bb', problem: 'is not a feature of the model; did you mean "b"?' },
      { row: 0, field: 'zzz', problem: 'is not a feature of the model (its features: a, b, c)' },
    ])
  })

  it('reads raw values: a boolean, a category (folded, or unseen and told of), a date, and null as missing', () => {
    const { told, unseen } = recorder()
    const rows = fromRecords(
      [
        { signup: '2024-03-31T12:00:00', colour: 'blue', member: 'yes', age: 30.5 },
        { age: null, member: null, colour: 'purple', signup: null },
        { age: 7, member: 0, colour: 'mauve', signup: '31/03/2024' },
      ],
      typed,
      10,
      unseen,
    )
    expect(rows).toEqual([
      [30.5, 1, 1, 2024, 3, 6],
      [NaN, NaN, NaN, NaN, NaN, NaN],
      [7, 0, 0, 2024, 3, 6],
    ])
    expect(told).toEqual(['colour=purple'])
  })

  it('says what each wrong-typed value should be, naming its row and input', () => {
    expect(problemsOf(() => fromRecords([{ age: 'abc', member: 'maybe', colour: ['red'], signup: 3 }], typed, 10)).details).toEqual([
      { row: 0, field: 'age', problem: 'is the string "abc", not a number' },
      { row: 0, field: 'member', problem: 'is the string "maybe", not a boolean (true or false)' },
      { row: 0, field: 'colour', problem: 'is an array, not a category (a string)' },
      { row: 0, field: 'signup', problem: expect.stringMatching(/^is number 3, not a date or timestamp \(an ISO 8601 string/) },
    ])
  })

  it('tells a datetime part given by its feature name to send the date itself', () => {
    expect(problemsOf(() => fromRecords([{ age: 1, member: true, colour: 'red', signup: '2024-01-01', signup_year: 2024 }], typed, 10)).details).toEqual([
      { row: 0, field: 'signup_year', problem: 'is a part of the datetime "signup", not an input: send "signup" itself (a date or timestamp), and the model reads its year, month, weekday from it' },
    ])
  })

  it('finds only a record\'s own keys: an input named like an Object method is missing when absent', () => {
    expect(problemsOf(() => fromRecords([{}], inputSchemaOf(numbers('constructor')), 10)).details).toEqual([{ row: 0, field: 'constructor', problem: 'is missing' }])
  })
})

describe('readPredictBody', () => {
  it('reads one row, rows, records and one record', () => {
    expect(readPredictBody({ features: [1, 2, 3] }, schema, 10)).toEqual({ rows: [[1, 2, 3]], probabilities: undefined })
    expect(readPredictBody({ features: [[1, 2, 3], [4, 5, 6]], probabilities: true }, schema, 10)).toEqual({ rows: [[1, 2, 3], [4, 5, 6]], probabilities: true })
    expect(readPredictBody({ records: [{ a: 1, b: 2, c: 3 }] }, schema, 10).rows).toEqual([[1, 2, 3]])
    expect(readPredictBody({ records: { a: 1, b: 2, c: 3 } }, schema, 10).rows).toEqual([[1, 2, 3]])
    expect(readPredictBody({ features: { a: 1, b: 2, c: 3 } }, schema, 10).rows).toEqual([[1, 2, 3]])
  })

  it('reads one row of raw values whose first is null or a string', () => {
    expect(readPredictBody({ features: [null, true, 'red', '2024-03-31'] }, typed, 10).rows).toEqual([[NaN, 1, 3, 2024, 3, 6]])
  })
})

describe('readInvocationsBody', () => {
  it('reads a single column model\'s instances as one value per row', () => {
    expect(readInvocationsBody({ instances: [1, 2] }, inputSchemaOf(numbers('x')), 10)).toEqual([[1], [2]])
    expect(readInvocationsBody({ instances: [1, null] }, inputSchemaOf(numbers('x')), 10)).toEqual([[1], [NaN]])
  })

  it('refuses a repeated column in dataframe_split', () => {
    expect(problemsOf(() => readInvocationsBody({ dataframe_split: { columns: ['a', 'a', 'b'], data: [[1, 2, 3]] } }, schema, 10)).details).toContainEqual({ row: null, field: 'a', problem: 'is given twice in columns' })
  })

  it('reads raw values in every shape: dataframe_split in any column order, records, and columns', () => {
    const { told, unseen } = recorder()
    const expected = [[41, 1, 3, 2024, 3, 6], [NaN, 0, NaN, 2024, 4, 0]]
    const split = { columns: ['signup', 'colour', 'member', 'age'], data: [['2024-03-31', 'red', true, 41], ['01/04/2024', 'purple', false, null]] }
    expect(readInvocationsBody({ dataframe_split: split }, typed, 10, unseen)).toEqual(expected)
    const records = [{ age: 41, member: true, colour: 'red', signup: '2024-03-31' }, { age: null, member: false, colour: 'purple', signup: '01/04/2024' }]
    expect(readInvocationsBody({ dataframe_records: records }, typed, 10, unseen)).toEqual(expected)
    expect(readInvocationsBody({ inputs: { age: [41, null], member: [true, false], colour: ['red', 'purple'], signup: ['2024-03-31', '01/04/2024'] } }, typed, 10, unseen)).toEqual(expected)
    expect(told).toEqual(['colour=purple', 'colour=purple', 'colour=purple'])
  })
})

describe('readCsv', () => {
  it('reads quoted fields, CRLF line ends and columns in any order', () => {
    expect(readCsv('c,"a",b\r\n3,"1",2\r\n6,4,5\r\n', schema, 10)).toEqual([[1, 2, 3], [4, 5, 6]])
  })

  it('refuses an unclosed quote and more rows than the maximum', () => {
    expect(problemsOf(() => readCsv('a,b,c\n"1,2,3\n', schema, 10)).code).toBe('MLSKEL_SERVE_MALFORMED_REQUEST')
    expect(problemsOf(() => readCsv('a,b,c\n1,2,3\n1,2,3\n', schema, 1)).code).toBe('MLSKEL_SERVE_TOO_MANY_ROWS')
  })

  it('reads cells as the training data\'s CSV: its missing-value tokens, boolean words, categories and dates', () => {
    const { told, unseen } = recorder()
    const csv = 'signup,colour,member,age\n31/03/2024,red,yes,41\n,purple,no,\n"2024-04-01",?,true,NA\n'
    expect(readCsv(csv, typed, 10, unseen)).toEqual([
      [41, 1, 3, 2024, 3, 6],
      [NaN, 0, NaN, NaN, NaN, NaN],
      [NaN, 1, NaN, 2024, 4, 0],
    ])
    expect(told).toEqual(['colour=purple'])
  })

  it('names the row and input of a cell its input does not take', () => {
    expect(problemsOf(() => readCsv('age,member,colour,signup\nabc,maybe,red,2024-13-01\n', typed, 10)).details).toEqual([
      { row: 0, field: 'age', problem: 'is "abc", not a number' },
      { row: 0, field: 'member', problem: 'is "maybe", not a boolean (true or false)' },
      { row: 0, field: 'signup', problem: expect.stringMatching(/^is the string "2024-13-01", not a date or timestamp/) },
    ])
  })
})

describe('readCsv, with csv-parse', () => {
  it('reads a quoted field\'s commas, quotes and line breaks as its own, \\r line ends and a byte order mark', () => {
    const { told, unseen } = recorder()
    const csv = '\ufeffsignup,colour,member,age\r2024-03-31,"dark, ""deep""\nred",yes,41\r"31/03/2024","red\r\n",no,"\n42"\r'
    expect(readCsv(csv, typed, 10, unseen)).toEqual([
      [41, 1, NaN, 2024, 3, 6],
      [42, 0, 3, 2024, 3, 6],
    ])
    expect(told).toEqual(['colour=dark, "deep"\nred'])
    expect(problemsOf(() => readCsv('age,member,colour,signup\n"4\n2",no,red,\n', typed, 10)).details).toEqual([{ row: 0, field: 'age', problem: 'is "4\\n2", not a number' }])
  })

  it('refuses what is not CSV, saying where', () => {
    const error = problemsOf(() => readCsv('a,b,c\n1,2"x,3\n', schema, 10))
    expect(error.code).toBe('MLSKEL_SERVE_MALFORMED_REQUEST')
    expect(() => readCsv('a,b,c\n1,2"x,3\n', schema, 10)).toThrow(/not valid CSV: .*line 2/)
  })
})

describe('requestReader', () => {
  it('compiles a model\'s validators once, for its input schema and row limit', () => {
    expect(requestReader(typed, 10)).toBe(requestReader(typed, 10))
    expect(requestReader(typed, 20)).not.toBe(requestReader(typed, 10))
  })

  it("makes schemas that draft 2020-12's meta-schema accepts, for inputs of every type (the readers compile them unchecked)", () => {
    const meta = new Ajv2020({ strict: true, allowUnionTypes: true })
    expect(new Set(typed.fields.map((field) => field.type))).toEqual(new Set(['number', 'boolean', 'category', 'datetime']))
    for (const [id, made] of Object.entries(requestSchemas(typed, 10))) expect(meta.validateSchema(made), `${id}: ${meta.errorsText()}`).toBe(true)
    // what the check would catch
    expect(meta.validateSchema({ type: 'array', prefixItems: [{ type: 'nmber' }] })).toBe(false)
  })

  it('validates each value against its input\'s JSON Schema, in rows of the inputs\' width and number', () => {
    const { row, record, arrays } = requestSchemas(typed, 10)
    expect(row).toMatchObject({ type: 'array', minItems: 4, maxItems: 4, prefixItems: [{ type: ['number', 'null'] }, expect.anything(), expect.anything(), { type: ['string', 'null'] }] })
    expect(record).toMatchObject({ type: 'object', required: ['age', 'member', 'colour', 'signup'], additionalProperties: false })
    expect(arrays).toMatchObject({ type: 'array', minItems: 1, maxItems: 10 })
  })

  it('names an input whose name a JSON pointer escapes', () => {
    const odd = inputSchemaOf(numbers('a/b', 'c~d'))
    expect(problemsOf(() => fromRecords([{ 'a/b': 'x', 'c~d': true }], odd, 10)).details).toEqual([
      { row: 0, field: 'a/b', problem: 'is the string "x", not a number' },
      { row: 0, field: 'c~d', problem: 'is boolean true, not a number' },
    ])
  })

  it('lists a record\'s problems in input order, its unknown keys after them, and a row\'s type errors with the values that do not read', () => {
    expect(problemsOf(() => fromRecords([{ signup: 3, colour: 'red', extra: 1, member: 'maybe' }, { age: 1, member: 'no', colour: 'red', signup: 'soon' }], typed, 10)).details).toEqual([
      { row: 0, field: 'age', problem: 'is missing' },
      { row: 0, field: 'member', problem: 'is the string "maybe", not a boolean (true or false)' },
      { row: 0, field: 'signup', problem: expect.stringMatching(/^is number 3, not a date/) },
      { row: 0, field: 'extra', problem: 'is not a feature of the model (its features: age, member, colour, signup)' },
      { row: 1, field: 'signup', problem: expect.stringMatching(/^is the string "soon", not a date/) },
    ])
  })
})
