// Loading mlskel.yaml: schema, graph and params checks, each error with its file and line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { selectStages } from './graph.js'
import { loadPipeline } from './load.js'

const PARAMS = 'dataset: { raw: iris.csv, target: species }\ntask: classification\nmodel: { type: random_forest, n_estimators: 10 }\n'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'mlskel-load-'))
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const load = (yaml: string, files: Record<string, string> = {}) => loadPipeline(project({ 'mlskel.yaml': yaml, ...files }))
const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('it loaded'), (error: unknown) => error as Error & { code: string; where: unknown })

describe('loadPipeline', () => {
  it('orders stages by their paths, keeping declaration order among independent ones', async () => {
    const pipeline = await load(`stages:
  predict: { cmd: p, deps: [models, data/ready], outs: [out/predictions] }
  report: { cmd: r, deps: [data/raw] }
  train: { cmd: t, deps: [data/ready/train.csv], outs: [models] }
  prepare: { cmd: e, deps: [data/raw], outs: [data/ready] }
checks: { model_size_mb: 5 }
`)
    expect(pipeline.stages.map((s) => s.name)).toEqual(['report', 'prepare', 'train', 'predict'])
    expect(pipeline.declared).toEqual(['predict', 'report', 'train', 'prepare'])
    expect(pipeline.upstream.get('predict')!.map((e) => e.on)).toEqual(['train', 'prepare'])
    expect(pipeline.checks).toMatchObject({ model_size_mb: 5, coverage: { lines: 80 } })
  })

  it('normalizes paths: ./data//raw/ is data/raw', async () => {
    const pipeline = await load('stages:\n  a: { cmd: x, deps: [./data//raw/], outs: [out/] }\n')
    expect(pipeline.byName.get('a')).toMatchObject({ deps: ['data/raw'], outs: ['out'] })
  })

  it('does not read params.yaml when no stage declares params', async () => {
    const pipeline = await load('stages:\n  a: { cmd: x }\n')
    expect(pipeline.paramValues).toEqual({})
  })

  it('reads the declared params keys, dotted ones too, as params.yaml has them: their schema is the project\'s, not the pipeline\'s', async () => {
    const pipeline = await load('stages:\n  a: { cmd: x, params: [model.n_estimators, split, task] }\n', { 'params.yaml': `${PARAMS}split: { seed: 7 }\n` })
    expect(pipeline.paramValues).toEqual({ 'model.n_estimators': 10, split: { seed: 7 }, task: 'classification' })
    // a value params.yaml's schema would refuse is the stages' to refuse (loadParams), and mlskel check's
    const odd = await load('stages:\n  a: { cmd: x, params: [task] }\n', { 'params.yaml': PARAMS.replace('classification', 'clustering') })
    expect(odd.paramValues).toEqual({ task: 'clustering' })
  })

  it('names the stages of a cycle in order, with file and line', async () => {
    const error = await failure(
      load(`stages:
  first:
    cmd: a
    deps: [c/out]
    outs: [a/out]
  second:
    cmd: b
    deps: [a/out]
    outs: [b/out]
  third:
    cmd: c
    deps: [b/out/file.csv]
    outs: [c]
`),
    )
    expect(error.code).toBe('MLSKEL_PIPELINE_CYCLE')
    expect(error.message).toContain('first → third → second → first')
    expect(error.where).toEqual({ file: 'mlskel.yaml', line: 4, field: 'stages.first.deps[0]' })
  })

  it('refuses a stage that depends on its own output', async () => {
    const error = await failure(load('stages:\n  a:\n    cmd: x\n    deps: [models/old]\n    outs: [models]\n'))
    expect(error).toMatchObject({ code: 'MLSKEL_PIPELINE_CYCLE', where: { file: 'mlskel.yaml', line: 4 } })
    expect(error.message).toContain('stage "a" depends on its own output: dep "models/old" lies inside out "models"')
  })

  it('refuses two stages writing the same output, or one inside the other', async () => {
    const same = await failure(load('stages:\n  a: { cmd: x, outs: [models] }\n  b: { cmd: y, outs: [./models/] }\n'))
    expect(same).toMatchObject({ code: 'MLSKEL_PIPELINE_DUPLICATE_OUTPUT', where: { file: 'mlskel.yaml', line: 3, field: 'stages.b.outs[0]' } })
    expect(same.message).toContain('stages "a" and "b" both write "models"')
    const nested = await failure(load('stages:\n  a: { cmd: x, outs: [data] }\n  b: { cmd: y, outs: [data/staging] }\n'))
    expect(nested).toMatchObject({ code: 'MLSKEL_PIPELINE_DUPLICATE_OUTPUT', where: { line: 3 } })
    expect(nested.message).toContain('stage "a" writes "data" and stage "b" writes "data/staging", one inside the other')
  })

  it('points at an unknown key with its line and a suggestion', async () => {
    const error = await failure(load('stages:\n  train:\n    cmd: x\n    dpes: [data]\n'))
    expect(error).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { file: 'mlskel.yaml', line: 4, field: 'stages.train.dpes' } })
    expect(error.message).toContain('unknown key "dpes". Did you mean "deps"?')
  })

  it('takes a stage\'s stop_grace_s in whole seconds, and refuses a fraction or a negative one with its line', async () => {
    expect((await load('stages:\n  a:\n    cmd: x\n    stop_grace_s: 30\n')).byName.get('a')!.stopGraceS).toBe(30)
    expect((await load('stages:\n  a:\n    cmd: x\n')).byName.get('a')!.stopGraceS).toBeUndefined()
    for (const bad of ['1.5', '-1', 'ten']) {
      const error = await failure(load(`stages:\n  a:\n    cmd: x\n    stop_grace_s: ${bad}\n`))
      expect(error, bad).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 4, field: 'stages.a.stop_grace_s' } })
    }
  })

  it('refuses a missing or empty cmd, a bad stage name, and paths outside the project', async () => {
    expect(await failure(load('stages:\n  a:\n    deps: [x]\n'))).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { field: 'stages.a.cmd' } })
    expect(await failure(load('stages:\n  a:\n    cmd: "  "\n'))).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 3, field: 'stages.a.cmd' } })
    const name = await failure(load('stages:\n  train model:\n    cmd: x\n'))
    expect(name).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 3 } })
    expect(name.message).toContain('kebab-case or snake_case')
    const absolute = await failure(load('stages:\n  a:\n    cmd: x\n    deps: [/etc/passwd]\n'))
    expect(absolute).toMatchObject({ code: 'MLSKEL_PIPELINE_EXTERNAL_UNDECLARED', where: { line: 4, field: 'stages.a.deps[0]' } })
    expect(absolute.message).toBe('stage "a" reads "/etc/passwd", outside the project, which mlskel.yaml does not declare under `external:`')
    const up = await failure(load('stages:\n  a:\n    cmd: x\n    deps: [src, ../shared/x.csv]\n'))
    expect(up).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 4, field: 'stages.a.deps[1]' } })
    expect(up.message).toContain('must be a path inside the project')
    expect(await failure(load('stages:\n  a:\n    cmd: x\n    outs: [data/../../up]\n'))).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { field: 'stages.a.outs[0]' } })
  })

  it('takes a declared external input as a dep, by its absolute path, normalized', async () => {
    const pipeline = await load('stages:\n  prepare:\n    cmd: x\n    deps: [data/raw, /mnt/shared//churn.csv/]\n    outs: [data/staging]\nexternal:\n  - /mnt/shared/churn.csv\n')
    expect(pipeline.byName.get('prepare')!.deps).toEqual(['data/raw', '/mnt/shared/churn.csv'])
  })

  it('refuses an external input no stage reads, one that is not absolute, and one that holds the project', async () => {
    const unused = await failure(load('stages:\n  a:\n    cmd: x\nexternal:\n  - /mnt/a.csv\n'))
    expect(unused).toMatchObject({ code: 'MLSKEL_PIPELINE_EXTERNAL_UNUSED', where: { line: 5, field: 'external[0]' } })
    expect(unused.message).toContain('"/mnt/a.csv" is read by no stage')
    expect(await failure(load('stages:\n  a:\n    cmd: x\n    deps: [../a.csv]\nexternal:\n  - ../a.csv\n'))).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 6, field: 'external[0]' }, message: expect.stringContaining('must be an absolute path') })
    const root = project({})
    writeFileSync(join(root, 'mlskel.yaml'), `stages:\n  a:\n    cmd: x\n    deps: [${dirname(root)}]\nexternal:\n  - ${dirname(root)}\n`)
    expect(await failure(loadPipeline(root))).toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 6, field: 'external[0]' }, message: expect.stringContaining('holds the project itself') })
  })

  it('reports malformed YAML with its line', async () => {
    const error = await failure(load('stages:\n  a:\n    cmd: x\n   deps: [y\n'))
    expect(error).toMatchObject({ code: 'MLSKEL_YAML_SYNTAX', where: { file: 'mlskel.yaml', line: 4 } })
  })

  it('says so when mlskel.yaml is missing', async () => {
    const root = project({ 'params.yaml': PARAMS })
    const error = await failure(loadPipeline(root))
    expect(error.code).toBe('MLSKEL_FILE_MISSING')
    expect(error.message).toContain(`mlskel.yaml does not exist in ${root}`)
  })

  it('refuses a params key that params.yaml does not have, with a suggestion', async () => {
    const error = await failure(load('stages:\n  train:\n    cmd: x\n    params: [modle]\n', { 'params.yaml': PARAMS }))
    expect(error).toMatchObject({ code: 'MLSKEL_PIPELINE_UNKNOWN_PARAM', where: { file: 'mlskel.yaml', line: 4, field: 'stages.train.params[0]' } })
    expect(error.message).toContain('param "modle", which params.yaml does not have. Did you mean "model"?')
    expect(await failure(load('stages:\n  train:\n    cmd: x\n    params: [model.depth]\n', { 'params.yaml': PARAMS }))).toMatchObject({ code: 'MLSKEL_PIPELINE_UNKNOWN_PARAM' })
  })
})

describe('selectStages', () => {
  const yaml = `stages:
  prepare: { cmd: e, deps: [raw], outs: [ready] }
  train: { cmd: t, deps: [ready], outs: [models] }
  predict: { cmd: p, deps: [models], outs: [predictions] }
  report: { cmd: r, deps: [raw] }
`

  it('adds the upstream stages of the named ones, in run order', async () => {
    const selection = await selectStages(await load(yaml), ['train'])
    expect(selection.stages.map((s) => s.name)).toEqual(['prepare', 'train'])
    expect([...selection.targets]).toEqual(['train'])
  })

  it('adds the stages depending on the named ones with downstream', async () => {
    const selection = await selectStages(await load(yaml), ['prepare'], { downstream: true })
    expect(selection.stages.map((s) => s.name)).toEqual(['prepare', 'train', 'predict'])
  })

  it('names an unknown stage with a suggestion', async () => {
    const error = await failure(load(yaml).then((p) => selectStages(p, ['trian'])))
    expect(error).toMatchObject({ code: 'MLSKEL_PIPELINE_UNKNOWN_STAGE', where: { file: 'mlskel.yaml', line: 1 } })
    expect(error.message).toContain('no stage named "trian" in mlskel.yaml (stages: prepare, train, predict, report). Did you mean "train"?')
  })
})

describe("the template's pipeline", () => {
  it('re-generates the data set when any params key it reads changes, the task included (it decides the target\'s type)', async () => {
    const template = fileURLToPath(new URL('../../template/', import.meta.url))
    const pipeline = await loadPipeline(template)
    const stage = pipeline.stages.find((s) => s.name === 'generate-dataset')!
    expect([...stage.params].sort()).toEqual(['dataset', 'split', 'task'])
    const changed = await loadPipeline(template, { overrides: { task: 'regression' } })
    expect(changed.paramValues.task).toBe('regression')
  })
})
