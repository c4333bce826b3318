// The transformed data set as the stages share it: data/transformed/dataset.json describes it (written by
// generate-dataset), and train/predict read its split into feature rows and targets.
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { emptyRow, encodeValue, inputSchemaOf, MlskelError, type ColumnType, type FeatureSpec, type Params, type FoldStrategy, type Signature, type Task } from 'mlskel'
import { readTable, type Db } from './duckdb.js'
import { projectRelative } from './files.js'

export const DATASET_FILE = 'dataset.json'

export interface DatasetDescription {
  task: Task
  target: { name: string; type: 'category'; classes: string[]; counts: { train: Record<string, number>; test: Record<string, number> } } | { name: string; type: 'number' }
  /** The model's columns, as its signature lists them (a datetime column is one feature per part). */
  features: FeatureSpec[]
  /** Every column of the raw file: its type, why, and what it holds. */
  columns: ColumnDescription[]
  /** Columns written beside each prediction (not learnt from). */
  identifiers: string[]
  /** How text cells were read: the missing-value tokens and the decimal separator. */
  read: { missing_values: string[]; decimal: '.' | ',' }
  /** Paths relative to the project root. */
  files: { raw: string; raw_sha256: string; format: 'csv' | 'parquet'; delimiter?: string; staging: string; train: string; test: string }
  rows: RowCounts
  /** Per column of the raw file, by name: its missing values. */
  missing: Record<string, number>
  split: { strategy: 'stratified' | 'random' | 'time' | 'group'; column?: string; test_size: number; seed: number; stratified: boolean }
}

export interface ColumnDescription {
  name: string
  type: ColumnType
  /** Inferred from the data, or declared in params.yaml (dataset.columns). */
  declared: boolean
  reason: string
  missing: number
  /** Present values that cannot be read as the type (their rows are dropped, or the stage stops). */
  invalid: number
  /** Categorical: the training split's categories and their counts, and the rare values folded into "other". */
  categories?: { value: string; count: number }[]
  other?: { category: string; values: string[]; count: number }
  /** Datetime: its format, and the model features made of it. */
  format?: string
  parts?: { feature: string; part: string }[]
}

export interface RowCounts {
  /** Data rows in the raw file. */
  raw: number
  /** Dropped: the target is missing. */
  missing_target: number
  /** Dropped: a value cannot be read as its column's type (dataset.invalid_rows: drop). */
  invalid_values: number
  /** Dropped: an exact copy of an earlier row (only with dataset.drop_duplicates). */
  duplicates: number
  /** Rows in staging, split into train and test. */
  kept: number
  train: number
  test: number
}

/** Feature rows (the model's columns, as numbers) and their targets: labels for classification, numbers for regression. */
export interface Examples {
  X: number[][]
  y: (string | number)[]
}

/** Read dataset.json from the transformed folder; a clear error when generate-dataset has not run. */
export async function readDatasetDescription(transformedDir: string, root: string): Promise<DatasetDescription> {
  const file = join(transformedDir, DATASET_FILE)
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DatasetDescription
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    throw new MlskelError('MLSKEL_DATA_NOT_GENERATED', `${projectRelative(root, file)} does not exist: the data set has not been generated yet`)
  }
}

/**
 * Check that the data set was generated from what params.yaml says now, so a model is never trained on a stale
 * split (as when train.ts is run by hand after editing params.yaml).
 */
export function checkDatasetMatches(description: DatasetDescription, params: Params, rawLabel: string): void {
  const features = inputColumns(description)
  const declared = Object.fromEntries(description.columns.filter((c) => c.declared).map((c) => [c.name, c.type]))
  const differences = [
    description.files.raw !== rawLabel && `dataset.raw is ${rawLabel}, the data set was made from ${description.files.raw}`,
    description.target.name !== params.dataset.target && `dataset.target is ${params.dataset.target}, the data set's is ${description.target.name}`,
    description.task !== params.task && `task is ${params.task}, the data set was made for ${description.task}`,
    params.dataset.features.length > 0 && params.dataset.features.join() !== features.join() && `dataset.features differ from the data set's (${features.join(', ')})`,
    !sameEntries(params.dataset.columns, declared) && `dataset.columns differ from the types the data set was made with (${JSON.stringify(declared)})`,
    description.split.seed !== params.split.seed && `split.seed is ${params.split.seed}, the data set's is ${description.split.seed}`,
    (description.split.strategy !== params.split.strategy || description.split.column !== params.split.column) && `split.strategy is ${params.split.strategy}${params.split.column ? ` by ${params.split.column}` : ''}, the data set's is ${description.split.strategy}${description.split.column ? ` by ${description.split.column}` : ''}`,
    description.split.test_size !== params.split.test_size && `split.test_size is ${params.split.test_size}, the data set's is ${description.split.test_size}`,
  ].filter((d): d is string => typeof d === 'string')
  if (differences.length > 0) {
    throw new MlskelError('MLSKEL_DATA_NOT_GENERATED', `the transformed data set does not match params.yaml: ${differences.join('; ')}`, { where: { file: 'params.yaml' } })
  }
}

/** The model's signature from the data set: its columns with their types and categories, and the target. */
export function signatureOf(description: DatasetDescription): Signature {
  const target = description.target.type === 'category' ? { name: description.target.name, type: 'category' as const, classes: description.target.classes } : description.target
  return { features: description.features, target, read: description.read }
}

/** The raw columns a model reads (a datetime once, for all its parts), in the order the signature's inputs list them. */
export function inputColumns(description: DatasetDescription): string[] {
  return [...inputSchemaOf(signatureOf(description)).names]
}

/** Read one split (a Parquet file named in dataset.json) into the model's rows, through the signature's encoder. */
export async function readExamples(db: Db, root: string, file: string, description: DatasetDescription): Promise<Examples> {
  const schema = inputSchemaOf(signatureOf(description))
  const table = await readTable(db, resolve(root, file), [...schema.names, description.target.name])
  const X = table.rows.map((values, r) => {
    const row = emptyRow(schema)
    schema.fields.forEach((field, i) => {
      const problem = encodeValue(field, values[i], row)
      if (problem) throw new MlskelError('MLSKEL_DATA_NOT_GENERATED', `${file} row ${r + 1}: ${field.name} ${problem}; the split does not match dataset.json`, { fix: 'Run `mlskel run --force generate-dataset` to write the split again.' })
    })
    return row
  })
  return { X, y: table.rows.map((row) => row[schema.names.length] as string | number) }
}

function sameEntries(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}

/**
 * How cross-validation keeps the training rows apart, as the split did: a time split's folds chain forward in time
 * (split.column's values, as milliseconds or numbers), a group split's keep groups whole.
 */
export async function foldStrategy(db: Db, root: string, description: DatasetDescription): Promise<FoldStrategy> {
  const { strategy, column } = description.split
  if ((strategy !== 'time' && strategy !== 'group') || column === undefined) return { kind: description.split.stratified ? 'stratified' : 'random' }
  const values = (await readTable(db, resolve(root, description.files.train), [column])).rows.map((row) => row[0] ?? null)
  if (strategy === 'group') return { kind: 'group', groups: values.map((v) => (typeof v === 'boolean' ? String(v) : v)) }
  return { kind: 'time', time: values.map((v) => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN)) }
}
