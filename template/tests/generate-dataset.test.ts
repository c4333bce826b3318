// generate-dataset on copies of the project: row counts, the split, and the errors a bad CSV or params.yaml gets.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashFile } from 'mlskel'
import { generateDataset, main } from '../src/etl/generate-dataset.js'
import { query, readTable, withDuckDB } from '../src/helpers/index.js'
import { copyProject, irisWith, rejection, type TestProject } from './project.js'

let project: TestProject
beforeEach(() => {
  project = copyProject()
})
afterEach(() => project.remove())

const file = (...parts: string[]) => join(project.root, ...parts)

describe('generate-dataset on iris', () => {
  it('stages 149 typed rows, dropping the one exact duplicate, and splits them 119/30', async () => {
    const d = await generateDataset({ root: project.root })
    expect(d.rows).toEqual({ raw: 150, missing_target: 0, invalid_values: 0, duplicates: 1, kept: 149, train: 119, test: 30 })
    expect(d.missing).toEqual({ sepal_length: 0, sepal_width: 0, petal_length: 0, petal_width: 0, species: 0 })
    expect(d.target).toEqual({ name: 'species', type: 'category', classes: ['setosa', 'versicolor', 'virginica'] })
    expect(d.features.map((f) => f.name)).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])
    await withDuckDB(async (db) => {
      const types = await query(db, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file('data/staging/iris.parquet')}'))`)
      expect(types.rows).toEqual([
        ['sepal_length', 'DOUBLE'],
        ['sepal_width', 'DOUBLE'],
        ['petal_length', 'DOUBLE'],
        ['petal_width', 'DOUBLE'],
        ['species', 'VARCHAR'],
      ])
      expect((await readTable(db, file('data/staging/iris.parquet'))).rows).toHaveLength(149)
      expect((await readTable(db, file('data/transformed/train.parquet'))).rows).toHaveLength(119)
    })
    expect(JSON.parse(readFileSync(file('data/transformed/dataset.json'), 'utf8'))).toEqual(d)
  })

  it('keeps about test_size of every class for testing', async () => {
    await generateDataset({ root: project.root })
    const counts = await withDuckDB(async (db) =>
      (await query(db, `SELECT species, count(*) FROM read_parquet('${file('data/transformed/test.parquet')}') GROUP BY species ORDER BY species`)).rows,
    )
    expect(counts).toEqual([
      ['setosa', 10],
      ['versicolor', 10],
      ['virginica', 10],
    ])
  })

  it('splits the same way every run, and another way with another seed', async () => {
    await generateDataset({ root: project.root })
    const first = await hashFile(file('data/transformed/test.parquet'))
    await generateDataset({ root: project.root })
    expect(await hashFile(file('data/transformed/test.parquet'))).toBe(first)
    await generateDataset({ root: project.root, overrides: { 'split.seed': 7 } })
    expect(await hashFile(file('data/transformed/test.parquet'))).not.toBe(first)
  })

  it('only reads the raw file', async () => {
    const before = await hashFile(file('data/raw/iris.csv'))
    await generateDataset({ root: project.root })
    expect(await hashFile(file('data/raw/iris.csv'))).toBe(before)
  })

  it('makes a numeric target for regression, without stratifying', async () => {
    project.editParams(['target: species', 'target: petal_length'], ['features: []', 'features: [sepal_length, sepal_width, petal_width]'], ['task: classification', 'task: regression'])
    const d = await generateDataset({ root: project.root })
    expect(d.target).toEqual({ name: 'petal_length', type: 'number' })
    expect(d.split.stratified).toBe(false)
    expect(d.rows.train + d.rows.test).toBe(d.rows.kept)
    expect(d.rows.test).toBe(Math.round(d.rows.kept * 0.2))
  })
})

describe('generate-dataset with bad rows', () => {
  const broken = ['5.0,3.3,1.4,0.2,', '5.1,abc,1.4,0.2,setosa', '6.1,2.8,,1.2,versicolor', '7.7,3.0,6.1,2.3,virginica']

  it('drops and counts rows with a missing target, a text value or an empty feature', async () => {
    project.writeRaw('iris.csv', irisWith(project, ...broken))
    const d = await generateDataset({ root: project.root })
    // 7.7,3.0,6.1,2.3,virginica is in iris already: a duplicate
    expect(d.rows).toMatchObject({ raw: 154, missing_target: 1, invalid_values: 2, duplicates: 2, kept: 149 })
  })

  it('counts the missing or non-numeric values of each column it uses, for the feature schema', async () => {
    project.writeRaw('iris.csv', irisWith(project, ...broken))
    const d = await generateDataset({ root: project.root })
    expect(d.missing).toEqual({ sepal_length: 0, sepal_width: 1, petal_length: 1, petal_width: 0, species: 1 })
    expect(JSON.parse(readFileSync(file('data/transformed/dataset.json'), 'utf8')).missing).toEqual(d.missing)
  })

  it('stops at a text value in a numeric feature when invalid_rows is error, naming file, line, column and value', async () => {
    project.writeRaw('iris.csv', irisWith(project, ...broken))
    project.editParams(['invalid_rows: drop', 'invalid_rows: error'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_DATA_INVALID_VALUE')
    expect(error.where).toEqual({ file: 'data/raw/iris.csv', line: 153, field: 'sepal_width' })
    expect(error.message).toContain('"abc"')
  })

  it('rejects a feature column that holds only text', async () => {
    project.editParams(['features: []', 'features: [sepal_length, species]'], ['target: species', 'target: petal_width'], ['task: classification', 'task: regression'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_PARAMS_FEATURE_NOT_NUMERIC')
    expect(error.message).toContain('line 2 has "setosa"')
  })
})

describe('generate-dataset errors', () => {
  it('names the missing raw file and the params.yaml line that points to it', async () => {
    project.editParams(['raw: iris.csv', 'raw: churn.csv'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_DATA_RAW_MISSING')
    expect(error.message).toContain('data/raw/churn.csv')
    expect(error.message).toContain('iris.csv')
    expect(error.where).toMatchObject({ file: 'params.yaml', field: 'dataset.raw' })
  })

  it('rejects a target that is not a column, suggesting the closest one', async () => {
    project.editParams(['target: species', 'target: specie'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_PARAMS_TARGET_NOT_COLUMN')
    expect(error.message).toContain('Did you mean "species"?')
  })

  it('refuses a data set too small for the split and the folds', async () => {
    project.writeRaw('tiny.csv', 'a,b,label\n1,2,x\n2,3,y\n3,4,x\n4,5,y\n')
    project.editParams(['raw: iris.csv', 'raw: tiny.csv'], ['target: species', 'target: label'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_DATA_TOO_FEW_ROWS')
    expect(error.message).toContain('split.cv_folds 5')
  })

  it('takes no command-line arguments', async () => {
    const error = await rejection(main(['--fast']))
    expect(error.code).toBe('MLSKEL_USAGE')
  })
})
