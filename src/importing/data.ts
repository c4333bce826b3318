// The data an import scores a model on: a CSV or Parquet file read with DuckDB (loaded only when there is data to
// read), and the project's own data set as generate-dataset describes it (data/transformed/dataset.json).
import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { z } from 'zod'
import { duckdb, sql } from '../data/index.js'
import { MlskelError, quote } from '../errors/index.js'
import { signatureSchema, type Signature } from '../models/index.js'

/** A raw cell as DuckDB gives it, made plain: big integers as numbers, dates and times as ISO text (a CSV's cells are text). */
export type Cell = number | string | boolean | null

export interface Table {
  columns: string[]
  rows: Cell[][]
}

/**
 * The table function that reads `file`: Parquet by its extension, anything else as CSV with a header row, every cell
 * as text: the model's signature reads it as the server reads a CSV body (its missing-value tokens and decimal
 * separator), where DuckDB's sniffer would guess (it takes a column of yes and no for booleans).
 */
function tableSource(file: string): string {
  const literal = sql.sqlString(file)
  return extname(file).toLowerCase() === '.parquet' ? `read_parquet(${literal})` : `read_csv(${literal}, header = true, all_varchar = true)`
}

/**
 * Read `file` (its `columns`, in that order; every column when absent) in one fresh in-memory DuckDB. A file DuckDB
 * cannot read is MLSKEL_IMPORT_DATA_MISMATCH, with DuckDB's first line: the import cannot score on it.
 */
export async function readTable(file: string, shown: string, columns?: readonly string[]): Promise<Table> {
  const { DuckDBInstance } = duckdb()
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    const select = columns ? columns.map((c) => sql.sqlIdent(c)).join(', ') : '*'
    const reader = await db.runAndReadAll(`SELECT ${select} FROM ${tableSource(file)}`)
    return { columns: reader.columnNames(), rows: reader.getRowsJS().map((row) => row.map(plain)) }
  } catch (error) {
    if (error instanceof MlskelError) throw error
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0]
    throw new MlskelError('MLSKEL_IMPORT_DATA_MISMATCH', `cannot be read as ${extname(file).toLowerCase() === '.parquet' ? 'Parquet' : 'CSV'}: ${why}`, {
      where: { file: shown },
      fix: 'Give --data a CSV file with a header row, or a Parquet file (named .parquet), holding the model\'s feature columns and its target.',
      cause: error,
    })
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

function plain(value: unknown): Cell {
  if (value === null || value === undefined) return null
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'bigint') return Number(value)
  if (value instanceof Date) return value.toISOString()
  return String(value)
}

/** What an import reads of dataset.json: the signature generate-dataset made, and where the test split is. */
const datasetSchema = z.looseObject({
  task: z.enum(['classification', 'regression']),
  features: signatureSchema.shape.features,
  target: z.union([z.looseObject({ name: z.string().min(1), type: z.literal('category'), classes: z.array(z.union([z.string(), z.number()])).min(1) }), z.looseObject({ name: z.string().min(1), type: z.literal('number') })]),
  read: signatureSchema.shape.read,
  files: z.looseObject({ test: z.string().min(1) }),
})

export const DATASET_FILE = 'dataset.json'

export interface ProjectDataset {
  task: 'classification' | 'regression'
  signature: Signature
  /** The test split, relative to the project root. */
  test: string
}

/**
 * The project's data set, as the template's generate-dataset wrote it into the transformed folder; null when there is
 * none (the pipeline has not run), or when it is not a description mlskel can read (then `why` says so).
 */
export async function readProjectDataset(transformedDir: string): Promise<{ dataset: ProjectDataset } | { dataset: null; why: string }> {
  const file = join(transformedDir, DATASET_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { dataset: null, why: 'the project has no data set yet (data/transformed/dataset.json: run the pipeline)' }
    return { dataset: null, why: `the project's ${DATASET_FILE} cannot be read: ${(error as Error).message}` }
  }
  const parsed = datasetSchema.safeParse(raw)
  if (!parsed.success) return { dataset: null, why: `the project's ${DATASET_FILE} is not a data set description mlskel reads (${quote(parsed.error.issues[0]?.path.join('.'))}: ${parsed.error.issues[0]?.message})` }
  const d = parsed.data
  const target: Signature['target'] = d.target.type === 'category' ? { name: d.target.name, type: 'category', classes: d.target.classes } : { name: d.target.name, type: 'number' }
  return { dataset: { task: d.task, signature: { features: d.features, target, ...(d.read ? { read: d.read } : {}) }, test: d.files.test } }
}
