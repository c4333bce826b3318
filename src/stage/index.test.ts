import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { hashBytes } from '../hashing/index.js'
import { handoffPath, newRunId, readHandoff, removeHandoff, RUN_ID_PATTERN, stageContext, STAGE_ENV, writeHandoff, type StageHandoff } from './index.js'

const roots: string[] = []
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true })
})
async function project(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-stage-'))
  roots.push(root)
  await writeFile(join(root, 'mlskel.yaml'), 'stages:\n  train:\n    cmd: x\n    outs: [models]\n  predict:\n    cmd: y\n    outs: [data/predictions]\n')
  await writeFile(join(root, 'raw.csv'), 'a\n1\n')
  return root
}

describe('the hand-off from mlskel run to a stage', () => {
  it('carries the run id, outputs, overrides and the hashes of the deps, read once by the stage\'s context', async () => {
    const root = await project()
    const handoff: StageHandoff = { handoff_version: 1, stage: 'train', run_id: newRunId(), outs: ['models'], pipeline_outs: ['models', 'data/predictions'], overrides: { 'model.max_iter': 5 }, deps: { 'raw.csv': 'f'.repeat(64) } }
    const env = await writeHandoff(root, handoff)
    expect(env).toEqual({ [STAGE_ENV]: handoffPath(root, handoff.run_id) })
    expect(await readHandoff(env)).toEqual(handoff)
    const context = await stageContext({ root, env, argv: [process.execPath, join(root, 'src', 'train.ts')], overrides: { ignored: true } })
    expect(context).toMatchObject({ stage: 'train', runId: handoff.run_id, command: ['node', 'src/train.ts'], overrides: { 'model.max_iter': 5 }, pipelineOutputs: ['models', 'data/predictions'] })
    // the runner's hash, not the file's: the stage does not hash it again
    expect(await context.hash('raw.csv')).toBe('f'.repeat(64))
    expect(await context.hash(join(root, 'raw.csv'))).toBe('f'.repeat(64))
    await removeHandoff(root, handoff.run_id)
    await expect(readHandoff(env)).rejects.toMatchObject({ code: 'MLSKEL_STAGE_HANDOFF_INVALID' })
  })

  it('is made on the spot when no mlskel run started the script', async () => {
    const root = await project()
    const context = await stageContext({ root, env: {}, argv: ['node', 'x.ts'], overrides: { 'split.seed': 1 } })
    expect(context.stage).toBeUndefined()
    expect(context.runId).toMatch(RUN_ID_PATTERN)
    expect(context.overrides).toEqual({ 'split.seed': 1 })
    expect(context.pipelineOutputs).toEqual(['models', 'data/predictions'])
    expect(await context.hash('raw.csv')).toBe(hashBytes('a\n1\n'))
  })

  it('refuses a file that is not a hand-off, naming it', async () => {
    const root = await project()
    const path = join(root, 'not-a-handoff.json')
    await writeFile(path, JSON.stringify({ handoff_version: 99 }))
    await expect(readHandoff({ [STAGE_ENV]: path })).rejects.toMatchObject({ code: 'MLSKEL_STAGE_HANDOFF_INVALID', where: { file: path } })
  })
})
