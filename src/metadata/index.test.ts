import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { saveModel, trainRandomForest, type SavedModel } from '../models/index.js'
import { clusters } from '../models/test-data.js'
import { loadModel, mapBounded, portableCommand, metadataRecordSchema, newRunId, readRecord, readRecords, recordImport, recordTraining, type RecordTrainingOptions } from './index.js'

let root: string
let models: string
let metadata: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-metadata-'))
  models = join(root, 'models')
  metadata = join(models, 'metadata')
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const { data: trainingData, signature } = clusters(10)

async function trainAndSave(seed = 1): Promise<SavedModel> {
  const predictor = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 3 }, seed, signature, data: trainingData })
  return saveModel(models, predictor, { description: 'clusters', inputExample: [{ f0: 0, f1: 0, f2: 0, f3: 0 }] })
}

function options(model: SavedModel, extra: Partial<RecordTrainingOptions> = {}): RecordTrainingOptions {
  return {
    root,
    metadataDir: metadata,
    model,
    description: 'three clusters',
    task: 'classification',
    hyperParameters: { n_estimators: 3, max_features: 1, bootstrap: true },
    params: { split: { seed: 42, cv_folds: 5, test_size: 0.2 }, task: 'classification' },
    overrides: {},
    data: { location: 'data/transformed/train.parquet', identifier: 'a'.repeat(64), rows: 30, features: ['f0', 'f1', 'f2', 'f3'], target: 'label', inputs: [{ path: 'data/raw/x.csv', sha256: 'b'.repeat(64) }], missing: { f1: 2 } },
    trainingData,
    evaluation: { hold_out: { rows: 3, confusion_matrix: { labels: ['a', 'b', 'c'], matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] } } },
    testingStrategy: '5-fold cross-validation on the train split; 20% hold-out',
    scores: { accuracy: { cv: 0.95, hold_out: 0.9 }, log_loss: { cv: 0.2, hold_out: 0.3 } },
    durations: { fit: 0.12 },
    ...extra,
  }
}

describe('recordTraining', () => {
  it('writes a valid record named by its run id, atomically, leaving no temp file', async () => {
    const model = await trainAndSave()
    const record = await recordTraining(options(model))
    expect(await readdir(metadata)).toEqual([`${record.run_id}.json`])
    const text = await readFile(join(metadata, `${record.run_id}.json`), 'utf8')
    const onDisk = JSON.parse(text)
    expect(metadataRecordSchema.parse(onDisk)).toEqual(record)
    expect(onDisk).toMatchObject({
      schema_version: 1,
      model_id: model.id,
      model_type: 'random_forest',
      model_location: `models/${model.id}`,
      model_hash: model.manifest.files.model.sha256,
      model_size: model.size,
      seed: 42,
      data: { n_features: 4, rows: 30, location: 'data/transformed/train.parquet' },
      scores: { accuracy: { cv: 0.95, hold_out: 0.9 } },
      git: { commit: null, branch: null, remote_url: null, dirty: null, diff: null },
      environment: { node: process.versions.node, os: process.platform, arch: process.arch, cpus: expect.any(Number), cpu: expect.any(String), lockfile: null, dependencies: {}, mlskel: expect.stringMatching(/^\d+\.\d+\.\d+/) },
      input_example: [{ f0: 0, f1: 0, f2: 0, f3: 0 }],
      target: { name: 'label', type: 'category', classes: ['a', 'b', 'c'], counts: { a: 10, b: 10, c: 10 } },
      evaluation: { hold_out: { rows: 3 } },
    })
    expect(onDisk.feature_schema.map((f: { name: string; missing: number }) => [f.name, f.missing])).toEqual([['f0', 0], ['f1', 2], ['f2', 0], ['f3', 0]])
    for (const feature of onDisk.feature_schema) expect(feature.min).toBeLessThan(feature.max)
    expect(onDisk.run_id).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/)
    expect(Date.parse(onDisk.timestamp)).not.toBeNaN()
    // no command given, none recorded: the library reads nothing of process.argv (a stage passes stageContext's)
    expect(onDisk.command).toEqual([])
    expect(Object.keys(onDisk).slice(0, 3)).toEqual(['schema_version', 'run_id', 'timestamp'])
    expect(text.endsWith('}\n')).toBe(true)
  })

  it('records the git commit, branch and a clean tree, not counting the model and record being written', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: root, encoding: 'utf8' }).trim()
    git('init', '-q', '-b', 'main')
    await writeFile(join(root, 'train.ts'), '// code\n')
    git('add', '.')
    git('commit', '-q', '-m', 'init')
    const record = await recordTraining(options(await trainAndSave()))
    expect(record.git).toEqual({ commit: git('rev-parse', 'HEAD'), branch: 'main', remote_url: null, dirty: false, diff: null })
    await writeFile(join(root, 'train.ts'), '// changed\n')
    expect((await recordTraining(options(await trainAndSave(2)))).git.dirty).toBe(true)
  })

  it('keeps data inputs out of the saved diff: they are recorded by hash; the diff holds code and configuration', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: root, encoding: 'utf8' }).trim()
    git('init', '-q', '-b', 'main')
    await writeFile(join(root, 'train.ts'), '// code\n')
    git('add', '.')
    git('commit', '-q', '-m', 'init')
    // an uncommitted raw data file, the record's input: not a change of code
    await mkdir(join(root, 'data', 'raw'), { recursive: true })
    await writeFile(join(root, 'data', 'raw', 'x.csv'), `a,b\n${'1,2\n'.repeat(50_000)}`)
    const clean = await recordTraining(options(await trainAndSave()))
    expect(clean.git).toMatchObject({ dirty: false, diff: null })
    // a code change is dirty, and its diff has the code alone
    await writeFile(join(root, 'train.ts'), '// changed\n')
    const dirty = await recordTraining(options(await trainAndSave(2)))
    expect(dirty.git.dirty).toBe(true)
    const patch = await readFile(join(metadata, `${dirty.run_id}.diff`), 'utf8')
    expect(patch).toContain('train.ts')
    expect(patch).not.toContain('x.csv')
    // the 200 kB CSV is not in it
    expect(dirty.git.diff!.bytes).toBeLessThan(50_000)
  })

  it('records what it is given, and nothing of the environment: the run id, command and overrides of the stage', async () => {
    const model = await trainAndSave()
    process.env.MLSKEL_SET = JSON.stringify({ 'model.n_estimators': 3 })
    try {
      const { overrides: _, ...rest } = options(model)
      const given = await recordTraining({ ...rest, runId: '20261206T120000.000Z-abcdef', command: [process.execPath, join(root, 'src', 'train.ts'), '--verbose'], overrides: { 'model.max_depth': 2 } })
      expect(given).toMatchObject({ run_id: '20261206T120000.000Z-abcdef', command: ['node', 'src/train.ts', '--verbose'], overrides: { 'model.max_depth': 2 } })
      expect((await recordTraining(rest)).overrides).toEqual({})
    } finally {
      delete process.env.MLSKEL_SET
    }
    await expect(recordTraining({ ...options(model), runId: 'not-a-run' })).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID' })
  })

  it('refuses an unknown metric and writes nothing', async () => {
    const model = await trainAndSave()
    await expect(recordTraining(options(model, { scores: { accuracy: { cv: 1 }, precision: { cv: 1 } } }))).rejects.toMatchObject({ code: 'MLSKEL_METRIC_UNKNOWN', message: expect.stringContaining('"precision"') })
    await expect(readdir(metadata)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses a record that breaks the schema, naming the field', async () => {
    const model = await trainAndSave()
    await expect(recordTraining(options(model, { data: { ...options(model).data, identifier: 'not-a-hash' } }))).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'data.identifier' } })
  })
})

describe('reading records', () => {
  it('returns no records for a missing folder', async () => {
    expect(await readRecords(join(root, 'nowhere'))).toEqual([])
  })

  it('returns records newest first, and loadModel picks the newest record\'s model', async () => {
    const first = await trainAndSave(1)
    const second = await trainAndSave(2)
    const a = await recordTraining(options(first))
    const b = await recordTraining(options(second))
    expect((await readRecords(metadata)).map((r) => r.run_id)).toEqual([b.run_id, a.run_id])
    expect((await loadModel(models)).manifest.id).toBe(second.id)
    await recordTraining(options(first))
    expect((await loadModel(models, { metadataDir: metadata })).manifest.id).toBe(first.id)
  })

  it('says there is no newest model when nothing was recorded', async () => {
    await trainAndSave(3)
    await expect(loadModel(models, { metadataDir: join(models, 'no-records') })).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND', message: expect.stringContaining('no training recorded') })
  })

  it('refuses a record edited into an invalid one, naming the file and the field', async () => {
    const record = await recordTraining(options(await trainAndSave()))
    const path = join(metadata, `${record.run_id}.json`)
    await writeFile(path, JSON.stringify({ ...record, model_size: 'big' }))
    await expect(readRecords(metadata)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { file: path, field: 'model_size' } })
    await writeFile(path, JSON.stringify({ ...record, scores: { accuracy: { test: 1 } } }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { file: path, field: 'scores.accuracy.test' } })
    await writeFile(path, JSON.stringify({ ...record, feature_schema: [{ ...record.feature_schema[0], min: 'low' }] }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { file: path, field: 'feature_schema[0].min' } })
    await writeFile(path, JSON.stringify({ ...record, git: { ...record.git, diff: { file: null, sha256: 'c'.repeat(64), bytes: -1, cap_bytes: 10, truncated: true } } }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { file: path, field: 'git.diff.bytes' }, message: expect.stringContaining(path) })
    const { environment: _, ...withoutEnvironment } = record
    await writeFile(path, JSON.stringify(withoutEnvironment))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { file: path, field: 'environment' } })
    await writeFile(path, '{ not json')
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { file: path } })
  })

  it('keeps fields a later version of the record adds', async () => {
    const record = await recordTraining(options(await trainAndSave()))
    const path = join(metadata, `${record.run_id}.json`)
    await writeFile(path, JSON.stringify({ ...record, lineage: { parent: 'x' }, environment: { ...record.environment, gpu: 'none' } }))
    expect(await readRecord(path)).toMatchObject({ lineage: { parent: 'x' }, environment: { gpu: 'none' } })
  })
})

describe('run ids', () => {
  it('sort as text in the order they were made, even within one millisecond', () => {
    const now = new Date('2026-11-26T17:42:33.123Z')
    const ids = [newRunId(now), newRunId(now), newRunId(now)]
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(3)
  })
})

describe('metadataRecordSchema', () => {
  it('converts to a JSON Schema with every field described', () => {
    const schema = z.toJSONSchema(metadataRecordSchema, { io: 'input', unrepresentable: 'any' }) as { properties: Record<string, { description?: string }>; required: string[] }
    expect(schema.required).toContain('model_id')
    for (const [name, property] of Object.entries(schema.properties)) expect(property.description, name).toBeTruthy()
  })
})

describe('portableCommand', () => {
  it('records the command without the training machine\'s paths: project-relative inside it, file names outside', () => {
    expect(portableCommand(['/usr/local/bin/node', '/home/ana/churn/node_modules/.bin/tsx', '/home/ana/churn/src/model/train.ts', '--verbose', 'data/x.csv'], '/home/ana/churn')).toEqual(['node', 'node_modules/.bin/tsx', 'src/model/train.ts', '--verbose', 'data/x.csv'])
    expect(portableCommand(['/usr/bin/node', '/home/ana/churn/src/model/train.ts'], undefined)).toEqual(['node', 'train.ts'])
  })
})

describe('reading records', () => {
  it('refuses a record copied under another run\'s name, and names the problem', async () => {
    const model = await trainAndSave()
    const record = await recordTraining(options(model))
    const forged = join(metadata, '20991231T235959.999Z-abcdef.json')
    await writeFile(forged, await readFile(join(metadata, `${record.run_id}.json`), 'utf8'))
    await expect(readRecord(forged)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'run_id' }, message: expect.stringContaining(`holds run ${record.run_id}, not run 20991231T235959.999Z-abcdef`) })
    await rm(forged)
  })

  it('says what the system said when a record cannot be read, rather than "not valid JSON"', async () => {
    const dir = join(metadata, '20200101T000000.000Z-000000.json')
    await mkdir(dir, { recursive: true })
    await expect(readRecord(dir)).rejects.toMatchObject({ code: 'MLSKEL_READ_FAILED', message: expect.stringContaining('EISDIR') })
    await rm(dir, { recursive: true })
  })

  it('reads many records a few at a time, in order', async () => {
    let open = 0
    let most = 0
    const items = Array.from({ length: 200 }, (_, i) => i)
    const out = await mapBounded(items, 7, async (i) => {
      most = Math.max(most, ++open)
      await new Promise((r) => setTimeout(r, 1))
      open--
      return i * 2
    })
    expect(out).toEqual(items.map((i) => i * 2))
    expect(most).toBe(7)
  })
})

describe('records of imported models', () => {
  const imported = { file: 'churn.json', path: null, sha256: 'd'.repeat(64), size: 1234, tool: 'xgboost', tool_version: '1.7.4', signature: 'file' as const }

  it('reads a record written before imports (no source) as a trained model\'s', async () => {
    const record = await recordTraining(options(await trainAndSave()))
    const path = join(metadata, `${record.run_id}.json`)
    const { source: _, ...old } = record
    await writeFile(path, JSON.stringify(old))
    expect((await readRecord(path)).source).toBe('trained')
    expect(record.source).toBe('trained')
  })

  it('records an import without data honestly: what was imported, the project\'s git, and no training fields', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: root, encoding: 'utf8' }).trim()
    git('init', '-q', '-b', 'main')
    await writeFile(join(root, 'train.ts'), '// code\n')
    git('add', '.')
    git('commit', '-q', '-m', 'init')
    // the imported file in the project, uncommitted: it is the import's input, not a change of code
    await writeFile(join(root, 'churn.json'), '{}')
    const model = await trainAndSave()
    const record = await recordImport({ root, metadataDir: metadata, model, description: 'an XGBoost classifier', task: 'classification', imported: { ...imported, path: 'churn.json' }, command: ['/usr/bin/node', '/opt/mlskel/cli.js', 'models', 'import', join(root, 'churn.json')] })
    expect(record).toMatchObject({
      source: 'imported',
      imported: { ...imported, path: 'churn.json', hold_out: null },
      model_id: model.id,
      model_hash: model.manifest.files.model.sha256,
      hyper_parameters: {},
      params: null,
      overrides: {},
      seed: null,
      data: { location: null, identifier: null, rows: null, n_features: 4, features: ['f0', 'f1', 'f2', 'f3'], target: 'label', inputs: [] },
      testing_strategy: null,
      scores: {},
      feature_schema: [],
      target: null,
      evaluation: { hold_out: null },
      git: { commit: git('rev-parse', 'HEAD'), branch: 'main', dirty: false, diff: null },
      command: ['node', 'cli.js', 'models', 'import', 'churn.json'],
    })
    // committed: the record is the commit point, and it reads back as written
    expect(await readdir(model.dir)).not.toContain('.mlskel-pending.json')
    expect(await readRecord(join(metadata, `${record.run_id}.json`))).toEqual(record)
  })

  it('records the hold-out it scored: its file among the inputs, hold-out scores only, the summary', async () => {
    const model = await trainAndSave()
    const summary = { rows: 3, confusion_matrix: { labels: ['a', 'b', 'c'], matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] } }
    const record = await recordImport({
      root,
      metadataDir: metadata,
      model,
      description: 'imported',
      task: 'classification',
      imported: { ...imported, signature: 'data' },
      holdOut: { path: 'holdout.csv', sha256: 'e'.repeat(64), from: 'data', dropped: { missing_target: 1, invalid_values: 0 }, summary, scores: { accuracy: 1, log_loss: 0.1 } },
    })
    expect(record).toMatchObject({
      imported: { signature: 'data', hold_out: { path: 'holdout.csv', from: 'data', dropped: { missing_target: 1, invalid_values: 0 } } },
      data: { inputs: [{ path: 'holdout.csv', sha256: 'e'.repeat(64) }] },
      scores: { accuracy: { hold_out: 1 }, log_loss: { hold_out: 0.1 } },
      evaluation: { hold_out: summary },
      testing_strategy: expect.stringContaining('holdout.csv (3 rows)'),
    })
    await expect(recordImport({ root, metadataDir: metadata, model, description: 'x', task: 'classification', imported, holdOut: { path: 'h.csv', sha256: 'e'.repeat(64), from: 'data', dropped: {}, summary, scores: { precision: 1 } } })).rejects.toMatchObject({ code: 'MLSKEL_METRIC_UNKNOWN' })
  })

  it('refuses the null training fields in a trained model\'s record, and an imported record without what it imported', async () => {
    const record = await recordTraining(options(await trainAndSave()))
    const path = join(metadata, `${record.run_id}.json`)
    await writeFile(path, JSON.stringify({ ...record, data: { ...record.data, location: null } }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'data.location' }, message: expect.stringContaining('only an imported model') })
    await writeFile(path, JSON.stringify({ ...record, evaluation: { hold_out: null } }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'evaluation.hold_out' } })
    await writeFile(path, JSON.stringify({ ...record, imported: { ...imported, hold_out: null } }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'imported' } })
    await writeFile(path, JSON.stringify({ ...record, source: 'imported' }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'imported' } })
    await writeFile(path, JSON.stringify({ ...record, source: 'downloaded' }))
    await expect(readRecord(path)).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'source' } })
  })

  it('leaves no model when the record cannot be written', async () => {
    const model = await trainAndSave()
    // the metadata folder is a file: the record's write fails, and the save is undone
    await mkdir(models, { recursive: true })
    await writeFile(metadata, 'not a folder')
    await expect(recordImport({ root, metadataDir: metadata, model, description: 'x', task: 'classification', imported })).rejects.toThrow()
    expect(await readdir(models)).toEqual(['metadata'])
  })
})
