// DuckDB for the reports: a fresh in-memory database per report, and SQL quoting. Files are read in place by the
// queries (read_parquet, read_csv); nothing is loaded into JavaScript that SQL can aggregate. DuckDB itself is
// loaded on first use (data/duckdb.ts): a delivery report without data files to read never pays for it.
import type { DuckDBConnection } from '@duckdb/node-api'
import { duckdb, sql } from '../data/index.js'

export type Db = DuckDBConnection

/** Run `fn` with a fresh in-memory DuckDB connection, closed afterwards whatever happens. */
export async function withDuckDB<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const { DuckDBInstance } = duckdb()
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    return await fn(db)
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}


export const { sqlString, sqlIdent } = sql
