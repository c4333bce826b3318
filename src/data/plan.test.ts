import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadParams } from '../params/index.js'
import { inferColumnType, invalidCells, type ColumnCounts } from './infer.js'
import { planDataset } from './plan.js'
import { tempDir } from '../../tests/temp-dir.js'

const params = `# params.yaml
dataset:
  raw: people.csv
  target: species
  features: []
task: classification
`

async function loaded(text = params) {
  const dir = await tempDir('mlskel-plan-')
  await writeFile(join(dir, 'params.yaml'), text)
  return loadParams(dir, { overrides: {} })
}

const base = { rows: 100, missing: 0, numeric: 0, integral: true, booleanWords: 0, zeroOne: 0, dates: {}, hasTime: false, distinct: 10 }
const numeric = (name: string, more: Partial<ColumnCounts> = {}): ColumnCounts => ({ ...base, name, numeric: 100, integral: false, distinct: 60, ...more })
const text = (name: string, more: Partial<ColumnCounts> = {}): ColumnCounts => ({ ...base, name, distinct: 3, example: { value: 'setosa', line: 2 }, ...more })

describe('inferColumnType', () => {
  it('reads each type from what its present cells are', () => {
    expect(inferColumnType(numeric('x')).type).toBe('numeric')
    expect(inferColumnType(text('b', { booleanWords: 100 })).type).toBe('boolean')
    expect(inferColumnType(text('d', { dates: { iso: 100 } }))).toMatchObject({ type: 'datetime', format: 'iso' })
    expect(inferColumnType(text('d', { dates: { '%d/%m/%Y': 100, '%m/%d/%Y': 100 } }))).toMatchObject({ type: 'datetime', format: '%d/%m/%Y' })
    expect(inferColumnType(text('c')).type).toBe('categorical')
  })

  it('counts missing cells out: a numeric column with gaps is numeric, one of only gaps is left out', () => {
    expect(inferColumnType(numeric('x', { missing: 37, numeric: 63 })).type).toBe('numeric')
    expect(inferColumnType(text('x', { missing: 100, distinct: 0 }))).toMatchObject({ type: 'ignore', reason: expect.stringContaining('every value is missing') })
  })

  it('keeps a mostly numeric column numeric, its few other values invalid', () => {
    const mostly = numeric('x', { numeric: 95 })
    expect(inferColumnType(mostly)).toMatchObject({ type: 'numeric', reason: expect.stringContaining('5 values that are not') })
    expect(invalidCells(mostly, 'numeric')).toBe(5)
    expect(inferColumnType(numeric('x', { numeric: 80 })).type).toBe('categorical')
  })

  it('takes a text column of nearly all distinct values for an identifier, and says how to learn from it', () => {
    expect(inferColumnType(text('name', { distinct: 97 }))).toMatchObject({ type: 'identifier', reason: expect.stringContaining('declare it categorical') })
    expect(inferColumnType(text('name', { distinct: 90 })).type).toBe('categorical')
    // too few rows to tell
    expect(inferColumnType(text('name', { rows: 10, distinct: 10 })).type).toBe('categorical')
    // numbers are never identifiers unless declared
    expect(inferColumnType(numeric('id', { distinct: 100, integral: true })).type).toBe('numeric')
  })

  it('takes 0 and 1 as numbers unless the column is declared boolean', () => {
    const flags = numeric('flag', { zeroOne: 100, integral: true, distinct: 2 })
    expect(inferColumnType(flags).type).toBe('numeric')
    expect(inferColumnType(flags, 'boolean')).toMatchObject({ type: 'boolean', declared: true })
    expect(invalidCells(flags, 'boolean')).toBe(0)
  })

  it('lets every inferred type be overridden', () => {
    for (const type of ['numeric', 'boolean', 'categorical', 'datetime', 'identifier', 'ignore'] as const) {
      expect(inferColumnType(numeric('x'), type)).toMatchObject({ type, declared: true })
    }
    expect(inferColumnType(text('d', { dates: { iso: 40, '%d.%m.%Y': 55 } }), 'datetime')).toMatchObject({ format: '%d.%m.%Y' })
  })
})

describe('planDataset', () => {
  const columns = [numeric('sepal_length'), text('colour'), text('name', { distinct: 100 }), text('species')]

  it('learns from every column but the target and the identifiers, which travel beside predictions', async () => {
    const plan = planDataset(await loaded(), columns, 'data/raw/people.csv')
    expect(plan.target).toMatchObject({ name: 'species', type: 'categorical' })
    expect(plan.features.map((f) => [f.name, f.type])).toEqual([
      ['sepal_length', 'numeric'],
      ['colour', 'categorical'],
    ])
    expect(plan.identifiers.map((f) => f.name)).toEqual(['name'])
  })

  it('follows dataset.columns, and a listed feature is learnt from even if it looks like an identifier', async () => {
    const declared = planDataset(await loaded(params.replace('features: []', 'features: []\n  columns: {sepal_length: categorical, colour: identifier, name: ignore}')), columns, 'people.csv')
    expect(declared.features.map((f) => [f.name, f.type, f.declared])).toEqual([['sepal_length', 'categorical', true]])
    expect(declared.identifiers.map((f) => f.name)).toEqual(['colour'])
    expect(declared.ignored.map((f) => [f.name, f.reason])).toEqual([['name', 'declared in params.yaml']])
    const listed = planDataset(await loaded(params.replace('features: []', 'features: [name]')), columns, 'people.csv')
    expect(listed.features).toMatchObject([{ name: 'name', type: 'categorical' }])
    expect(listed.ignored.map((f) => f.name)).toEqual(['sepal_length', 'colour'])
  })

  it('refuses a plan with nothing to learn from, saying what was left out and why', async () => {
    const only = [text('name', { distinct: 100 }), text('species')]
    await expect(loaded().then((l) => planDataset(l, only, 'people.csv'))).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_FEATURE_NOT_COLUMN', message: expect.stringContaining('name, looks like an identifier') })
  })

  it('names the line of a declared column that is not in the file, with a suggestion', async () => {
    const l = await loaded(params.replace('features: []', 'features: []\n  columns:\n    color: categorical'))
    expect(() => planDataset(l, columns, 'people.csv')).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_COLUMN_NOT_FOUND', where: expect.objectContaining({ line: 7, field: 'dataset.columns.color' }), message: expect.stringContaining('Did you mean "colour"?') }))
  })

  it('refuses a listed feature declared identifier or ignore, and one that is not a column', async () => {
    const ignored = await loaded(params.replace('features: []', 'features: [colour]\n  columns: {colour: ignore}'))
    expect(() => planDataset(ignored, columns, 'people.csv')).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_FEATURE_NOT_COLUMN', message: expect.stringContaining('declared ignore') }))
    const absent = await loaded(params.replace('features: []', 'features: [sepal_length, petal_width]'))
    expect(() => planDataset(absent, columns, 'people.csv')).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_FEATURE_NOT_COLUMN', where: expect.objectContaining({ field: 'dataset.features[1]' }) }))
  })

  it('names the target line when the target is not a column, with a suggestion', async () => {
    const l = await loaded(params.replace('target: species', 'target: specie'))
    expect(() => planDataset(l, columns, 'people.csv')).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_TARGET_NOT_COLUMN', where: expect.objectContaining({ line: 4, field: 'dataset.target' }), message: expect.stringContaining('Did you mean "species"?') }))
  })

  it('refuses regression on text labels and classification on a continuous target', async () => {
    const regression = await loaded(params.replace('task: classification', 'task: regression'))
    expect(() => planDataset(regression, columns, 'people.csv')).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_TASK_MISMATCH', where: expect.objectContaining({ line: 6, field: 'task' }), message: expect.stringContaining('line 2: "setosa"') }))
    const continuous = await loaded(params.replace('target: species', 'target: sepal_length'))
    expect(() => planDataset(continuous, columns, 'people.csv')).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_TASK_MISMATCH', message: expect.stringContaining('looks continuous') }))
    // a regression target with gaps is still numeric
    const gaps = await loaded(params.replace('target: species', 'target: sepal_length').replace('task: classification', 'task: regression'))
    expect(planDataset(gaps, [numeric('sepal_length', { missing: 10, numeric: 90 }), text('colour')], 'people.csv').target.type).toBe('numeric')
  })
})
