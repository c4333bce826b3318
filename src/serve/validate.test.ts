import { describe, expect, it } from 'vitest'
import { ServeError } from './errors.js'
import { fromArrays, fromRecords, inputSchemaOf, readCsv, readInvocationsBody, readPredictBody, valueProblem } from './validate.js'

const schema = inputSchemaOf(['a', 'b', 'c'])

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

describe('inputSchemaOf', () => {
  it('is cached per feature list', () => {
    const features = ['x', 'y']
    expect(inputSchemaOf(features)).toBe(inputSchemaOf(features))
    expect(inputSchemaOf(features).index.get('y')).toBe(1)
  })
})

describe('fromArrays', () => {
  it('returns valid rows as they are, copying nothing', () => {
    const rows = [[1, 2, 3], [4, 5, 6]]
    expect(fromArrays(rows, schema, 10)).toBe(rows)
  })

  it('lists each bad value by row and field', () => {
    expect(problemsOf(() => fromArrays([[1, null, 3], [1, 2], 'x'], schema, 10)).details).toEqual([
      { row: 0, field: 'b', problem: 'is null; a number is required' },
      { row: 1, field: null, problem: 'has 2 values, the model takes 3 (a, b, c)' },
      { row: 2, field: null, problem: 'is the string "x", not an array of 3 values' },
    ])
  })

  it('refuses more rows than the maximum with 413, before looking at them', () => {
    expect(problemsOf(() => fromArrays([[1, 2, 3], [1, 2, 3], 'junk'], schema, 2))).toMatchObject({ code: 'MLSKEL_SERVE_TOO_MANY_ROWS', status: 413 })
  })

  it('keeps at most 100 problems', () => {
    const { details } = problemsOf(() => fromArrays(Array.from({ length: 500 }, () => [null, null, null]), schema, 1000))
    expect(details).toHaveLength(100)
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
})

describe('valueProblem', () => {
  it('accepts finite numbers, also far outside the training range', () => {
    for (const v of [0, -1e300, 1e300, 5e-324]) expect(valueProblem(v)).toBeUndefined()
  })

  it('tells strings holding numbers, NaN and Infinity apart from words', () => {
    expect(valueProblem('1.5')).toMatch(/send numbers as JSON numbers/)
    expect(valueProblem('NaN')).toMatch(/NaN and Infinity are not allowed/)
    expect(valueProblem('-inf')).toMatch(/NaN and Infinity are not allowed/)
    expect(valueProblem('abc')).toMatch(/not a number/)
    expect(valueProblem(Infinity)).toMatch(/not a finite number/)
    expect(valueProblem(NaN)).toMatch(/not a finite number/)
    expect(valueProblem({})).toMatch(/an object/)
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
})

describe('readInvocationsBody', () => {
  it('reads a single column model\'s instances as one value per row', () => {
    expect(readInvocationsBody({ instances: [1, 2] }, inputSchemaOf(['x']), 10)).toEqual([[1], [2]])
  })

  it('refuses a repeated column in dataframe_split', () => {
    expect(problemsOf(() => readInvocationsBody({ dataframe_split: { columns: ['a', 'a', 'b'], data: [[1, 2, 3]] } }, schema, 10)).details).toContainEqual({ row: null, field: 'a', problem: 'is given twice in columns' })
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
})
