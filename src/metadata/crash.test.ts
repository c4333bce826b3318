// A crash while a record is written: the records already there stay intact and valid, and no half record, orphaned
// diff or model without its record is left where readers look. (Crashes that kill the process: tests/e2e/crash-recovery.)
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as fs from '../fs/index.js'
import { saveModel, trainRandomForest } from '../models/index.js'
import { clusters } from '../models/test-data.js'
import { readRecords, recordTraining } from './index.js'

vi.mock('../fs/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../fs/index.js')>()
  return { ...original, writeFileAtomic: vi.fn(original.writeFileAtomic) }
})

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-crash-'))
})
afterEach(async () => {
  vi.mocked(fs.writeFileAtomic).mockReset()
  await rm(root, { recursive: true, force: true })
})

const { data, signature } = clusters(5)

async function record(seed = 1) {
  const predictor = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 2 }, seed, signature, data })
  const model = await saveModel(join(root, 'models'), predictor, { description: 'clusters', inputExample: [] })
  return recordTraining({
    root,
    metadataDir: join(root, 'models', 'metadata'),
    model,
    description: 'clusters',
    task: 'classification',
    hyperParameters: {},
    params: {},
    overrides: {},
    data: { location: 'x.csv', identifier: 'a'.repeat(64), rows: 15, features: ['f0', 'f1', 'f2', 'f3'], target: 'label' },
    trainingData: data,
    evaluation: { hold_out: { rows: 1, confusion_matrix: { labels: ['a'], matrix: [[1]] } } },
    testingStrategy: 'none',
    scores: { accuracy: { cv: 1 } },
  })
}

/** The next record write dies half way: part of the JSON is in its temp file, then the write fails. */
async function crashNextRecordWrite(): Promise<void> {
  const { writeFileAtomic } = await vi.importActual<typeof import('../fs/index.js')>('../fs/index.js')
  vi.mocked(fs.writeFileAtomic).mockImplementation(async (path, content) => {
    if (!path.endsWith('.json') || !path.includes('metadata')) return writeFileAtomic(path, content)
    await writeFile(join(dirname(path), `${fs.TEMP_PREFIX}${basename(path)}-crashed`), String(content).slice(0, 100))
    throw new Error('ENOSPC: no space left on device (simulated)')
  })
}

describe('a crash during a record write', () => {
  it('leaves the previous records intact and readable, and no diff without its record', async () => {
    execFileSync('git', ['init', '-q'], { cwd: root })
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: root })
    const first = await record()
    const second = await record()
    await writeFile(join(root, 'train.ts'), '// uncommitted, so the next record has a diff\n')
    await crashNextRecordWrite()
    await expect(record()).rejects.toThrow(/simulated/)
    expect((await readRecords(join(root, 'models', 'metadata'))).map((r) => r.run_id)).toEqual([second.run_id, first.run_id])
    const files = await readdir(join(root, 'models', 'metadata'))
    expect(files.filter((f) => f.endsWith('.diff'))).toEqual([])
    expect(files.filter((f) => !f.startsWith(fs.TEMP_PREFIX)).sort()).toEqual([`${first.run_id}.json`, `${second.run_id}.json`].sort())
  })

  it('removes the model its save created: the record commits the model, and a model without one is not left', async () => {
    const first = await record(1)
    await crashNextRecordWrite()
    await expect(record(2)).rejects.toThrow(/simulated/)
    expect((await readdir(join(root, 'models'))).filter((f) => !f.startsWith(fs.TEMP_PREFIX)).sort()).toEqual([first.model_id, 'metadata'].sort())
  })

  it('keeps a model saved before, still committed by its own record, and leaves it as it was', async () => {
    const first = await record(1)
    await crashNextRecordWrite()
    await expect(record(1)).rejects.toThrow(/simulated/)
    expect((await readdir(join(root, 'models', first.model_id))).sort()).toEqual(['manifest.json', 'model.json'])
    expect((await readRecords(join(root, 'models', 'metadata'))).map((r) => r.run_id)).toEqual([first.run_id])
  })
})
