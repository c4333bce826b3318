// The transformed data set as the stages share it: data/transformed/dataset.json describes it (written by
// generate-dataset), and train/predict read its split into feature rows and targets.
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { MlskelError, type Params, type Task } from 'mlskel'
import { readTable, type Db } from './duckdb.js'
import { projectRelative } from './files.js'

export const DATASET_FILE = 'dataset.json'

export interface DatasetDescription {
  task: Task
  target: { name: string; type: 'category'; classes: string[] } | { name: string; type: 'number' }
  features: { name: string; type: 'number' }[]
  /** Paths relative to the project root. */
  files: { raw: string; raw_sha256: string; staging: string; train: string; test: string }
  rows: RowCounts
  /** Per column used (features and target), by name: raw values missing or not a number (a label: missing). */
  missing: Record<string, number>
  split: { test_size: number; seed: number; stratified: boolean }
}

export interface RowCounts {
  /** Data rows in the raw file. */
  raw: number
  /** Dropped: the target is empty. */
  missing_target: number
  /** Dropped: a feature (or a regression target) is empty or not a number. */
  invalid_values: number
  /** Dropped: an exact copy of an earlier row. */
  duplicates: number
  /** Rows in staging, split into train and test. */
  kept: number
  train: number
  test: number
}

/** Feature rows and their targets: labels for classification, numbers for regression. */
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
  const features = description.features.map((f) => f.name)
  const differences = [
    description.files.raw !== rawLabel && `dataset.raw is ${rawLabel}, the data set was made from ${description.files.raw}`,
    description.target.name !== params.dataset.target && `dataset.target is ${params.dataset.target}, the data set's is ${description.target.name}`,
    description.task !== params.task && `task is ${params.task}, the data set was made for ${description.task}`,
    params.dataset.features.length > 0 && params.dataset.features.join() !== features.join() && `dataset.features differ from the data set's (${features.join(', ')})`,
    description.split.seed !== params.split.seed && `split.seed is ${params.split.seed}, the data set's is ${description.split.seed}`,
    description.split.test_size !== params.split.test_size && `split.test_size is ${params.split.test_size}, the data set's is ${description.split.test_size}`,
  ].filter((d): d is string => typeof d === 'string')
  if (differences.length > 0) {
    throw new MlskelError('MLSKEL_DATA_NOT_GENERATED', `the transformed data set does not match params.yaml: ${differences.join('; ')}`, { where: { file: 'params.yaml' } })
  }
}

/** Read one split (a Parquet file named in dataset.json) into feature rows and targets. */
export async function readExamples(db: Db, root: string, file: string, description: DatasetDescription): Promise<Examples> {
  const features = description.features.map((f) => f.name)
  const table = await readTable(db, resolve(root, file), [...features, description.target.name])
  return {
    X: table.rows.map((row) => row.slice(0, features.length) as number[]),
    y: table.rows.map((row) => row[features.length] as string | number),
  }
}
