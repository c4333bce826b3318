import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isMlskelError, type MlskelError } from '../errors/index.js'
import type { MetadataRecord } from '../metadata/index.js'
import { formatDiff } from '../cli/runs-format.js'
import { checkSortMetric, diffRuns, isEmptyDiff, listRuns, loadRuns, lowerIsBetter, resolveRun, scoreChanges, summarize } from './index.js'
import { makeRecord, projectWith } from './test-data.js'

const roots: string[] = []
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true })
})

async function project(records: MetadataRecord[]): Promise<string> {
  const root = await projectWith(records)
  roots.push(root)
  return root
}

function thrown(fn: () => unknown): MlskelError {
  try {
    fn()
  } catch (error) {
    if (isMlskelError(error)) return error
    throw error
  }
  throw new Error('expected an MlskelError')
}

const old = makeRecord({ runId: '20260101T100000.000Z-aaaaaa', scores: { accuracy: { cv: 0.9, hold_out: 0.93 }, f1_macro: { hold_out: 0.92 }, log_loss: { hold_out: 0.3 } }, nEstimators: 10 })
const mid = makeRecord({ runId: '20260102T100000.000Z-bbbbbb', scores: { accuracy: { cv: 0.95, hold_out: 0.97 }, f1_macro: { hold_out: 0.96 }, log_loss: { hold_out: 0.1 } }, dirty: true })
const young = makeRecord({ runId: '20260103T100000.000Z-cccccc', scores: { accuracy: { cv: 0.92, hold_out: 0.9 }, f1_macro: { hold_out: 0.89 }, log_loss: { hold_out: 0.2 } } })

describe('loadRuns', () => {
  it('reads every record of the project, newest first', async () => {
    const root = await project([old, young, mid])
    const { records, metadataDir } = await loadRuns(root)
    expect(records.map((r) => r.run_id)).toEqual([young.run_id, mid.run_id, old.run_id])
    expect(metadataDir).toBe(join(root, 'models', 'metadata'))
  })

  it('has no runs in a project that never trained', async () => {
    const root = await project([])
    expect((await loadRuns(root)).records).toEqual([])
  })

  it('rejects a record edited by hand into an invalid one, naming the file and the field', async () => {
    const root = await project([old])
    const file = join(root, 'models', 'metadata', `${old.run_id}.json`)
    await writeFile(file, JSON.stringify({ ...old, scores: { accuracy: { hold_out: 'high' } } }))
    const error = await loadRuns(root).then(
      () => undefined,
      (e: MlskelError) => e,
    )
    expect(error?.code).toBe('MLSKEL_METADATA_INVALID')
    expect(error?.where?.file).toBe(file)
    expect(error?.where?.field).toBe('scores.accuracy.hold_out')
  })
})

describe('resolveRun', () => {
  const records = [young, mid, old]
  it('finds a run by its whole id, by a unique prefix (any case), and latest', () => {
    expect(resolveRun(records, mid.run_id, 'md').run_id).toBe(mid.run_id)
    expect(resolveRun(records, '20260103', 'md').run_id).toBe(young.run_id)
    expect(resolveRun(records, '20260101t10', 'md').run_id).toBe(old.run_id)
    expect(resolveRun(records, 'latest', 'md').run_id).toBe(young.run_id)
  })

  it('names every candidate of an ambiguous prefix', () => {
    const error = thrown(() => resolveRun(records, '202601', 'md'))
    expect(error.code).toBe('MLSKEL_RUN_AMBIGUOUS')
    for (const r of records) expect(error.message).toContain(r.run_id)
    expect(error.exitCode).toBe(2)
  })

  it('suggests a near id, and how to list them, for an unknown one', () => {
    const error = thrown(() => resolveRun(records, '20260104T10', 'md'))
    expect(error.code).toBe('MLSKEL_RUN_NOT_FOUND')
    expect(error.message).toMatch(/Did you mean "2026010\dT100000/)
    expect(error.fix).toContain('mlskel runs list')
  })

  it('says there is no latest run when nothing was trained', () => {
    expect(thrown(() => resolveRun([], 'latest', 'md')).code).toBe('MLSKEL_RUN_NOT_FOUND')
  })
})

describe('listRuns', () => {
  const records = [young, mid, old]
  it('keeps the newest first by default, and cuts at --limit', () => {
    expect(listRuns(records).map((r) => r.run_id)).toEqual([young.run_id, mid.run_id, old.run_id])
    expect(listRuns(records, { limit: 2 }).map((r) => r.run_id)).toEqual([young.run_id, mid.run_id])
  })

  it('sorts a higher-is-better metric descending and an error or loss ascending', () => {
    expect(listRuns(records, { sortBy: 'accuracy' }).map((r) => r.run_id)).toEqual([mid.run_id, old.run_id, young.run_id])
    expect(listRuns(records, { sortBy: 'log_loss' }).map((r) => r.run_id)).toEqual([mid.run_id, young.run_id, old.run_id])
    expect(lowerIsBetter('mean_absolute_error')).toBe(true)
    expect(lowerIsBetter('r2')).toBe(false)
  })

  it('puts runs without the metric last, and sorts regression runs by their error', () => {
    const a = makeRecord({ runId: '20260105T100000.000Z-dddddd', task: 'regression', scores: { r2: { hold_out: 0.8 }, mean_absolute_error: { hold_out: 0.5 } } })
    const b = makeRecord({ runId: '20260106T100000.000Z-eeeeee', task: 'regression', scores: { r2: { hold_out: 0.9 }, mean_absolute_error: { hold_out: 0.2 } } })
    expect(listRuns([b, a, young], { sortBy: 'mean_absolute_error' }).map((r) => r.run_id)).toEqual([b.run_id, a.run_id, young.run_id])
  })

  it('rejects a --sort-by that is not a metric, with a suggestion, and a --limit below 1', () => {
    const error = thrown(() => checkSortMetric('acuracy'))
    expect(error.code).toBe('MLSKEL_METRIC_UNKNOWN')
    expect(error.message).toContain('Did you mean "accuracy"?')
    expect(thrown(() => listRuns(records, { limit: 0 })).code).toBe('MLSKEL_USAGE')
  })

  it('summarizes a run for --json with full hashes and every score', () => {
    expect(summarize(mid)).toEqual({ run_id: mid.run_id, timestamp: mid.timestamp, model_id: mid.model_id, task: 'classification', scores: mid.scores, data_id: mid.data.identifier, source: 'trained', commit: 'c'.repeat(40), dirty: true, description: mid.description })
  })
})

describe('diffRuns', () => {
  it('lists changed params by dotted key, scores with deltas b - a, and nothing for an unchanged section', async () => {
    const d = await diffRuns(old, mid)
    expect(d.params).toEqual([{ key: 'model.n_estimators', a: 10, b: 100 }])
    expect(d.hyper_parameters).toEqual([{ key: 'n_estimators', a: 10, b: 100 }])
    const accuracy = d.scores.filter((s) => s.metric === 'accuracy')
    expect(accuracy.map((s) => s.split)).toEqual(['cv', 'hold_out'])
    expect(accuracy[1]!.delta).toBeCloseTo(0.04, 12)
    expect(scoreChanges({ r2: { cv: 0.5 } }, { r2: { hold_out: 0.6 } })).toEqual([{ metric: 'r2', split: 'cv', a: 0.5 }, { metric: 'r2', split: 'hold_out', b: 0.6 }])
    expect(d.inputs).toEqual([])
    expect(d.environment).toEqual([])
    const text = formatDiff(d)
    expect(text).toMatch(/model\.n_estimators\s+10\s+→\s+100/)
    expect(text).toMatch(/accuracy\s+hold_out\s+0\.9300\s+0\.9700\s+\+0\.0400/)
  })

  it('says per input path whether it changed, was added or removed', async () => {
    const a = makeRecord({ runId: '20260101T100000.000Z-111111', inputs: [{ path: 'data/raw/iris.csv', sha256: 'a'.repeat(64) }, { path: 'data/raw/old.csv', sha256: 'b'.repeat(64) }] })
    const b = makeRecord({ runId: '20260102T100000.000Z-222222', inputs: [{ path: 'data/raw/iris.csv', sha256: 'd'.repeat(64) }, { path: 'data/raw/new.csv', sha256: 'e'.repeat(64) }], node: '22.1.0' })
    const d = await diffRuns(a, b)
    expect(d.inputs).toEqual([
      { path: 'data/raw/iris.csv', status: 'changed', a: 'a'.repeat(64), b: 'd'.repeat(64) },
      { path: 'data/raw/old.csv', status: 'removed', a: 'b'.repeat(64) },
      { path: 'data/raw/new.csv', status: 'added', b: 'e'.repeat(64) },
    ])
    expect(d.data).toContainEqual({ key: 'identifier', a: 'a'.repeat(64), b: 'd'.repeat(64) })
    expect(d.environment).toEqual([{ key: 'node', a: '20.20.2', b: '22.1.0' }])
    expect(formatDiff(d)).toMatch(/removed\s+data\/raw\/old\.csv/)
  })

  it('shows a column whose type or missing count changed between two runs, or that one run lacks', async () => {
    const withColumns = (runId: string, columns: { name: string; type: string; missing: number }[]) => {
      const r = makeRecord({ runId })
      return makeRecord({ runId, extra: { data: { ...r.data, columns } } })
    }
    const a = withColumns('20260101T100000.000Z-111111', [
      { name: 'zip', type: 'numeric', missing: 0 },
      { name: 'age', type: 'numeric', missing: 3 },
      { name: 'notes', type: 'categorical', missing: 0 },
    ])
    const b = withColumns('20260102T100000.000Z-222222', [
      { name: 'zip', type: 'categorical', missing: 0 },
      { name: 'age', type: 'numeric', missing: 3 },
      { name: 'signup', type: 'datetime', missing: 1 },
    ])
    const d = await diffRuns(a, b)
    expect(d.columns).toEqual([
      { name: 'zip', a: { type: 'numeric', missing: 0 }, b: { type: 'categorical', missing: 0 } },
      { name: 'notes', a: { type: 'categorical', missing: 0 } },
      { name: 'signup', b: { type: 'datetime', missing: 1 } },
    ])
    expect(d.data).toEqual([])
    const text = formatDiff(d)
    expect(text).toMatch(/columns \(type, missing values\)\n\s+zip\s+numeric, 0 missing\s+→\s+categorical, 0 missing/)
    expect(text).toMatch(/signup\s+\(absent\)\s+→\s+datetime, 1 missing/)
    expect(isEmptyDiff(await diffRuns(a, a))).toBe(true)
  })

  it('notes a dirty side and commits that are not in a repository, and finds a run equal to itself', async () => {
    const other = makeRecord({ runId: '20260104T100000.000Z-333333', commit: 'd'.repeat(40) })
    const root = await project([])
    const d = await diffRuns(mid, other, { root })
    expect(d.code.same_commit).toBe(false)
    expect(d.code.files).toBeUndefined()
    expect(d.code.notes.join('\n')).toMatch(/a was trained from uncommitted changes/)
    expect(d.code.notes.join('\n')).toMatch(/not in this repository/)
    expect(isEmptyDiff(await diffRuns(old, old))).toBe(true)
  })
})
