// DuckDB's Node API, loaded when first needed. It is a CommonJS package: required, it loads in ~0.15 s less CPU than
// imported, as Node's import of CommonJS first scans the source of every module the package re-exports for their
// names (~60 modules here); mlskel's commands that read data (reports, imports) would pay that at every start.
import { createRequire } from 'node:module'
import type * as DuckDB from '@duckdb/node-api'

let loaded: typeof DuckDB | undefined

/** `@duckdb/node-api`, as installed beside mlskel. */
export function duckdb(): typeof DuckDB {
  return (loaded ??= createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB)
}
