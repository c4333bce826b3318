// generate-dataset: the raw file named in params.yaml (CSV or Parquet) -> data/staging (typed Parquet: numbers,
// booleans, categories, timestamps, identifiers; missing values kept as NULL) -> data/transformed (the train/test
// split and dataset.json, which describes every column and the model's features). Raw files are only ever read.
// Column types are inferred from the data (mlskel's inferColumnType; docs/data.md in mlskel) unless params.yaml
// declares them under dataset.columns.
import { existsSync, readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import {
  createLogger,
  dataSql,
  DATETIME_PARTS,
  invalidCells,
  loadParams,
  stageContext,
  MlskelError,
  planDataset,
  runScript,
  type DatasetPlan,
  type FeatureSpec,
  type LoadedParams,
  type PlannedColumn,
  type ReadOptions,
} from 'mlskel'
import { DATASET_FILE, formatTable, projectRelative, query, sqlIdent, sqlString, withDuckDB, writeOutputs, type ColumnDescription, type DatasetDescription, type Db, type RowCounts } from '../helpers/index.js'
import { loadProject } from '../settings.js'

export interface GenerateDatasetOptions {
  /** Project root; found from the current folder when absent. */
  root?: string
  /** params.yaml overrides by dotted key, when not run by `mlskel run` (which hands over its --set). */
  overrides?: Record<string, unknown>
  /** Print the summary on stdout (the CLI does; tests need not). */
  print?: boolean
}

/** The category that rare values (fewer training rows than dataset.min_category_count) are folded into. */
export const OTHER = '(other)'

export async function generateDataset(options: GenerateDatasetOptions = {}): Promise<DatasetDescription> {
  // 1. settings, params and the raw file
  const { root, settings, paths } = loadProject(options.root)
  // what `mlskel run` handed this stage (its --set overrides, the hashes of its deps), or made here
  const stage = await stageContext({ root, env: process.env, argv: process.argv, ...(options.overrides ? { overrides: options.overrides } : {}) })
  const loaded = await loadParams(root, { overrides: stage.overrides })
  const { dataset, task, split } = loaded.params
  const log = createLogger('generate-dataset', settings.LOG_LEVEL, settings.LOG_FORMAT)
  const rawFile = resolve(paths.raw, dataset.raw)
  const rawLabel = projectRelative(root, rawFile)
  if (!existsSync(rawFile)) throw rawMissing(loaded, rawLabel, paths.raw)
  const parquet = extname(rawFile).toLowerCase() === '.parquet'
  const read: ReadOptions = { missing: new Set(dataset.missing_values), decimal: parquet ? '.' : dataset.decimal }

  const stem = basename(rawFile, extname(rawFile))
  const out = {
    staging: join(paths.staging, `${stem}.parquet`),
    train: join(paths.transformed, 'train.parquet'),
    test: join(paths.transformed, 'test.parquet'),
    description: join(paths.transformed, DATASET_FILE),
  }

  return withDuckDB(async (db) => {
    // 2. every cell as text, each row with its line in the file (Parquet: its row number); the column counts that
    // type inference reads; the plan: each column's type, the target, the features
    const delimiter = await readRaw(db, rawFile, rawLabel, parquet, dataset.delimiter)
    const columns = (await query(db, 'SELECT * EXCLUDE (__line) FROM src LIMIT 0')).columns
    const counts = await dataSql.columnCounts(async (sql) => (await query(db, sql)).rows, columns, read, 'src')
    const plan = planDataset(loaded, counts, rawLabel)
    const numericTarget = task === 'regression'
    const checked = numericTarget ? [...plan.features, plan.target] : plan.features

    // 3. values that cannot be read as their column's type: stop on the first, or drop their rows
    if (dataset.invalid_rows === 'error') {
      const bad = await firstInvalidValue(db, checked, read)
      if (bad) {
        throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `column ${JSON.stringify(bad.column)} holds ${JSON.stringify(bad.value)}, which is not ${article(bad.type)} (dataset.invalid_rows is "error")`, {
          where: { file: rawLabel, line: bad.line, field: bad.column },
        })
      }
    }

    // 4. staging: typed rows, missing values as NULL; dropped: a missing target, an invalid value, and (when asked)
    // exact copies of an earlier row
    const kept = [...plan.identifiers, ...plan.features]
    // the column a time or group split follows is kept in the splits, even when the model does not learn from it
    if (plan.split && !kept.includes(plan.split)) kept.push(plan.split)
    const targetValue = numericTarget ? dataSql.asNumber(plan.target.name, read) : `CASE WHEN ${dataSql.isMissing(plan.target.name, read)} THEN NULL ELSE ${dataSql.cell(plan.target.name)} END`
    const typed = [...kept.map((c) => `${dataSql.typedValue(c.name, c.type, read, c.format)} AS ${sqlIdent(c.name)}`), `${targetValue} AS ${sqlIdent(plan.target.name)}`]
    const invalid = checked.map((c) => dataSql.isInvalid(c.name, c.type, read, c.format))
    await db.run(`CREATE TABLE typed AS SELECT __line, ${invalid.length > 0 ? `(${invalid.join(' OR ')})` : 'false'} AS __invalid, ${typed.join(', ')} FROM src`)
    const all = [...kept, plan.target].map((c) => sqlIdent(c.name)).join(', ')
    const valid = `${sqlIdent(plan.target.name)} IS NOT NULL AND NOT __invalid`
    await db.run(
      dataset.drop_duplicates
        ? `CREATE TABLE staged AS SELECT row_number() OVER (ORDER BY __line) - 1 AS __row, * EXCLUDE (__dup, __invalid)
           FROM (SELECT *, row_number() OVER (PARTITION BY ${all} ORDER BY __line) AS __dup FROM typed WHERE ${valid}) WHERE __dup = 1`
        : `CREATE TABLE staged AS SELECT row_number() OVER (ORDER BY __line) - 1 AS __row, * EXCLUDE (__invalid) FROM typed WHERE ${valid}`,
    )

    // 5. transformed: the test rows, by split.strategy (docs/data.md). md5 keeps a seeded order the same on every
    // platform and DuckDB version.
    await db.run(`CREATE TABLE split_rows AS ${splitSql(loaded, plan)}`)

    const rows = await countRows(db, plan.target.name)
    log.debug({ rows }, 'row counts')
    const dropped = rows.missing_target + rows.invalid_values + rows.duplicates
    if (rows.test < 1 || rows.train < split.cv_folds) {
      throw new MlskelError(
        'MLSKEL_DATA_TOO_FEW_ROWS',
        `${rawLabel} has ${rows.kept} usable rows (${dropped} dropped): ${rows.train} to train and ${rows.test} to test, but split.cv_folds ${split.cv_folds} needs at least ${split.cv_folds} training rows and split.test_size ${split.test_size} at least 1 test row`,
        { where: { file: 'params.yaml', line: loaded.source.lineOf(['split']), field: 'split' } },
      )
    }

    // 6. the model's columns: categories from the training split (rare ones folded), a datetime's parts
    const described = await describeColumns(db, loaded, plan, columns)
    const features = described.filter((c) => plan.features.some((f) => f.name === c.name)).flatMap((c) => featuresOf(c, plan))
    const description: DatasetDescription = {
      task,
      target: numericTarget ? { name: plan.target.name, type: 'number' } : { name: plan.target.name, type: 'category', ...(await classCounts(db, plan.target.name)) },
      features,
      columns: described,
      identifiers: plan.identifiers.map((c) => c.name),
      read: { missing_values: [...read.missing], decimal: read.decimal },
      files: {
        raw: rawLabel,
        raw_sha256: await stage.hash(rawFile),
        format: parquet ? 'parquet' : 'csv',
        ...(delimiter ? { delimiter } : {}),
        staging: projectRelative(root, out.staging),
        train: projectRelative(root, out.train),
        test: projectRelative(root, out.test),
      },
      rows,
      missing: Object.fromEntries(described.map((c) => [c.name, c.missing])),
      split: { strategy: split.strategy, ...(split.column ? { column: split.column } : {}), test_size: split.test_size, seed: split.seed, stratified: split.strategy === 'stratified' && !numericTarget },
    }

    // 7. write all outputs to temp files, then rename them into place
    await writeOutputs([out.staging, out.train, out.test, out.description], async ([staging, train, test, json]) => {
      await copyToParquet(db, `SELECT ${all} FROM staged ORDER BY __row`, staging!)
      await copyToParquet(db, `SELECT ${all} FROM split_rows WHERE NOT __test ORDER BY __row`, train!)
      await copyToParquet(db, `SELECT ${all} FROM split_rows WHERE __test ORDER BY __row`, test!)
      await writeFile(json!, `${JSON.stringify(description, null, 2)}\n`)
    })

    if (options.print) console.log(summary(description))
    else if (dropped > 0) log.warn({ file: rawLabel, ...rows }, dropLine(rows, rawLabel))
    return description
  })
}

/**
 * Read the raw file into table `src`, every cell as text, with `__line`: the row's line in a CSV (the header is line
 * 1; a quoted value over several lines shifts the ones after it) or its 1-based row in a Parquet file. Returns the
 * CSV's delimiter (declared, or found by DuckDB's sniffer).
 */
async function readRaw(db: Db, file: string, label: string, parquet: boolean, declared: string | undefined): Promise<string | undefined> {
  try {
    if (parquet) {
      const names = (await query(db, `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)})`)).rows.map((r) => String(r[0]))
      await db.run(`CREATE TABLE raw AS SELECT ${names.map((n) => `CAST(${sqlIdent(n)} AS VARCHAR) AS ${sqlIdent(n)}`).join(', ')} FROM read_parquet(${sqlString(file)})`)
      await db.run('CREATE TABLE src AS SELECT rowid + 1 AS __line, * FROM raw')
      return undefined
    }
    const delimiter = declared ?? String((await query(db, `SELECT Delimiter FROM sniff_csv(${sqlString(file)}, header = true)`)).rows[0]![0])
    await db.run(`CREATE TABLE raw AS SELECT * FROM read_csv(${sqlString(file)}, header = true, all_varchar = true, delim = ${sqlString(delimiter)})`)
    await db.run('CREATE TABLE src AS SELECT rowid + 2 AS __line, * FROM raw')
    return delimiter
  } catch (error) {
    if (error instanceof MlskelError) throw error
    const reason = (error instanceof Error ? error.message : String(error)).split('\n').filter((l) => l.trim() !== '').slice(0, 3).join(' ')
    const line = /line (\d+)/i.exec(reason)?.[1]
    throw new MlskelError('MLSKEL_DATA_UNREADABLE', `DuckDB cannot read ${label} as a ${parquet ? 'Parquet file' : 'CSV table with a header row'}: ${reason}`, { where: { file: label, ...(line ? { line: Number(line) } : {}) } })
  }
}

/**
 * The staged rows with `__test`. stratified (classification): each class keeps round(n * test_size) of its rows,
 * in seeded order, for testing; random (and stratified regression): the same over all rows. time: the latest
 * round(n * test_size) rows by split.column (rows without a time count as the earliest). group: whole groups in
 * seeded order until they hold round(n * test_size) rows, so no group is on both sides.
 */
function splitSql(loaded: LoadedParams, plan: DatasetPlan): string {
  const { strategy, seed, test_size: testSize } = loaded.params.split
  const seeded = (value: string) => `md5(${sqlString(`${seed}:`)} || ${value})`
  if (strategy === 'time') {
    const by = sqlIdent(plan.split!.name)
    return `SELECT *, row_number() OVER (ORDER BY ${by} NULLS FIRST, __row) > count(*) OVER () - round(count(*) OVER () * ${testSize}) AS __test FROM staged`
  }
  if (strategy === 'group') {
    const by = sqlIdent(plan.split!.name)
    return `
      WITH groups AS (SELECT ${by} AS grp, count(*) AS n FROM staged GROUP BY 1),
      ordered AS (SELECT grp, n, sum(n) OVER (ORDER BY ${seeded(`coalesce(CAST(grp AS VARCHAR), chr(0))`)}, grp ROWS UNBOUNDED PRECEDING) AS upto FROM groups)
      SELECT staged.*, ordered.upto - ordered.n < round((SELECT count(*) FROM staged) * ${testSize}) AS __test
      FROM staged JOIN ordered ON staged.${by} IS NOT DISTINCT FROM ordered.grp`
  }
  const stratum = strategy === 'stratified' && loaded.params.task === 'classification' ? sqlIdent(plan.target.name) : '1'
  return `SELECT *, row_number() OVER (PARTITION BY ${stratum} ORDER BY ${seeded('__row')}, __row) <= round(count(*) OVER (PARTITION BY ${stratum}) * ${testSize}) AS __test FROM staged`
}

/** Every raw column as dataset.json describes it; categories from the training split, folded and bounded. */
async function describeColumns(db: Db, loaded: LoadedParams, plan: DatasetPlan, columns: readonly string[]): Promise<ColumnDescription[]> {
  const { min_category_count: minCount, max_categories: maxCategories } = loaded.params.dataset
  const planned = new Map([plan.target, ...plan.features, ...plan.identifiers, ...plan.ignored].map((c) => [c.name, c]))
  const result: ColumnDescription[] = []
  for (const name of columns) {
    const c = planned.get(name)!
    const d: ColumnDescription = { name, type: c.type, declared: c.declared, reason: c.reason, missing: c.counts.missing, invalid: c === plan.target && c.type !== 'numeric' ? 0 : invalidCells(c.counts, c.type, c.format) }
    if (c.type === 'categorical' && plan.features.includes(c)) {
      const counted = (await query(db, `SELECT ${sqlIdent(name)}, count(*) FROM split_rows WHERE NOT __test AND ${sqlIdent(name)} IS NOT NULL GROUP BY 1 ORDER BY 1`)).rows.map((r) => ({ value: String(r[0]), count: Number(r[1]) }))
      const common = counted.filter((v) => v.count >= minCount)
      const rare = counted.filter((v) => v.count < minCount)
      if (common.length + (rare.length > 0 ? 1 : 0) > maxCategories) {
        throw new MlskelError('MLSKEL_DATA_TOO_MANY_CATEGORIES', `column ${JSON.stringify(name)} has ${common.length} categories of at least ${minCount} training rows (dataset.min_category_count), more than dataset.max_categories ${maxCategories}`, {
          where: { file: 'params.yaml', line: loaded.source.lineOf(['dataset']), field: `dataset.columns.${name}` },
        })
      }
      d.categories = common
      if (rare.length > 0) d.other = { category: otherName(common.map((v) => v.value)), values: rare.map((v) => v.value), count: rare.reduce((n, v) => n + v.count, 0) }
    }
    if (c.type === 'datetime') {
      d.format = c.format ?? 'iso'
      d.parts = DATETIME_PARTS.filter((p) => p !== 'hour' || c.counts.hasTime).map((part) => ({ feature: `${name}_${part}`, part }))
    }
    result.push(d)
  }
  return result
}

/** "(other)", or a variant of it that no category of the column already is. */
function otherName(categories: readonly string[]): string {
  let name = OTHER
  while (categories.includes(name)) name = `(${name})`
  return name
}

/** The model features of a described column: one, or one per datetime part. */
function featuresOf(c: ColumnDescription, plan: DatasetPlan): FeatureSpec[] {
  const missing = c.missing > 0 || c.invalid > 0
  const p = plan.features.find((f) => f.name === c.name)!
  switch (p.type) {
    case 'numeric':
      return [{ name: c.name, type: 'number', missing }]
    case 'boolean':
      return [{ name: c.name, type: 'boolean', missing }]
    case 'categorical': {
      const categories = [...c.categories!.map((v) => v.value), ...(c.other ? [c.other.category] : [])]
      if (categories.length === 0) categories.push(otherName([]))
      return [{ name: c.name, type: 'category', categories, ...(c.other ? { other: { category: c.other.category, values: c.other.values } } : {}), missing }]
    }
    case 'datetime':
      return c.parts!.map(({ feature, part }) => ({ name: feature, type: 'number' as const, missing, datetime: { column: c.name, part: part as (typeof DATETIME_PARTS)[number], format: p.format ?? 'iso' } }))
    default:
      return []
  }
}

async function classCounts(db: Db, target: string): Promise<{ classes: string[]; counts: { train: Record<string, number>; test: Record<string, number> } }> {
  const rows = (await query(db, `SELECT ${sqlIdent(target)}, count(*) FILTER (WHERE NOT __test), count(*) FILTER (WHERE __test) FROM split_rows GROUP BY 1 ORDER BY 1`)).rows
  return {
    classes: rows.map((r) => String(r[0])),
    counts: { train: Object.fromEntries(rows.map((r) => [String(r[0]), Number(r[1])])), test: Object.fromEntries(rows.map((r) => [String(r[0]), Number(r[2])])) },
  }
}

function rawMissing(loaded: LoadedParams, rawLabel: string, rawDir: string): MlskelError {
  const present = existsSync(rawDir) ? readdirSync(rawDir).filter((f) => /\.(csv|tsv|txt|parquet)$/i.test(f)) : []
  const there = present.length > 0 ? ` (data files there: ${present.join(', ')})` : ' (there is no CSV or Parquet file there)'
  return new MlskelError('MLSKEL_DATA_RAW_MISSING', `raw data file ${rawLabel} does not exist${there}; dataset.raw in params.yaml names it`, {
    where: { file: 'params.yaml', line: loaded.source.lineOf(['dataset', 'raw']), field: 'dataset.raw' },
  })
}

const article = (type: string) => (type === 'numeric' ? 'a number' : type === 'boolean' ? 'a boolean (true/false, yes/no, 1/0)' : 'a date or timestamp')

async function firstInvalidValue(db: Db, columns: readonly PlannedColumn[], read: ReadOptions): Promise<{ line: number; column: string; value: string; type: string } | undefined> {
  const parts = columns
    .filter((c) => c.type === 'numeric' || c.type === 'boolean' || c.type === 'datetime')
    .map((c) => `SELECT __line, ${sqlString(c.name)} AS col, ${dataSql.cell(c.name)} AS value, ${sqlString(c.type)} AS type FROM src WHERE ${dataSql.isInvalid(c.name, c.type, read, c.format)}`)
  if (parts.length === 0) return undefined
  const [row] = (await query(db, `${parts.join(' UNION ALL ')} ORDER BY __line LIMIT 1`)).rows
  return row ? { line: Number(row[0]), column: String(row[1]), value: String(row[2]), type: String(row[3]) } : undefined
}

async function countRows(db: Db, target: string): Promise<RowCounts> {
  const t = sqlIdent(target)
  const [row] = (
    await query(
      db,
      `SELECT
        (SELECT count(*) FROM typed),
        (SELECT count(*) FROM typed WHERE ${t} IS NULL),
        (SELECT count(*) FROM typed WHERE ${t} IS NOT NULL AND __invalid),
        (SELECT count(*) FROM typed WHERE ${t} IS NOT NULL AND NOT __invalid) - (SELECT count(*) FROM staged),
        (SELECT count(*) FROM staged),
        (SELECT count(*) FROM split_rows WHERE NOT __test),
        (SELECT count(*) FROM split_rows WHERE __test)`,
    )
  ).rows
  const [raw, missing_target, invalid_values, duplicates, kept, train, test] = row!.map(Number)
  return { raw: raw!, missing_target: missing_target!, invalid_values: invalid_values!, duplicates: duplicates!, kept: kept!, train: train!, test: test! }
}

async function copyToParquet(db: Db, select: string, file: string): Promise<void> {
  await db.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet)`)
}

function dropLine(r: RowCounts, rawLabel: string): string {
  return `dropped ${r.missing_target + r.invalid_values + r.duplicates} of ${r.raw} rows of ${rawLabel}: ${r.missing_target} missing the target, ${r.invalid_values} with a value that cannot be read as its column's type, ${r.duplicates} duplicates`
}

function summary(d: DatasetDescription): string {
  const r = d.rows
  const target = d.target.type === 'category' ? `${d.target.name} (${d.target.classes.length} classes)` : `${d.target.name} (number)`
  const columnRows = d.columns.map((c) => {
    const what = c.categories ? `${c.categories.length} categories${c.other ? ` + ${c.other.category} (${c.other.values.length} rare values)` : ''}` : c.parts ? `${c.parts.map((p) => p.part).join(', ')}${c.format && c.format !== 'iso' ? ` (${c.format})` : ''}` : ''
    const role = c.name === d.target.name ? 'target' : d.identifiers.includes(c.name) ? 'identifier' : c.type === 'ignore' || !d.features.some((f) => f.name === c.name || ('datetime' in f && f.datetime?.column === c.name)) ? 'left out' : 'feature'
    return [c.name, c.type, role, c.missing, c.invalid, what, c.declared ? 'declared' : c.reason]
  })
  return [
    `generate-dataset: ${d.files.raw} -> ${d.files.staging} -> ${d.files.train}, ${d.files.test}`,
    `  task ${d.task}, target ${target}, ${d.features.length} model features${d.files.delimiter ? `, delimiter ${JSON.stringify(d.files.delimiter)}` : ''}`,
    '',
    formatTable([['column', 'type', 'role', 'missing', 'invalid', 'holds', 'why'], ...columnRows]),
    '',
    formatTable([
      ['rows', 'count'],
      ['read', r.raw],
      ['dropped: missing target', r.missing_target],
      ['dropped: invalid value', r.invalid_values],
      ['dropped: duplicate (dataset.drop_duplicates)', r.duplicates],
      ['kept', r.kept],
      [`train${d.split.stratified ? ' (stratified)' : ''}`, r.train],
      [`test (${d.split.test_size * 100}%, ${d.split.column ? `${d.split.strategy} by ${d.split.column}` : d.split.strategy}, seed ${d.split.seed})`, r.test],
    ]),
  ].join('\n')
}

export async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((arg) => arg !== '--verbose')
  if (unknown.length > 0) throw new MlskelError('MLSKEL_USAGE', `generate-dataset takes no arguments (got ${unknown.join(' ')}); it reads params.yaml`)
  await generateDataset({ print: true })
}

await runScript(import.meta.url, main)
