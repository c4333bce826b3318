import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { inputSchemaOf } from '../data/encode.js'
import { readIris } from './test-models.js'
import { BodyBudget, bodyLimitsOf, csvText, DEFAULT_BODY_LIMIT, jsonValuesAtMost, MIN_BODY_LIMIT, nonEmptyLinesAtMost, parseJsonBody, readBody } from './body.js'

const iris = inputSchemaOf(readIris().signature)
const bytes = (text: string) => Buffer.from(text)

describe('bodyLimitsOf', () => {
  it('sizes the body for maxRows rows of the model\'s inputs, between a floor and the ceiling', () => {
    const limits = bodyLimitsOf(iris, 10_000)
    // room for the rows written as pretty-printed records with long numbers, but far under 10 MiB for 4 inputs
    const record = JSON.stringify({ sepal_length: 5.123456789012345, sepal_width: 3.512345678901234, petal_length: 1.412345678901234, petal_width: 0.212345678901234 }, null, 4)
    expect(limits.bytes).toBeGreaterThan(10_000 * (record.length + 2))
    expect(limits.bytes).toBeLessThan(DEFAULT_BODY_LIMIT / 2)
    expect(bodyLimitsOf(iris, 1).bytes).toBe(MIN_BODY_LIMIT)
    expect(bodyLimitsOf(iris, 1_000_000).bytes).toBe(DEFAULT_BODY_LIMIT)
    expect(bodyLimitsOf(iris, 1_000_000, 1234).bytes).toBe(1234)
    expect(limits.lines).toBe(10_001)
  })

  it('counts enough values for the largest request of every accepted shape', () => {
    const { values } = bodyLimitsOf(iris, 100)
    const row = [5.1, 3.5, 1.4, 0.2]
    const record = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }
    const rows = Array.from({ length: 100 }, () => row)
    const shapes = [
      { features: rows },
      { records: Array.from({ length: 100 }, () => record) },
      { dataframe_split: { columns: Object.keys(record), index: rows.map((_, i) => i), data: rows } },
      { inputs: Object.fromEntries(Object.keys(record).map((name) => [name, rows.map(() => 1)])) },
    ]
    for (const shape of shapes) expect(jsonValuesAtMost(bytes(JSON.stringify(shape)), Infinity), JSON.stringify(shape).slice(0, 40)).toBeLessThanOrEqual(values)
    // a bound, not a row count (validate.ts counts rows): a third more rows than maxRows are past it
    expect(jsonValuesAtMost(bytes(JSON.stringify({ features: [...rows, ...rows.slice(0, 34)] })), Infinity)).toBeGreaterThan(values)
  })
})

describe('jsonValuesAtMost', () => {
  it('is an upper bound on the values JSON.parse makes, counting nothing inside strings', () => {
    const count = (value: unknown): number => (Array.isArray(value) ? 1 + value.reduce((n: number, v) => n + count(v), 0) : value !== null && typeof value === 'object' ? 1 + Object.values(value).reduce((n: number, v) => n + count(v), 0) : 1)
    for (const value of [[], {}, [1, 2, 3], [[1], [2, [3, 4]]], { a: [1, { b: 'x,y[z{' }], c: 'q\\"",[' }, 'a,b', [{}, {}, {}], { k: null, l: true }]) {
      const text = JSON.stringify(value)
      expect(jsonValuesAtMost(bytes(text), Infinity), text).toBeGreaterThanOrEqual(count(value))
    }
    expect(jsonValuesAtMost(bytes('"a,b,c,[d]"'), Infinity)).toBe(1)
    expect(jsonValuesAtMost(bytes('["a\\",b", 1]'), Infinity)).toBe(3)
  })

  it('stops counting past its bound', () => {
    expect(jsonValuesAtMost(bytes(`[${'0,'.repeat(1_000_000)}0]`), 10)).toBe(11)
  })
})

describe('nonEmptyLinesAtMost', () => {
  it('counts lines with something on them, whatever the line ends', () => {
    expect(nonEmptyLinesAtMost(bytes('a,b\n1,2\r\n\n  \n3,4'), Infinity)).toBe(3)
    expect(nonEmptyLinesAtMost(bytes('a,b\n1,2\n'), Infinity)).toBe(2)
    expect(nonEmptyLinesAtMost(bytes(''), Infinity)).toBe(0)
    expect(nonEmptyLinesAtMost(bytes('x\n'.repeat(1000)), 5)).toBe(6)
    expect(nonEmptyLinesAtMost(bytes('x\r'.repeat(1000)), 5)).toBe(6)
  })

  it('counts a quoted field\'s line breaks as its own, as csv-parse reads them', () => {
    expect(nonEmptyLinesAtMost(bytes('a,b\n"one\ntwo\r\nthree",2\n"say ""hi""\n",3\n'), Infinity)).toBe(3)
  })
})

describe('parseJsonBody and csvText', () => {
  const limits = bodyLimitsOf(iris, 2)

  it('refuses a body holding more values than maxRows rows could before parsing it', () => {
    expect(() => parseJsonBody(bytes(`[${'{},'.repeat(1000)}{}]`), limits, 2)).toThrow(expect.objectContaining({ code: 'MLSKEL_SERVE_TOO_MANY_ROWS', statusCode: 413 }))
    expect(parseJsonBody(bytes('{"features": [[1,2,3,4],[5,6,7,8]]}'), limits, 2)).toEqual({ features: [[1, 2, 3, 4], [5, 6, 7, 8]] })
  })

  it('refuses an empty body, bad JSON and prototype keys as malformed', () => {
    expect(() => parseJsonBody(bytes(''), limits, 2)).toThrow(expect.objectContaining({ code: 'MLSKEL_SERVE_MALFORMED_REQUEST' }))
    expect(() => parseJsonBody(bytes('{"features": [1,'), limits, 2)).toThrow(expect.objectContaining({ code: 'MLSKEL_SERVE_MALFORMED_REQUEST' }))
    expect(() => parseJsonBody(bytes('{"__proto__": {"x": 1}}'), limits, 2)).toThrow(expect.objectContaining({ code: 'MLSKEL_SERVE_MALFORMED_REQUEST' }))
  })

  it('refuses a CSV body of more rows than maxRows before splitting it', () => {
    expect(csvText(bytes('a\n1\n\n2\n'), limits, 2)).toBe('a\n1\n\n2\n')
    expect(() => csvText(bytes('a\n1\n2\n3\n'), limits, 2)).toThrow(expect.objectContaining({ code: 'MLSKEL_SERVE_TOO_MANY_ROWS' }))
  })
})

/** readBody as a promise, for the tests. */
const read = (payload: PassThrough, declared: number | undefined, limit: number) =>
  new Promise<Buffer>((resolve, reject) => readBody(payload, declared, limit, (error, body) => (error ? reject(error) : resolve(body!))))

describe('readBody', () => {
  it('reads a body of its Content-Length into one buffer, and a chunked one whole', async () => {
    const sized = new PassThrough()
    const readSized = read(sized, 10, 100)
    sized.write('hello')
    sized.end('world')
    expect((await readSized).toString()).toBe('helloworld')
    const one = new PassThrough()
    const readOne = read(one, 5, 100)
    one.end('hello')
    expect((await readOne).toString()).toBe('hello')
    const chunked = new PassThrough()
    const readChunked = read(chunked, undefined, 100)
    chunked.write('a')
    chunked.end('b')
    expect((await readChunked).toString()).toBe('ab')
  })

  it('stops at the limit, and refuses a body shorter than it said', async () => {
    const chunked = new PassThrough()
    const readChunked = read(chunked, undefined, 4)
    chunked.write('abc')
    chunked.write('de')
    await expect(readChunked).rejects.toMatchObject({ code: 'MLSKEL_SERVE_BODY_TOO_LARGE' })
    const short = new PassThrough()
    const readShort = read(short, 10, 100)
    short.end('abc')
    await expect(readShort).rejects.toMatchObject({ code: 'MLSKEL_SERVE_MALFORMED_REQUEST' })
  })
})

describe('BodyBudget', () => {
  it('holds bodies up to its total, and takes more once some are given back', () => {
    const budget = new BodyBudget(100)
    expect(budget.take(60)).toBe(true)
    expect(budget.take(50)).toBe(false)
    expect(budget.take(40)).toBe(true)
    expect(budget.inUse).toBe(100)
    budget.give(60)
    expect(budget.take(50)).toBe(true)
    expect(budget.inUse).toBe(90)
  })
})
