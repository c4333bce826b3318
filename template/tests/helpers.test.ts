// The helpers the scripts share: SQL quoting, reading tables, atomic outputs, tables of numbers.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatNumber, formatTable, query, readColumns, readTable, sqlIdent, sqlString, withDuckDB, writeOutputs } from '../src/helpers/index.js'
import { loadProject } from '../src/settings.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlskel-helpers-test-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('duckdb helpers', () => {
  it('quotes identifiers and strings so any column name or path is safe', async () => {
    expect(sqlIdent('my "col"')).toBe('"my ""col"""')
    expect(sqlString("it's")).toBe("'it''s'")
    const table = await withDuckDB((db) => query(db, `SELECT 1 AS ${sqlIdent('a "b"')}, ${sqlString("it's")} AS s, 2::BIGINT AS n, NULL AS z`))
    expect(table).toEqual({ columns: ['a "b"', 's', 'n', 'z'], rows: [[1, "it's", 2, null]] })
  })

  it('reads a CSV or some of its columns, in the order asked', async () => {
    const csv = join(dir, 'x.csv')
    writeFileSync(csv, 'a,b,c\n1,x,2.5\n3,y,4.5\n')
    await withDuckDB(async (db) => {
      expect(await readColumns(db, csv)).toEqual(['a', 'b', 'c'])
      expect(await readTable(db, csv, ['c', 'a'])).toEqual({ columns: ['c', 'a'], rows: [[2.5, 1], [4.5, 3]] })
    })
  })
})

describe('writeOutputs', () => {
  it('puts every file in place when writing succeeds', async () => {
    const targets = [join(dir, 'out', 'a.txt'), join(dir, 'out', 'b.txt')]
    await writeOutputs(targets, async (temps) => {
      for (const temp of temps) await writeFile(temp, 'new')
    })
    expect(targets.map((t) => readFileSync(t, 'utf8'))).toEqual(['new', 'new'])
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['a.txt', 'b.txt'])
  })

  it('leaves the old files and no temp files when writing fails', async () => {
    const target = join(dir, 'a.txt')
    writeFileSync(target, 'old')
    const failing = writeOutputs([target, join(dir, 'b.txt')], async ([a]) => {
      await writeFile(a!, 'half')
      throw new Error('disk full')
    })
    await expect(failing).rejects.toMatchObject({ code: 'MLSKEL_WRITE_FAILED' })
    expect(readFileSync(target, 'utf8')).toBe('old')
    expect(existsSync(join(dir, 'b.txt'))).toBe(false)
    expect(readdirSync(dir)).toEqual(['a.txt'])
  })
})

describe('formatTable', () => {
  it('aligns text left and numbers right under an underlined header', () => {
    expect(formatTable([['metric', 'cv'], ['accuracy', 0.95], ['r2', 1]])).toBe(['metric    cv', '--------  ----', 'accuracy  0.95', 'r2           1'].join('\n'))
    expect(formatNumber(0.123456)).toBe('0.1235')
    expect(formatTable([])).toBe('')
  })
})

describe('settings', () => {
  it('resolves the data and model folders under the project root by default', () => {
    const { paths, settings } = loadProject(dir)
    expect(paths.raw).toBe(join(dir, 'data', 'raw'))
    expect(paths.metadata).toBe(join(dir, 'models', 'metadata'))
    expect(settings.API_PORT).toBe(5000)
  })

  it('reads .env, and names a variable with a bad value', () => {
    writeFileSync(join(dir, '.env'), 'DATA_RAW=inputs\nAPI_PORT=eighty\n')
    expect(() => loadProject(dir)).toThrow(expect.objectContaining({ code: 'MLSKEL_SETTINGS_INVALID', message: expect.stringContaining('API_PORT') }))
    writeFileSync(join(dir, '.env'), 'DATA_RAW=inputs\n')
    expect(loadProject(dir).paths.raw).toBe(join(dir, 'inputs'))
  })
})
