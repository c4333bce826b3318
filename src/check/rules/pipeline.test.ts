// The pipeline rule on a real two-stage project: run once through runPipeline, then changed, broken or left alone.
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LOCK_FILE, runPipeline } from '../../pipeline/index.js'
import { makeContext } from '../test-context.js'
import { pipelineRule } from './pipeline.js'

// each stage copies its input upper-cased: a real process, a real output, nothing slow
const copy = (from: string, to: string) => `node -e "const fs = require('fs'); fs.writeFileSync('${to}', fs.readFileSync('${from}', 'utf8').toUpperCase())"`

const MLSKEL_YAML = `stages:
  prepare:
    cmd: ${JSON.stringify(copy('data/in.txt', 'data/prepared.txt'))}
    deps: [data/in.txt]
    outs: [data/prepared.txt]
  train:
    cmd: ${JSON.stringify(copy('data/prepared.txt', 'models/model.txt'))}
    deps: [data/prepared.txt]
    params: [model]
    outs: [models/model.txt]
`

const PARAMS_YAML = `dataset:
  raw: in.csv
  target: y
task: classification
model:
  type: random_forest
  n_estimators: 10
`

const roots: string[] = []
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })))
})

async function project(files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-check-pipeline-'))
  roots.push(root)
  const all = { 'mlskel.yaml': MLSKEL_YAML, 'params.yaml': PARAMS_YAML, 'data/in.txt': 'some data\n', ...files }
  await mkdir(join(root, 'models'))
  for (const [path, text] of Object.entries(all)) {
    await mkdir(join(root, path, '..'), { recursive: true })
    await writeFile(join(root, path), text)
  }
  return root
}

async function ranProject(): Promise<string> {
  const root = await project()
  const run = await runPipeline({ root, progress: null, output: 'stderr' })
  expect(run.ok).toBe(true)
  return root
}

/** Every file and folder under root with its size and mtime: what "the check wrote nothing" compares. */
async function snapshot(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  const lines = await Promise.all(entries.map(async (e) => {
    const path = join(e.parentPath, e.name)
    const info = await stat(path)
    return `${relative(root, path)} ${info.isDirectory() ? 'dir' : info.size} ${info.mtimeMs}`
  }))
  return lines.sort()
}

describe('the pipeline rule', () => {
  it('passes an up-to-date pipeline, writing nothing', async () => {
    const root = await ranProject()
    const before = await snapshot(root)

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome).toEqual({ findings: [], summary: '2 stages, up to date' })
    expect(await snapshot(root)).toEqual(before)
  })

  it('notes a pipeline that never ran, without creating mlskel.lock', async () => {
    const root = await project()
    const before = await snapshot(root)

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome.findings).toEqual([
      { level: 'info', code: 'MLSKEL_CHECK_LOCK_STALE', file: LOCK_FILE, message: 'the pipeline has not run yet (no mlskel.lock)', fix: 'Run the pipeline (`mlskel run`) and commit mlskel.lock.' },
    ])
    expect(outcome.summary).toBe('2 stages, never run')
    expect(await snapshot(root)).toEqual(before)
  })

  it('warns once per stage that would run, with its reasons and its line in mlskel.lock', async () => {
    const root = await ranProject()
    await writeFile(join(root, 'data/in.txt'), 'other data\n')
    const before = await snapshot(root)
    const lock = (await readFile(join(root, LOCK_FILE), 'utf8')).split('\n')

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome.findings).toEqual([
      { level: 'warning', code: 'MLSKEL_CHECK_LOCK_STALE', file: LOCK_FILE, line: lock.indexOf('  prepare:') + 1, message: 'stage prepare is out of date: dep data/in.txt changed' },
      { level: 'warning', code: 'MLSKEL_CHECK_LOCK_STALE', file: LOCK_FILE, line: lock.indexOf('  train:') + 1, message: 'stage train is out of date: upstream stage prepare would run' },
    ])
    expect(outcome.findings[0]!.line).toBeGreaterThan(0)
    expect(outcome.summary).toBe('2 of 2 stages out of date')
    // no lock file rewritten, no cache written, no run lock taken
    expect(await snapshot(root)).toEqual(before)
  })

  it('warns about a stage whose params changed', async () => {
    const root = await ranProject()
    await writeFile(join(root, 'params.yaml'), PARAMS_YAML.replace('n_estimators: 10', 'n_estimators: 20'))

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome.findings.map((f) => [f.level, f.message])).toEqual([['warning', 'stage train is out of date: param model changed']])
    expect(outcome.summary).toBe('1 of 2 stages out of date')
  })

  it('warns about a stage added since the last run', async () => {
    const root = await ranProject()
    await writeFile(join(root, 'mlskel.yaml'), `${MLSKEL_YAML}  report:\n    cmd: ${JSON.stringify(copy('data/in.txt', 'report.txt'))}\n    deps: [data/in.txt]\n    outs: [report.txt]\n`)

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome.findings).toEqual([{ level: 'warning', code: 'MLSKEL_CHECK_LOCK_STALE', file: LOCK_FILE, message: 'stage report is out of date: never run' }])
    expect(outcome.summary).toBe('1 of 3 stages out of date')
  })

  it('reports a damaged mlskel.lock', async () => {
    const root = await ranProject()
    await writeFile(join(root, LOCK_FILE), 'schema_version: 1\nstages: 3\n')

    const { findings } = await pipelineRule.run(makeContext(root))

    expect(findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_PIPELINE_INVALID', file: LOCK_FILE, line: 2 })])
    expect(findings[0]!.message).toContain('stages')
  })

  it('reports an invalid mlskel.yaml with its line and its own fix', async () => {
    const root = await project({ 'mlskel.yaml': MLSKEL_YAML.replace('    outs: [data/prepared.txt]\n', '    outs: [data/prepared.txt]\n    out: [typo]\n') })

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome.findings).toHaveLength(1)
    expect(outcome.findings[0]).toMatchObject({ level: 'error', code: 'MLSKEL_CHECK_PIPELINE_INVALID', file: 'mlskel.yaml', line: 6 })
    expect(outcome.findings[0]!.message).toContain('out')
    expect(outcome.findings[0]!.fix).toBeTruthy()
    expect(outcome.summary).toBe('invalid, not checked for staleness')
  })

  it('reports mlskel.yaml that is not YAML', async () => {
    const root = await project({ 'mlskel.yaml': 'stages:\n  prepare:\n    cmd: [unclosed\n' })

    const { findings } = await pipelineRule.run(makeContext(root))

    expect(findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_PIPELINE_INVALID', file: 'mlskel.yaml' })])
    expect(findings[0]!.message).toMatch(/^mlskel.yaml is not valid YAML/)
  })

  it('reports an invalid params.yaml once, with its line', async () => {
    const root = await project({ 'params.yaml': PARAMS_YAML.replace('task: classification', 'task: clustering') })

    const { findings } = await pipelineRule.run(makeContext(root))

    const errors = findings.filter((f) => f.level === 'error')
    expect(errors).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_PIPELINE_INVALID', file: 'params.yaml', line: 4 })])
    expect(errors[0]!.message).toContain('task')
  })

  it('reports an invalid params.yaml even when no stage lists params', async () => {
    const root = await project({ 'mlskel.yaml': MLSKEL_YAML.replace('    params: [model]\n', ''), 'params.yaml': PARAMS_YAML.replace('n_estimators: 10', 'n_estimators: 0') })

    const { findings } = await pipelineRule.run(makeContext(root))

    expect(findings.map((f) => [f.level, f.code, f.file, f.line])).toEqual([
      ['error', 'MLSKEL_CHECK_PIPELINE_INVALID', 'params.yaml', 7],
      ['info', 'MLSKEL_CHECK_LOCK_STALE', LOCK_FILE, undefined],
    ])
  })

  it('accepts a project without params.yaml when no stage needs it', async () => {
    const root = await project({ 'mlskel.yaml': MLSKEL_YAML.replace('    params: [model]\n', '') })
    await rm(join(root, 'params.yaml'))

    const { findings } = await pipelineRule.run(makeContext(root))

    expect(findings.map((f) => f.code)).toEqual(['MLSKEL_CHECK_LOCK_STALE'])
  })

  it('reports a dep that nothing provides, at its line in mlskel.yaml', async () => {
    const root = await ranProject()
    await rm(join(root, 'data/in.txt'))

    const outcome = await pipelineRule.run(makeContext(root))

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_PIPELINE_INVALID', file: 'mlskel.yaml', line: 4 })])
    expect(outcome.findings[0]!.message).toContain('needs "data/in.txt", which does not exist')
    expect(outcome.summary).toBe('0 of 2 stages out of date, stage prepare cannot run')
  })

})
