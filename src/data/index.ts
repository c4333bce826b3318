// A project's table: column types and how raw values read (columns.ts), type inference (infer.ts), the plan
// generate-dataset follows (plan.ts), the SQL that reads raw files the same way (sql.ts), and the encoder from raw
// values to a model's rows (encode.ts), and DuckDB itself, loaded on first use (duckdb.ts).
export * from './columns.js'
export * from './infer.js'
export * from './plan.js'
export * from './encode.js'
export * as sql from './sql.js'
export { duckdb } from './duckdb.js'
