import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_MISSING_VALUES } from '../data/columns.js'
import { loadParams, parseOverrides } from './index.js'
import { tempDir } from '../../tests/temp-dir.js'

const iris = `# params.yaml
dataset:
  raw: iris.csv
  target: species
  features: []
task: classification
split: { test_size: 0.2, cv_folds: 5, seed: 42 }
model: { type: random_forest, n_estimators: 100 }
`

async function project(text: string): Promise<string> {
  const dir = await tempDir('mlskel-params-')
  await writeFile(join(dir, 'params.yaml'), text)
  return dir
}

describe('loadParams', () => {
  it('reads the template params with defaults filled in', async () => {
    const { params } = await loadParams(await project(iris), { overrides: {} })
    expect(params).toEqual({
      dataset: {
        raw: 'iris.csv',
        target: 'species',
        features: [],
        invalid_rows: 'drop',
        columns: {},
        missing_values: [...DEFAULT_MISSING_VALUES],
        decimal: '.',
        min_category_count: 5,
        max_categories: 255,
        drop_duplicates: false,
      },
      task: 'classification',
      split: { strategy: 'stratified', test_size: 0.2, cv_folds: 5, seed: 42 },
      model: { type: 'random_forest', n_estimators: 100, max_depth: null, min_samples_split: 2, min_samples_leaf: 1, bootstrap: true, max_samples: null, class_weight: null, max_bins: 255, n_jobs: null },
    })
  })

  it('names the line, the key and a suggestion for an unknown key', async () => {
    const root = await project(iris.replace('seed: 42', 'seeed: 42'))
    await expect(loadParams(root, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: { file: 'params.yaml', line: 7, field: 'split.seeed' },
      message: expect.stringContaining('unknown key "seeed". Did you mean "seed"?'),
    })
  })

  it('quotes a bad value and its line', async () => {
    const root = await project(iris.replace('n_estimators: 100', 'n_estimators: many'))
    await expect(loadParams(root, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: { line: 8, field: 'model.n_estimators' },
      message: expect.stringContaining('got "many"'),
    })
  })

  it('defaults the model to gradient_boosting with scikit-learn\'s defaults, and takes either kind by its type', async () => {
    const { params } = await loadParams(await project(iris.replace('model: { type: random_forest, n_estimators: 100 }', 'model: {}')), { overrides: {} })
    expect(params.model).toMatchObject({ type: 'gradient_boosting', learning_rate: 0.1, max_iter: 100, max_leaf_nodes: 31, min_samples_leaf: 20, early_stopping: 'auto' })
    const absent = await loadParams(await project(iris.replace('model: { type: random_forest, n_estimators: 100 }\n', '')), { overrides: {} })
    expect(absent.params.model.type).toBe('gradient_boosting')
    const switched = await loadParams(await project(iris), { overrides: parseOverrides(['model.type=gradient_boosting', 'model.n_estimators=null']) }).catch((e: unknown) => e)
    expect(switched).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.n_estimators' } })
  })

  it('suggests the right key for a misspelt hyper-parameter of the kind chosen', async () => {
    const root = await project(iris.replace('n_estimators: 100', 'n_estimator: 100'))
    await expect(loadParams(root, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: { file: 'params.yaml', line: 8, field: 'model.n_estimator' },
      message: expect.stringContaining('unknown key "n_estimator". Did you mean "n_estimators"?'),
    })
  })

  it('says which kind a hyper-parameter belongs to when it is under another kind', async () => {
    const root = await project(iris.replace('model: { type: random_forest, n_estimators: 100 }', 'model: { type: gradient_boosting, n_estimators: 100 }'))
    await expect(loadParams(root, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: { field: 'model.n_estimators' },
      message: expect.stringContaining('It is a hyper-parameter of random_forest, not of gradient_boosting: set model.type: random_forest'),
    })
  })

  it('names a model kind it does not know, and the kinds it knows', async () => {
    const root = await project(iris.replace('type: random_forest', 'type: random_forrest'))
    await expect(loadParams(root, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: { line: 8, field: 'model.type' },
      message: expect.stringContaining('model.type must be one of gradient_boosting, random_forest (got "random_forrest")'),
    })
  })

  it('quotes an out-of-range hyper-parameter and what it allows', async () => {
    const root = await project(iris.replace('model: { type: random_forest, n_estimators: 100 }', 'model: { type: gradient_boosting, learning_rate: 0 }'))
    await expect(loadParams(root, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: { field: 'model.learning_rate' },
      message: expect.stringMatching(/expected number to be >0 \(got 0\)/),
    })
  })

  it('rejects a task it does not know', async () => {
    await expect(loadParams(await project(iris.replace('task: classification', 'task: clustering')), { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { line: 6, field: 'task' } })
  })

  it('reports malformed YAML with its line', async () => {
    await expect(loadParams(await project('dataset:\n  raw: [iris.csv\ntask: x\n'), { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_YAML_SYNTAX', where: { file: 'params.yaml' } })
  })

  it('reports a missing params.yaml', async () => {
    await expect(loadParams(await tempDir('mlskel-params-'), { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_FILE_MISSING' })
  })

  it('applies the overrides it is given, and validates them; it reads none from the environment', async () => {
    const root = await project(iris)
    expect((await loadParams(root, { overrides: parseOverrides(['model.n_estimators=7', 'task=regression']) })).params).toMatchObject({ model: { n_estimators: 7 }, task: 'regression' })
    process.env.MLSKEL_SET = '{"split.seed":1}'
    try {
      expect((await loadParams(root)).params.split.seed).toBe(42)
    } finally {
      delete process.env.MLSKEL_SET
    }
    await expect(loadParams(root, { overrides: { 'model.n_estimators': 'lots' } })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_INVALID' })
    await expect(loadParams(root, { overrides: { 'nothing.here': 1 } })).rejects.toMatchObject({ code: 'MLSKEL_SET_INVALID' })
  })
})

describe('parseOverrides', () => {
  it('reads values as YAML scalars and rejects a pair without a key', () => {
    expect(parseOverrides(['a.b=3', 'c=true', 'd=text'])).toEqual({ 'a.b': 3, c: true, d: 'text' })
    expect(() => parseOverrides(['=3'])).toThrow(/key.path=value/)
  })
})

describe('split.strategy', () => {
  it('needs split.column for time and group, and only for those', async () => {
    const dir = await project(iris.replace('split: { test_size: 0.2, cv_folds: 5, seed: 42 }', 'split: { strategy: time }'))
    await expect(loadParams(dir, { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: expect.objectContaining({ field: 'split.column' }) })
    const extra = await project(iris.replace('split: { test_size: 0.2, cv_folds: 5, seed: 42 }', 'split: { column: signup }'))
    await expect(loadParams(extra, { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', message: expect.stringContaining('only of those') })
    const group = await project(iris.replace('split: { test_size: 0.2, cv_folds: 5, seed: 42 }', 'split: { strategy: group, column: customer }'))
    expect((await loadParams(group, { overrides: {} })).params.split).toMatchObject({ strategy: 'group', column: 'customer' })
  })
})

describe('dataset.columns', () => {
  it('refuses a type it does not know, naming the column and the types it takes', async () => {
    const dir = await project(iris.replace('features: []', 'features: []\n  columns: {price: money}'))
    await expect(loadParams(dir, { overrides: {} })).rejects.toMatchObject({
      code: 'MLSKEL_PARAMS_INVALID',
      where: expect.objectContaining({ field: 'dataset.columns.price', line: 6 }),
      message: expect.stringMatching(/numeric.*boolean.*categorical.*datetime.*identifier.*ignore/),
    })
  })
})

describe('hostile configuration', () => {
  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n')

  it('refuses aliases that expand a billion times, with a coded error naming the file', async () => {
    const dir = await project(`${bomb}\n${iris}`)
    await expect(loadParams(dir, { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_YAML_SYNTAX', where: { file: 'params.yaml' }, message: expect.stringContaining('aliases') })
  })

  it('refuses a params.yaml over 1 MiB before parsing it', async () => {
    const dir = await project(`${iris}# ${'x'.repeat(1024 * 1024)}\n`)
    await expect(loadParams(dir, { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_YAML_TOO_LARGE', where: { file: 'params.yaml' } })
  })

  it('gives a coded error for a --set value that is not a YAML scalar', () => {
    expect(() => parseOverrides(['model.type=`x'])).toThrow(expect.objectContaining({ code: 'MLSKEL_SET_INVALID', message: expect.stringContaining('--set "model.type=`x"') }))
    expect(parseOverrides(['model.type="`x"'])).toEqual({ 'model.type': '`x' })
  })
})

describe('dataset.raw', () => {
  it.each(['/home/ana/data.csv', '../elsewhere/data.csv', 'sub/../../data.csv', 'C:\\data\\x.csv'])('refuses %s: the raw data must be inside data/raw, where the hashes see it', async (raw) => {
    const dir = await project(iris.replace('raw: iris.csv', `raw: ${JSON.stringify(raw)}`))
    await expect(loadParams(dir, { overrides: {} })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_RAW_OUTSIDE', where: { file: 'params.yaml', line: 3, field: 'dataset.raw' }, message: expect.stringContaining('must name a file inside the raw data folder (data/raw), or an external input declared in mlskel.yaml') })
  })

  it('takes the absolute path of an external input that mlskel.yaml declares, and only that', async () => {
    const dir = await project(iris.replace('raw: iris.csv', 'raw: /mnt/shared//churn.csv'))
    await writeFile(join(dir, 'mlskel.yaml'), 'stages:\n  prepare:\n    cmd: "true"\n    deps: [/mnt/shared/churn.csv]\nexternal:\n  - /mnt/shared/churn.csv\n')
    expect((await loadParams(dir, { overrides: {} })).params.dataset.raw).toBe('/mnt/shared//churn.csv')
    await expect(loadParams(dir, { overrides: { 'dataset.raw': '/mnt/shared/other.csv' } })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_RAW_OUTSIDE', message: expect.stringContaining('an absolute path that mlskel.yaml does not declare under `external:`') })
    // a declaration does not open the way out of data/raw by ..
    await expect(loadParams(dir, { overrides: { 'dataset.raw': '../../../mnt/shared/churn.csv' } })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_RAW_OUTSIDE' })
  })

  it('takes a file in a folder of data/raw', async () => {
    const dir = await project(iris.replace('raw: iris.csv', 'raw: 2024/iris.csv'))
    expect((await loadParams(dir, { overrides: {} })).params.dataset.raw).toBe('2024/iris.csv')
  })
})
