import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_READ, datetimePart, readBoolean, readDatetime, readNumber, type DateFormat } from './columns.js'
import { inferColumnType } from './infer.js'
import { asBoolean, asDatetime, asNumber, columnCounts, countsQuery, isMissing, sqlString } from './sql.js'

let instance: DuckDBInstance
let db: Awaited<ReturnType<DuckDBInstance['connect']>>
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:')
  db = await instance.connect()
})
afterAll(() => {
  db.closeSync()
  instance.closeSync()
})

/** Each cell through a SQL expression of column "v", in order. */
async function throughSql(cells: readonly string[], expression: string): Promise<unknown[]> {
  const values = cells.map((c, i) => `(${i}, ${sqlString(c)})`).join(', ')
  const reader = await db.runAndReadAll(`SELECT ${expression} FROM (VALUES ${values}) AS t(i, v) ORDER BY i`)
  return reader.getRowsJS().map((row) => row[0])
}

const NUMBERS = ['1', ' 2 ', '-3.5', '+4', '.5', '5.', '1e3', '1E-2', '1_000', '0x10', 'inf', '-Infinity', 'nan', '1,5', '1.2.3', '', 'abc', '1 2', '١٢']

describe('reading a cell', () => {
  it('reads numbers as DuckDB does in generate-dataset, refusing non-finite ones', async () => {
    const sql = await throughSql(NUMBERS, asNumber('v', DEFAULT_READ))
    const js = NUMBERS.map((c) => readNumber(c))
    expect(js.map((v) => (Number.isNaN(v) ? null : v))).toEqual(sql)
    expect(js.slice(0, 9)).toEqual([1, 2, -3.5, 4, 0.5, 5, 1000, 0.01, 1000])
    expect(js.slice(9).every(Number.isNaN)).toBe(true)
  })

  it('reads a decimal comma when the data set says so, in both', async () => {
    const cells = ['1,5', '-0,25', '2', '1.5', '1,2,3']
    const read = { ...DEFAULT_READ, decimal: ',' as const }
    const sql = await throughSql(cells, asNumber('v', read))
    expect(cells.map((c) => readNumber(c, ',')).map((v) => (Number.isNaN(v) ? null : v))).toEqual(sql)
    // a point reads too: a file of decimal commas rarely groups thousands with points
    expect(sql).toEqual([1.5, -0.25, 2, 1.5, null])
  })

  it('reads booleans, 0 and 1 only for a declared column', async () => {
    const cells = ['true', 'FALSE', ' Yes ', 'no', '1', '0', 't', 'maybe']
    for (const digits of [false, true]) {
      const sql = await throughSql(cells, asBoolean('v', digits))
      expect(cells.map((c) => readBoolean(c, digits)).map((v) => (Number.isNaN(v) ? null : v === 1))).toEqual(sql)
    }
    expect(cells.map((c) => readBoolean(c, false))).toEqual([1, 0, 1, 0, NaN, NaN, NaN, NaN])
  })

  it('takes pandas\' and R\'s missing-value tokens as missing, and a value like "na" as a value', async () => {
    const cells = ['NA', ' NaN ', '', 'null', 'None', 'n/a', '<NA>', 'na', 'x', '0']
    expect(await throughSql(cells, isMissing('v', DEFAULT_READ))).toEqual([true, true, true, true, true, true, true, false, false, false])
  })

  const DATES: [string, DateFormat][] = [
    ['2024-03-31', 'iso'],
    ['2024-3-1', 'iso'],
    ['2024-03-31T12:34:56', 'iso'],
    ['2024-03-31 12:34', 'iso'],
    ['2024-03-31T12:34:56.789Z', 'iso'],
    ['2024-03-31T23:30:00+02:00', 'iso'],
    ['2024-02-30', 'iso'],
    ['2023-02-29', 'iso'],
    ['2024-13-01', 'iso'],
    ['31/03/2024', '%d/%m/%Y'],
    ['1/2/2024 7:05', '%d/%m/%Y'],
    ['03/31/2024', '%m/%d/%Y'],
    ['31/03/2024', '%m/%d/%Y'],
    ['31.03.2024 08:00:01', '%d.%m.%Y'],
    ['2024/03/31', '%Y/%m/%d'],
    ['31-03-2024', '%d-%m-%Y'],
    ['2024-03-31', '%d/%m/%Y'],
    ['March 3', 'iso'],
    ['20240331', 'iso'],
  ]

  it('reads dates and timestamps as the wall clock written, the same in SQL and in JavaScript', async () => {
    for (const [text, format] of DATES) {
      const [sql] = await throughSql([text], asDatetime('v', format))
      const js = readDatetime(text, format)
      const asIso = js && `${js.year}-${pad(js.month)}-${pad(js.day)}T${pad(js.hour)}:${pad(js.minute)}:${pad(js.second)}`
      const fromSql = sql instanceof Date ? sql.toISOString().slice(0, 19) : sql
      expect(asIso ?? null, `${text} in ${format}`).toEqual(fromSql ?? null)
    }
    expect(readDatetime('2024-03-31T23:30:00+02:00')).toMatchObject({ day: 31, hour: 23 })
    expect(readDatetime('2024-02-30')).toBeUndefined()
  })

  it('makes the parts a model learns from, weekday 0 for Monday', () => {
    const c = readDatetime('2024-03-31T12:00:00')!
    expect(['year', 'month', 'day', 'weekday', 'hour'].map((p) => datetimePart(c, p as 'year'))).toEqual([2024, 3, 31, 6, 12])
    expect(datetimePart(readDatetime('2024-04-01')!, 'weekday')).toBe(0)
  })
})

const pad = (n: number) => String(n).padStart(2, '0')

describe('countsQuery', () => {
  it('counts what type inference reads, per column, from one query', async () => {
    const cells = [
      ['1.5', 'yes', '2024-03-31', '31/03/2024 10:00', 'a', 'NA'],
      ['2', 'no', '2024-04-01', '01/04/2024 11:30', 'b', ''],
      ['NA', 'TRUE', '', '02/04/2024 12:00', 'a', 'x'],
      ['abc', 'false', '2024-04-03', '03/04/2024 13:00', 'c', 'null'],
    ]
    const names = ['num', 'flag', 'day', 'stamp', 'cat', 'gaps']
    const values = cells.map((row, r) => `(${r + 2}, ${row.map(sqlString).join(', ')})`).join(', ')
    const { sql, parse } = countsQuery(names, DEFAULT_READ, `(VALUES ${values}) AS t(__line, ${names.join(', ')})`)
    const reader = await db.runAndReadAll(sql)
    const [num, flag, day, stamp, cat, gaps] = parse(reader.getRowsJS()[0]!)
    expect(num).toMatchObject({ name: 'num', rows: 4, missing: 1, numeric: 2, integral: false, distinct: 3, example: { value: 'abc', line: 5 } })
    expect(flag).toMatchObject({ missing: 0, booleanWords: 4, numeric: 0 })
    expect(day).toMatchObject({ missing: 1, dates: { iso: 3, '%d/%m/%Y': 0 }, hasTime: false })
    expect(stamp).toMatchObject({ dates: { iso: 0, '%d/%m/%Y': 4, '%m/%d/%Y': 3 }, hasTime: true })
    expect(cat).toMatchObject({ distinct: 3, numeric: 0, example: { value: 'a', line: 2 } })
    expect(gaps).toMatchObject({ missing: 3, distinct: 1 })
    expect(inferColumnType(stamp!)).toMatchObject({ type: 'datetime', format: '%d/%m/%Y' })
    expect(inferColumnType(num!).type).toBe('categorical')
  })
})

describe('columnCounts', () => {
  /** countsQuery's counts and columnCounts' of a table of `names`, and the queries columnCounts ran. */
  async function both(names: string[], rows: string[][]) {
    const values = rows.map((row, r) => `(${r + 2}, ${row.map(sqlString).join(', ')})`).join(', ')
    const table = `(VALUES ${values}) AS t(__line, ${names.map((n) => `"${n}"`).join(', ')})`
    const one = countsQuery(names, DEFAULT_READ, table)
    const expected = one.parse((await db.runAndReadAll(one.sql)).getRowsJS()[0]!)
    const queries: string[] = []
    const counted = await columnCounts(async (sql) => (queries.push(sql), (await db.runAndReadAll(sql)).getRowsJS()), names, DEFAULT_READ, table)
    return { expected, counted, queries }
  }

  it("gives countsQuery's counts, reading dates only in the columns that hold a present cell that is no number", async () => {
    const rows = Array.from({ length: 30 }, (_, r) => [
      String(r * 1.5),
      r % 4 === 0 ? 'NA' : String(r),
      `${r === 5 ? ' ' : ''}2024-${pad(1 + (r % 12))}-${pad(1 + (r % 28))}${r % 3 ? '' : ' 10:30'}${r === 5 ? ' ' : ''}`,
      // four dates, each on several rows: read once per value, counted once per row
      `${pad(1 + (r % 4))}/03/2023`,
      ['a', 'b', 'c'][r % 3]!,
      r % 2 ? 'yes' : 'no',
      r === 7 ? 'oops' : String(r % 5),
      `id-${r}`,
    ])
    const names = ['x', 'gaps', 'day', 'european', 'cat', 'flag', 'mostly numbers', 'id']
    const { expected, counted, queries } = await both(names, rows)
    expect(counted).toEqual(expected)
    expect(expected.find((c) => c.name === 'day')).toMatchObject({ dates: { iso: 30 }, hasTime: true })
    expect(expected.find((c) => c.name === 'european')).toMatchObject({ dates: { '%d/%m/%Y': 30 }, hasTime: false })
    expect(queries).toHaveLength(2)
    // the date readings of day, european, cat, flag, mostly numbers (its one "oops") and id: none of x's nor gaps'
    const dates = queries[1]!
    expect(dates).toContain('__t2')
    expect(dates).toContain('__t6')
    expect(dates).not.toMatch(/__t[01]\b/)
  })

  it('runs one query when every present cell is a number', async () => {
    const rows = Array.from({ length: 12 }, (_, r) => [String(r), r % 5 === 0 ? '' : `${r}.25`, 'NA'])
    const { expected, counted, queries } = await both(['a', 'b', 'all missing'], rows)
    expect(counted).toEqual(expected)
    expect(queries).toHaveLength(1)
    expect(counted[1]).toMatchObject({ rows: 12, missing: 3, numeric: 9, integral: false, hasTime: false })
  })
})
