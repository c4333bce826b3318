// generate-dataset on copies of the project: row counts, the split, and the errors a bad CSV or params.yaml gets.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hashFile } from 'mlskel'
import { generateDataset, main } from '../src/etl/generate-dataset.js'
import { query, readTable, withDuckDB, type DatasetDescription } from '../src/helpers/index.js'
import { copyProject, IRIS_CSV, irisWith, mixedCsv, rejection, useCustomers, type TestProject } from './project.js'

let project: TestProject
beforeEach(() => {
  project = copyProject()
})
afterEach(() => project.remove())

const file = (...parts: string[]) => join(project.root, ...parts)

describe('generate-dataset on iris', () => {
  // One run on the unchanged project for the tests that only read what it made: each run costs about a quarter of a
  // second of DuckDB work. The tests that change params.yaml run in their own copy (`project`).
  let iris: TestProject
  let dataset: DatasetDescription
  beforeAll(async () => {
    iris = copyProject()
    dataset = await generateDataset({ root: iris.root })
  })
  afterAll(() => iris.remove())
  const generated = (...parts: string[]) => join(iris.root, ...parts)

  it('stages 150 typed rows, keeping the exact duplicate (an observation), and splits them 120/30', async () => {
    expect(dataset.rows).toEqual({ raw: 150, missing_target: 0, invalid_values: 0, duplicates: 0, kept: 150, train: 120, test: 30 })
    expect(dataset.missing).toEqual({ sepal_length: 0, sepal_width: 0, petal_length: 0, petal_width: 0, species: 0 })
    expect(dataset.target).toEqual({ name: 'species', type: 'category', classes: ['setosa', 'versicolor', 'virginica'], counts: { train: { setosa: 40, versicolor: 40, virginica: 40 }, test: { setosa: 10, versicolor: 10, virginica: 10 } } })
    expect(dataset.features).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, type: 'number', missing: false })))
    expect(dataset.columns.map((c) => [c.name, c.type, c.declared])).toEqual([
      ['sepal_length', 'numeric', false],
      ['sepal_width', 'numeric', false],
      ['petal_length', 'numeric', false],
      ['petal_width', 'numeric', false],
      ['species', 'categorical', false],
    ])
    expect(dataset.files).toMatchObject({ format: 'csv', delimiter: ',' })
    await withDuckDB(async (db) => {
      const types = await query(db, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${generated('data/staging/iris.parquet')}'))`)
      expect(types.rows).toEqual([
        ['sepal_length', 'DOUBLE'],
        ['sepal_width', 'DOUBLE'],
        ['petal_length', 'DOUBLE'],
        ['petal_width', 'DOUBLE'],
        ['species', 'VARCHAR'],
      ])
      expect((await readTable(db, generated('data/staging/iris.parquet'))).rows).toHaveLength(150)
      expect((await readTable(db, generated('data/transformed/train.parquet'))).rows).toHaveLength(120)
    })
    expect(JSON.parse(readFileSync(generated('data/transformed/dataset.json'), 'utf8'))).toEqual(dataset)
  })

  it('drops exact duplicates only when dataset.drop_duplicates says so, counting them', async () => {
    project.editParams(['invalid_rows: drop', 'invalid_rows: drop\n  drop_duplicates: true'])
    const d = await generateDataset({ root: project.root })
    expect(d.rows).toEqual({ raw: 150, missing_target: 0, invalid_values: 0, duplicates: 1, kept: 149, train: 119, test: 30 })
  })

  it('keeps about test_size of every class for testing', async () => {
    const counts = await withDuckDB(async (db) =>
      (await query(db, `SELECT species, count(*) FROM read_parquet('${generated('data/transformed/test.parquet')}') GROUP BY species ORDER BY species`)).rows,
    )
    expect(counts).toEqual([
      ['setosa', 10],
      ['versicolor', 10],
      ['virginica', 10],
    ])
  })

  it('splits the same way every run, and another way with another seed', async () => {
    const first = await hashFile(generated('data/transformed/test.parquet'))
    await generateDataset({ root: iris.root, overrides: { 'split.seed': 7 } })
    expect(await hashFile(generated('data/transformed/test.parquet'))).not.toBe(first)
    // back to the seed of the first run: the same split again, and the outputs the other tests read
    await generateDataset({ root: iris.root })
    expect(await hashFile(generated('data/transformed/test.parquet'))).toBe(first)
  })

  it('only reads the raw file', async () => {
    // the copy's raw file was written from the project's before generate-dataset ran
    expect(await hashFile(generated('data/raw/iris.csv'))).toBe(await hashFile(IRIS_CSV))
  })

  it('makes a numeric target for regression, without stratifying, and learns from the text column too', async () => {
    project.editParams(['target: species', 'target: petal_length'], ['task: classification', 'task: regression'])
    const d = await generateDataset({ root: project.root })
    expect(d.target).toEqual({ name: 'petal_length', type: 'number' })
    expect(d.split.stratified).toBe(false)
    expect(d.rows.train + d.rows.test).toBe(d.rows.kept)
    expect(d.rows.test).toBe(Math.round(d.rows.kept * 0.2))
    expect(d.features.find((f) => f.name === 'species')).toEqual({ name: 'species', type: 'category', categories: ['setosa', 'versicolor', 'virginica'], missing: false })
  })
})

describe('generate-dataset with gaps and bad values', () => {
  const broken = ['5.0,3.3,1.4,0.2,', '5.1,abc,1.4,0.2,setosa', '6.1,2.8,,1.2,versicolor', '6.2,NA,4.1,NaN,versicolor']

  it('keeps missing values as data, dropping only a missing target and a value that is not its column\'s type', async () => {
    project.writeRaw('iris.csv', irisWith(project, ...broken))
    const d = await generateDataset({ root: project.root })
    expect(d.rows).toMatchObject({ raw: 154, missing_target: 1, invalid_values: 1, duplicates: 0, kept: 152 })
    expect(d.missing).toEqual({ sepal_length: 0, sepal_width: 1, petal_length: 1, petal_width: 1, species: 1 })
    expect(d.columns.find((c) => c.name === 'sepal_width')).toMatchObject({ type: 'numeric', missing: 1, invalid: 1 })
    expect(d.features.filter((f) => f.missing).map((f) => f.name)).toEqual(['sepal_width', 'petal_length', 'petal_width'])
    const staged = await withDuckDB((db) => query(db, `SELECT sepal_width, petal_length, petal_width FROM read_parquet('${file('data/staging/iris.parquet')}') WHERE sepal_width IS NULL OR petal_length IS NULL`))
    expect(staged.rows).toEqual([
      [2.8, null, 1.2],
      [null, 4.1, null],
    ])
  })

  it('stops at a value that is not its column\'s type when invalid_rows is error, naming file, line, column and value', async () => {
    project.writeRaw('iris.csv', irisWith(project, ...broken))
    project.editParams(['invalid_rows: drop', 'invalid_rows: error'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_DATA_INVALID_VALUE')
    expect(error.where).toEqual({ file: 'data/raw/iris.csv', line: 153, field: 'sepal_width' })
    expect(error.message).toContain('"abc", which is not a number')
  })

  it('reads the missing-value tokens params.yaml gives, and only those', async () => {
    project.writeRaw('iris.csv', irisWith(project, '5.1,?,1.4,0.2,setosa', '5.2,NA,1.4,0.2,setosa'))
    project.editParams(['invalid_rows: drop', "invalid_rows: drop\n  missing_values: ['', '?']"])
    const d = await generateDataset({ root: project.root })
    // "?" is missing now; "NA" is not a missing value any more, so not a number: an invalid value
    expect(d.rows).toMatchObject({ invalid_values: 1, kept: 151 })
    expect(d.missing.sepal_width).toBe(1)
  })
})

describe('generate-dataset on a table of every type', () => {
  const useMixed = (csv: string, ...edits: [string, string][]) => useCustomers(project, csv, ...edits)

  it('infers each column\'s type, leaves the identifier out, folds the rare category, and splits the date', async () => {
    useMixed(mixedCsv(200))
    const d = await generateDataset({ root: project.root })
    expect(d.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'identifier'],
      ['age', 'numeric'],
      ['visits', 'numeric'],
      ['member', 'boolean'],
      ['plan', 'categorical'],
      ['signup', 'datetime'],
      ['churn', 'categorical'],
    ])
    expect(d.identifiers).toEqual(['id'])
    expect(d.columns[0]!.reason).toContain('looks like an identifier')
    const plan = d.columns.find((c) => c.name === 'plan')!
    expect(plan.categories!.map((c) => c.value)).toEqual(['basic', 'pro', 'team'])
    expect(plan.other).toMatchObject({ category: '(other)', count: 1 })
    expect(d.features.map((f) => f.name)).toEqual(['age', 'visits', 'member', 'plan', 'signup_year', 'signup_month', 'signup_day', 'signup_weekday'])
    expect(d.features[3]).toMatchObject({ type: 'category', categories: ['basic', 'pro', 'team', '(other)'] })
    expect(d.features[4]).toMatchObject({ type: 'number', datetime: { column: 'signup', part: 'year', format: 'iso' } })
    expect(d.missing.age).toBe(29)
    expect(d.rows.kept).toBe(200)
    const types = await withDuckDB((db) => query(db, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${file('data/transformed/train.parquet')}'))`))
    expect(types.rows).toEqual([
      ['id', 'VARCHAR'],
      ['age', 'DOUBLE'],
      ['visits', 'DOUBLE'],
      ['member', 'BOOLEAN'],
      ['plan', 'VARCHAR'],
      ['signup', 'TIMESTAMP'],
      ['churn', 'VARCHAR'],
    ])
  })

  it('reads a European file: ";" delimiters, decimal commas', async () => {
    useMixed(mixedCsv(200, ';', ','), ['invalid_rows: drop', "invalid_rows: drop\n  decimal: ','"])
    const d = await generateDataset({ root: project.root })
    expect(d.files.delimiter).toBe(';')
    expect(d.columns.find((c) => c.name === 'age')).toMatchObject({ type: 'numeric', invalid: 0 })
    const ages = await withDuckDB((db) => query(db, `SELECT min(age), max(age) FROM read_parquet('${file('data/staging/customers.parquet')}')`))
    expect(ages.rows).toEqual([[20.5, 69.5]])
  })

  it.each([
    ['tab', '\t'],
    ['pipe', '|'],
  ])('finds a %s delimiter, and reads quoted fields holding it and new lines, after a UTF-8 BOM', async (_name, delimiter) => {
    const rows = Array.from({ length: 60 }, (_, i) => [`${i}.5`, i % 2 ? '"a, b' + delimiter + ' and\nmore"' : 'plain', i % 3 ? 'yes' : 'no'].join(delimiter))
    useMixed(`\uFEFF${['x', 'note', 'churn'].join(delimiter)}\n${rows.join('\n')}\n`)
    const d = await generateDataset({ root: project.root })
    expect(d.files.delimiter).toBe(delimiter)
    expect(d.columns.map((c) => [c.name, c.type])).toEqual([
      ['x', 'numeric'],
      ['note', 'categorical'],
      ['churn', 'categorical'],
    ])
    expect(d.rows.kept).toBe(60)
    const notes = await withDuckDB((db) => query(db, `SELECT DISTINCT note FROM read_parquet('${file('data/staging/customers.parquet')}') ORDER BY 1`))
    expect(notes.rows).toEqual([[`a, b${delimiter} and\nmore`], ['plain']])
  })

  it('reads a Parquet raw file of every column type', async () => {
    useMixed(mixedCsv(200))
    const csv = file('data/raw/customers.csv')
    await withDuckDB((db) => db.run(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${file('data/raw/customers.parquet')}' (FORMAT parquet)`))
    project.editParams(['raw: customers.csv', 'raw: customers.parquet'])
    const d = await generateDataset({ root: project.root })
    expect(d.files.format).toBe('parquet')
    expect(d.columns.map((c) => c.type)).toEqual(['identifier', 'numeric', 'numeric', 'boolean', 'categorical', 'datetime', 'categorical'])
    expect(d.missing.age).toBe(29)
  })

  it('follows dataset.columns over what is inferred', async () => {
    useMixed(mixedCsv(200), ['invalid_rows: drop', 'invalid_rows: drop\n  columns: {id: ignore, visits: categorical, signup: ignore}'])
    const d = await generateDataset({ root: project.root })
    expect(d.identifiers).toEqual([])
    expect(d.columns.find((c) => c.name === 'visits')).toMatchObject({ type: 'categorical', declared: true })
    expect(d.features.map((f) => f.name)).toEqual(['age', 'visits', 'member', 'plan'])
  })

  it('refuses a column of more categories than dataset.max_categories, saying what to change', async () => {
    useMixed(mixedCsv(200), ['invalid_rows: drop', 'invalid_rows: drop\n  columns: {id: categorical}\n  min_category_count: 1\n  max_categories: 50'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_DATA_TOO_MANY_CATEGORIES')
    expect(error.message).toContain('"id" has 160 categories')
    expect(error.fix).toContain('min_category_count')
  })

  it('holds out the latest rows with split.strategy time, so the model never learns from its future', async () => {
    useMixed(mixedCsv(200), ['seed: 42', 'seed: 42\n  strategy: time\n  column: signup'])
    const d = await generateDataset({ root: project.root })
    expect(d.split).toMatchObject({ strategy: 'time', column: 'signup', stratified: false })
    const [[latestTrain], [earliestTest]] = await withDuckDB(async (db) => [
      (await query(db, `SELECT max(signup) FROM read_parquet('${file('data/transformed/train.parquet')}')`)).rows[0]!,
      (await query(db, `SELECT min(signup) FROM read_parquet('${file('data/transformed/test.parquet')}')`)).rows[0]!,
    ])
    expect(String(latestTrain) <= String(earliestTest)).toBe(true)
    expect(d.rows.test).toBe(40)
  })

  it('keeps all rows of a group on one side with split.strategy group', async () => {
    // 200 rows of 20 customers
    const csv = mixedCsv(200).replace(/cust-(\d+)/g, (_, n: string) => `cust-${Number(n) % 20}`)
    useMixed(csv, ['seed: 42', 'seed: 42\n  strategy: group\n  column: id'])
    const d = await generateDataset({ root: project.root })
    expect(d.identifiers).toEqual([])
    const overlap = await withDuckDB((db) =>
      query(db, `SELECT count(*) FROM (SELECT DISTINCT id FROM read_parquet('${file('data/transformed/train.parquet')}')) JOIN (SELECT DISTINCT id FROM read_parquet('${file('data/transformed/test.parquet')}')) USING (id)`),
    )
    expect(overlap.rows).toEqual([[0]])
    expect(d.rows.test).toBeGreaterThanOrEqual(40)
    expect(d.rows.test).toBeLessThan(60)
  })

  it('refuses a time split by a column that is not dates or numbers, and one without split.column', async () => {
    useMixed(mixedCsv(200), ['seed: 42', 'seed: 42\n  strategy: time\n  column: plan'])
    expect(await rejection(generateDataset({ root: project.root }))).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', message: expect.stringContaining('"plan" is categorical') })
    project.editParams(['  column: plan\n', ''])
    expect(await rejection(generateDataset({ root: project.root }))).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: expect.objectContaining({ field: 'split.column' }) })
  })

  it('names a declared column that is not in the file', async () => {
    useMixed(mixedCsv(200), ['invalid_rows: drop', 'invalid_rows: drop\n  columns: {sign_up: datetime}'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_PARAMS_COLUMN_NOT_FOUND')
    expect(error.message).toContain('Did you mean "signup"?')
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

  it('says when the raw file is not a table DuckDB can read', async () => {
    project.writeRaw('broken.parquet', 'this is not parquet')
    project.editParams(['raw: iris.csv', 'raw: broken.parquet'])
    const error = await rejection(generateDataset({ root: project.root }))
    expect(error.code).toBe('MLSKEL_DATA_UNREADABLE')
    expect(error.message).toContain('data/raw/broken.parquet')
  })

  it('takes no command-line arguments', async () => {
    const error = await rejection(main(['--fast']))
    expect(error.code).toBe('MLSKEL_USAGE')
  })
})
