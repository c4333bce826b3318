// `mlskel runs` from the outside, on fixture projects of hand-built records (no training): what it prints and
// its exit codes. The trained project and `runs verify` are tested in src/runs/verify.test.ts.
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { mlskel } from '../test-cli.js'
import { makeRecord, projectWith } from '../../runs/test-data.js'

const repo = fileURLToPath(new URL('../../../', import.meta.url))

const roots: string[] = []
afterAll(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true })
})


const a = makeRecord({ runId: '20260101T100000.000Z-aaaaaa', nEstimators: 10, scores: { accuracy: { cv: 0.9, hold_out: 0.93 }, f1_macro: { hold_out: 0.92 } } })
const b = makeRecord({ runId: '20260102T100000.000Z-bbbbbb', scores: { accuracy: { cv: 0.95, hold_out: 0.97 }, f1_macro: { hold_out: 0.96 } } })

describe.concurrent('mlskel runs', () => {
  it('says so in one friendly line, with exit code 0, when nothing was trained', async () => {
    const root = await projectWith([])
    roots.push(root)
    const result = await mlskel(root, ['runs', 'list'])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('No training recorded yet in models/metadata. Train a model with `mlskel run` (or `npm run train`), then list it here.\n')
    expect(JSON.parse((await mlskel(root, ['runs', 'list', '--json'])).stdout)).toEqual([])
  })

  it('lists, sorts, shows and diffs hand-built records', async () => {
    const root = await projectWith([a, b])
    roots.push(root)
    const sorted = await mlskel(root, ['runs', 'list', '--sort-by', 'accuracy', '--limit', '1', '--json'])
    expect(JSON.parse(sorted.stdout).map((r: { run_id: string }) => r.run_id)).toEqual([b.run_id])
    const shown = await mlskel(root, ['runs', 'show', '20260101', '--json'])
    expect(JSON.parse(shown.stdout)).toEqual(a)
    const diff = await mlskel(root, ['runs', 'diff', '20260101', '20260102'])
    expect(diff.code).toBe(0)
    expect(diff.stdout).toMatch(/model\.n_estimators\s+10\s+→\s+100/)
    expect(diff.stdout).toMatch(/accuracy\s+hold_out\s+0\.9300\s+0\.9700\s+\+0\.0400/)
  })

  it('shows the pipeline stage whose last run wrote the record, as mlskel.lock names it', async () => {
    const root = await projectWith([a, b])
    roots.push(root)
    const entry = (runId?: string) => `    cmd: tsx src/model/train.ts\n    deps: {}\n    params: {}\n    outs: {}\n${runId ? `    run_id: ${runId}\n` : ''}    ran_at: 2026-01-02T10:00:00.000Z\n    duration_ms: 4500\n`
    await writeFile(join(root, 'mlskel.lock'), `schema_version: 1\nstages:\n  generate-dataset:\n${entry()}  train:\n${entry(b.run_id)}`)
    const shown = await mlskel(root, ['runs', 'show', b.run_id])
    expect(shown.stdout).toContain('stage:  train in mlskel.lock (its last run: 2026-01-02 10:00:00Z, 4.5 s, `tsx src/model/train.ts`)')
    // an older run is no stage's last
    expect((await mlskel(root, ['runs', 'show', a.run_id])).stdout).not.toContain('stage:')
  })

  it('rejects an ambiguous or unknown id, a bad --sort-by and a bad --limit with exit code 2', async () => {
    const root = await projectWith([a, b])
    roots.push(root)
    const ambiguous = await mlskel(root, ['runs', 'show', '2026'])
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toContain(`error MLSKEL_RUN_AMBIGUOUS`)
    expect(ambiguous.stderr).toContain(`${b.run_id}, ${a.run_id}`)
    const unknown = await mlskel(root, ['runs', 'diff', 'latest', '20270101'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('MLSKEL_RUN_NOT_FOUND')
    expect((await mlskel(root, ['runs', 'list', '--sort-by', 'acc'])).stderr).toContain('MLSKEL_METRIC_UNKNOWN')
    expect((await mlskel(root, ['runs', 'list', '--limit', 'ten'])).code).toBe(2)
  })

  it('names the file and field of a record edited into an invalid one', async () => {
    const root = await projectWith([a])
    roots.push(root)
    const file = join(root, 'models', 'metadata', `${a.run_id}.json`)
    await writeFile(file, JSON.stringify({ ...a, model_hash: 'not a hash' }))
    const result = await mlskel(root, ['runs', 'list'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`error MLSKEL_METADATA_INVALID: ${file} (model_hash)`)
  })

  it('documents the exit codes of verify in its help', async () => {
    const help = await mlskel(repo, ['runs', 'verify', '--help'])
    expect(help.stdout).toMatch(/Exit codes:\n\s+0\s+verified[\s\S]+1\s+not verified[\s\S]+2\s+cannot verify/)
  })
})
