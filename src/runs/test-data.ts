// Training records for the runs tests: complete, valid by the schema, written to a temp project without training.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { metadataRecordSchema, type MetadataRecord } from '../metadata/index.js'

const hex = (seed: string, length: number) => {
  let out = ''
  for (let i = 0; out.length < length; i++) out += ((seed.charCodeAt(i % seed.length) * 31 + i * 7) % 16).toString(16)
  return out
}

export interface RecordSpec {
  /** Run id; its time gives the timestamp. */
  runId: string
  task?: 'classification' | 'regression'
  scores?: Record<string, Record<string, number>>
  nEstimators?: number
  commit?: string | null
  dirty?: boolean
  inputs?: { path: string; sha256: string }[]
  node?: string
  /** Merged over the record last (shallow), for fields a test wants to set itself. */
  extra?: Record<string, unknown>
}

export function makeRecord(spec: RecordSpec): MetadataRecord {
  const task = spec.task ?? 'classification'
  const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(spec.runId)!
  const modelHash = hex(spec.runId, 64)
  const n = spec.nEstimators ?? 100
  const params = { dataset: { raw: 'iris.csv', target: 'species', features: [], invalid_rows: 'drop' }, task, split: { test_size: 0.2, cv_folds: 5, seed: 42 }, model: { type: 'random_forest', n_estimators: n, bootstrap: true } }
  const inputs = spec.inputs ?? [
    { path: 'data/raw/iris.csv', sha256: 'a'.repeat(64) },
    { path: 'data/transformed/train.parquet', sha256: 'b'.repeat(64) },
  ]
  const record = {
    schema_version: 1,
    run_id: spec.runId,
    timestamp: `${t[1]}-${t[2]}-${t[3]}T${t[4]}:${t[5]}:${t[6]}.${t[7]}Z`,
    description: `random forest ${task === 'classification' ? 'classifier' : 'regressor'} predicting species`,
    task,
    model_id: modelHash.slice(0, 16),
    model_type: 'random_forest',
    model_location: `models/${modelHash.slice(0, 16)}`,
    model_hash: modelHash,
    model_size: 12_345,
    hyper_parameters: params.model,
    params,
    overrides: {},
    seed: 42,
    data: { location: 'data/raw/iris.csv', identifier: inputs[0]?.sha256 ?? 'a'.repeat(64), rows: 149, n_features: 4, features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], target: 'species', inputs },
    testing_strategy: '5-fold cross-validation on the training split; hold-out on 20% test split (seed 42)',
    scores: spec.scores ?? (task === 'classification' ? { accuracy: { cv: 0.95, hold_out: 0.96 }, f1_macro: { cv: 0.94, hold_out: 0.95 }, log_loss: { cv: 0.2, hold_out: 0.1 } } : { r2: { cv: 0.9, hold_out: 0.92 }, mean_absolute_error: { cv: 0.3, hold_out: 0.25 }, mean_squared_error: { cv: 0.1, hold_out: 0.09 } }),
    durations: { load_data: 0.03, fit: 0.01 },
    git: { commit: spec.commit === undefined ? 'c'.repeat(40) : spec.commit, branch: 'main', remote_url: null, dirty: spec.dirty ?? false, diff: null },
    command: ['node', 'src/model/train.ts'],
    environment: { node: spec.node ?? '20.20.2', os: 'linux', arch: 'x64', cpu: 'Test CPU', cpus: 8, lockfile: null, dependencies: { mlskel: '0.1.0' }, mlskel: '0.1.0' },
    feature_schema: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, type: 'number', min: 0, max: 8, missing: 0 })),
    target: { name: 'species', type: 'category', classes: ['setosa', 'versicolor', 'virginica'], counts: { setosa: 40, versicolor: 40, virginica: 39 } },
    input_example: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
    evaluation: { hold_out: { rows: 30, confusion_matrix: { labels: ['setosa', 'versicolor', 'virginica'], matrix: [[10, 0, 0], [0, 9, 1], [0, 0, 10]] } } },
    ...spec.extra,
  }
  return metadataRecordSchema.parse(record)
}

/** A temp project (mlskel.yaml, models/metadata/) holding these records; returns its root. */
export async function projectWith(records: readonly MetadataRecord[]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-runs-'))
  await writeFile(join(root, 'mlskel.yaml'), 'stages:\n  train:\n    cmd: echo\n    outs: [models]\n')
  await mkdir(join(root, 'models', 'metadata'), { recursive: true })
  for (const record of records) await writeFile(join(root, 'models', 'metadata', `${record.run_id}.json`), `${JSON.stringify(record, null, 2)}\n`)
  return root
}
