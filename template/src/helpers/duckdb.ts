// DuckDB for the scripts: an in-memory database per use, SQL quoting, and tables read into plain rows.
import type * as DuckDB from '@duckdb/node-api'
import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { dataSql } from 'mlskel'

// DuckDB's Node API is a CommonJS package: required rather than imported, every stage starts ~0.15 s of CPU sooner
// (Node's import of CommonJS first scans each module the package re-exports for its names)
const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB

export type Db = DuckDB.DuckDBConnection

/** Run `fn` with a fresh in-memory DuckDB connection, closed afterwards whatever happens. */
export async function withDuckDB<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    return await fn(db)
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

/** SQL quoting, as mlskel reads raw files: a string literal ('it''s') and an identifier ("my ""column""") */
export const { sqlString, sqlIdent } = dataSql

/** The table function that reads `file`: Parquet by its extension, CSV (header row, types sniffed) otherwise. */
export function tableSource(file: string, options: { allText?: boolean } = {}): string {
  if (extname(file).toLowerCase() === '.parquet') return `read_parquet(${sqlString(file)})`
  return `read_csv(${sqlString(file)}, header = true${options.allText ? ', all_varchar = true' : ''})`
}

export type Value = number | string | boolean | null

export interface Table {
  columns: string[]
  rows: Value[][]
}

/** Run a query and return its columns and rows, with big integers as numbers and dates as ISO text. */
export async function query(db: Db, sql: string): Promise<Table> {
  const reader = await db.runAndReadAll(sql)
  const rows = reader.getRowsJS().map((row) => row.map(toValue))
  return { columns: reader.columnNames(), rows }
}

/** Read a Parquet or CSV file (optionally only some columns, in that order; a CSV's cells as text) into memory. */
export async function readTable(db: Db, file: string, columns?: readonly string[], options: { allText?: boolean } = {}): Promise<Table> {
  const select = columns ? columns.map(sqlIdent).join(', ') : '*'
  return query(db, `SELECT ${select} FROM ${tableSource(file, options)}`)
}

/** The column names of a Parquet or CSV file, without reading its rows. */
export async function readColumns(db: Db, file: string): Promise<string[]> {
  return (await query(db, `DESCRIBE SELECT * FROM ${tableSource(file)}`)).rows.map((row) => String(row[0]))
}

function toValue(value: unknown): Value {
  if (value === null || value === undefined) return null
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'bigint') return Number(value)
  if (value instanceof Date) return value.toISOString()
  return String(value)
}
