// generate-dataset: the raw CSV named in params.yaml -> data/staging (typed, validated, de-duplicated Parquet) ->
// data/transformed (model-ready train/test split and a description of it). Raw files are only ever read.
import { existsSync, readdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { basename, extname, join, resolve } from 'node:path'
import { createLogger, hashFile, loadParams, MlskelError, planDataset, runScript, type ColumnProfile, type LoadedParams } from 'mlskel'
import { DATASET_FILE, formatTable, projectRelative, query, sqlIdent, sqlString, tableSource, withDuckDB, writeOutputs, type DatasetDescription, type Db, type RowCounts } from '../helpers/index.js'
import { loadProject } from '../settings.js'

export interface GenerateDatasetOptions {
  /** Project root; found from the current folder when absent. */
  root?: string
  /** params.yaml overrides by dotted key (as `mlskel run --set` gives them); read from MLSKEL_SET when absent. */
  overrides?: Record<string, unknown>
  /** Print the summary on stdout (the CLI does; tests need not). */
  print?: boolean
}

/** Row i (0-based) of a CSV with a header is on line i + 2; multi-line quoted values would shift this. */
const FIRST_DATA_LINE = 2

export async function generateDataset(options: GenerateDatasetOptions = {}): Promise<DatasetDescription> {
  // 1. settings, params and the raw file
  const { root, settings, paths } = loadProject(options.root)
  const loaded = await loadParams(root, options.overrides ? { overrides: options.overrides } : {})
  const { dataset, task, split } = loaded.params
  const log = createLogger('generate-dataset', settings.LOG_LEVEL)
  const rawFile = resolve(paths.raw, dataset.raw)
  const rawLabel = projectRelative(root, rawFile)
  if (!existsSync(rawFile)) throw rawMissing(loaded, rawLabel, paths.raw)

  const stem = basename(rawFile, extname(rawFile))
  const out = {
    staging: join(paths.staging, `${stem}.parquet`),
    train: join(paths.transformed, 'train.parquet'),
    test: join(paths.transformed, 'test.parquet'),
    description: join(paths.transformed, DATASET_FILE),
  }

  return withDuckDB(async (db) => {
    // 2. read every value as text, each row with its line in the file, and check params against the columns
    await db.run(`CREATE TABLE raw AS SELECT * FROM ${tableSource(rawFile, { allText: true })}`)
    await db.run(`CREATE TABLE src AS SELECT rowid + ${FIRST_DATA_LINE} AS __line, * FROM raw`)
    const columns = (await query(db, 'SELECT * FROM raw LIMIT 0')).columns
    const profiles = await profileColumns(db, columns)
    const { target, features } = planDataset(loaded, profiles, rawLabel)
    const numericTarget = task === 'regression'

    // 3. stop on the first value that is not a number, when asked to
    if (dataset.invalid_rows === 'error') {
      const bad = await firstInvalidValue(db, numericTarget ? [...features, target] : features)
      if (bad) {
        throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `column ${JSON.stringify(bad.column)} holds ${JSON.stringify(bad.value)}, which is not a number (dataset.invalid_rows is "error")`, {
          where: { file: rawLabel, line: bad.line, field: bad.column },
        })
      }
    }

    // 4. staging: typed rows, invalid ones dropped, exact duplicates dropped (the first copy is kept)
    const targetValue = numericTarget ? number(target) : `trim(${sqlIdent(target)})`
    const valid = [present(target), ...(numericTarget ? [isNumber(target)] : []), ...features.map(isNumber)].join(' AND ')
    const typedColumns = [...features.map((f) => `${number(f)} AS ${sqlIdent(f)}`), `${targetValue} AS ${sqlIdent(target)}`]
    await db.run(`CREATE TABLE typed AS SELECT __line, ${typedColumns.join(', ')} FROM src WHERE ${valid}`)
    const all = [...features, target].map(sqlIdent).join(', ')
    await db.run(`
      CREATE TABLE staged AS
      SELECT row_number() OVER (ORDER BY __line) - 1 AS __row, * EXCLUDE (__dup)
      FROM (SELECT *, row_number() OVER (PARTITION BY ${all} ORDER BY __line) AS __dup FROM typed)
      WHERE __dup = 1`)

    // 5. transformed: a seeded split, stratified by class for classification. md5 keeps it the same on every
    // platform and DuckDB version; each class keeps round(n * test_size) of its rows for testing.
    const stratum = numericTarget ? '1' : sqlIdent(target)
    await db.run(`
      CREATE TABLE split_rows AS
      SELECT *, row_number() OVER (PARTITION BY ${stratum} ORDER BY md5(${sqlString(`${split.seed}:`)} || __row), __row) <= round(count(*) OVER (PARTITION BY ${stratum}) * ${split.test_size}) AS __test
      FROM staged`)

    const rows = await countRows(db, target, numericTarget, features)
    log.debug({ rows }, 'row counts')
    const dropped = rows.missing_target + rows.invalid_values + rows.duplicates
    if (dropped > 0) log.warn({ file: rawLabel, ...rows }, `dropped ${dropped} of ${rows.raw} rows of ${rawLabel}: ${rows.missing_target} missing the target, ${rows.invalid_values} with an empty or non-numeric value, ${rows.duplicates} duplicates`)
    if (rows.test < 1 || rows.train < split.cv_folds) {
      throw new MlskelError(
        'MLSKEL_DATA_TOO_FEW_ROWS',
        `${rawLabel} has ${rows.kept} usable rows (${dropped} dropped): ${rows.train} to train and ${rows.test} to test, but split.cv_folds ${split.cv_folds} needs at least ${split.cv_folds} training rows and split.test_size ${split.test_size} at least 1 test row`,
        { where: { file: 'params.yaml', line: loaded.source.lineOf(['split']), field: 'split' } },
      )
    }

    const classes = numericTarget ? [] : (await query(db, `SELECT DISTINCT ${sqlIdent(target)} FROM staged`)).rows.map((r) => String(r[0])).sort()
    const description: DatasetDescription = {
      task,
      target: numericTarget ? { name: target, type: 'number' } : { name: target, type: 'category', classes },
      features: features.map((name) => ({ name, type: 'number' })),
      files: {
        raw: rawLabel,
        raw_sha256: await hashFile(rawFile),
        staging: projectRelative(root, out.staging),
        train: projectRelative(root, out.train),
        test: projectRelative(root, out.test),
      },
      rows,
      missing: missingValues(profiles, rows.raw, features, target, numericTarget),
      split: { test_size: split.test_size, seed: split.seed, stratified: !numericTarget },
    }

    // 6. write all outputs to temp files, then rename them into place
    await writeOutputs([out.staging, out.train, out.test, out.description], async ([staging, train, test, json]) => {
      await copyToParquet(db, `SELECT ${all} FROM staged ORDER BY __row`, staging!)
      await copyToParquet(db, `SELECT ${all} FROM split_rows WHERE NOT __test ORDER BY __row`, train!)
      await copyToParquet(db, `SELECT ${all} FROM split_rows WHERE __test ORDER BY __row`, test!)
      await writeFile(json!, `${JSON.stringify(description, null, 2)}\n`)
    })

    if (options.print) console.log(summary(description))
    return description
  })
}

function rawMissing(loaded: LoadedParams, rawLabel: string, rawDir: string): MlskelError {
  const present = existsSync(rawDir) ? readdirSync(rawDir).filter((f) => f.toLowerCase().endsWith('.csv')) : []
  const there = present.length > 0 ? ` (CSV files there: ${present.join(', ')})` : ' (there is no CSV file there)'
  return new MlskelError('MLSKEL_DATA_RAW_MISSING', `raw data file ${rawLabel} does not exist${there}; dataset.raw in params.yaml names it`, {
    where: { file: 'params.yaml', line: loaded.source.lineOf(['dataset', 'raw']), field: 'dataset.raw' },
  })
}

const present = (column: string) => `(${sqlIdent(column)} IS NOT NULL AND trim(${sqlIdent(column)}) <> '')`
const number = (column: string) => `TRY_CAST(trim(${sqlIdent(column)}) AS DOUBLE)`
/** A finite number: 'nan' and 'inf' parse as DOUBLE but no model can use them. */
const isNumber = (column: string) => `coalesce(isfinite(${number(column)}), false)`

/** Per column: how many values are numbers and how many text, distinct values, whole numbers, a text example. */
async function profileColumns(db: Db, columns: readonly string[]): Promise<ColumnProfile[]> {
  const aggregates = columns.flatMap((c, i) => {
    const text = `${present(c)} AND NOT ${isNumber(c)}`
    return [
      `count(*) FILTER (WHERE ${isNumber(c)}) AS n${i}`,
      `count(*) FILTER (WHERE ${text}) AS t${i}`,
      `count(DISTINCT trim(${sqlIdent(c)})) FILTER (WHERE ${present(c)}) AS d${i}`,
      `coalesce(bool_and(${number(c)} = trunc(${number(c)})) FILTER (WHERE ${isNumber(c)}), true) AS i${i}`,
      `arg_min(trim(${sqlIdent(c)}), __line) FILTER (WHERE ${text}) AS v${i}`,
      `min(__line) FILTER (WHERE ${text}) AS l${i}`,
    ]
  })
  const [row] = (await query(db, `SELECT ${aggregates.join(', ')} FROM src`)).rows
  return columns.map((name, i) => {
    const [numeric, text, distinct, integral, value, line] = row!.slice(i * 6, i * 6 + 6)
    const profile: ColumnProfile = { name, numeric: Number(numeric), text: Number(text), distinct: Number(distinct), integral: Boolean(integral) }
    if (typeof value === 'string') profile.example = { value, line: Number(line) }
    return profile
  })
}

/**
 * Per column used (features, then the target): the raw values that are missing or not a number, which the model
 * never sees (their rows are dropped). A class label only counts when it is missing.
 */
function missingValues(profiles: readonly ColumnProfile[], rawRows: number, features: readonly string[], target: string, numericTarget: boolean): Record<string, number> {
  const byName = new Map(profiles.map((p) => [p.name, p]))
  const missing = (column: string, textIsValid: boolean) => {
    const profile = byName.get(column)!
    return rawRows - profile.numeric - (textIsValid ? profile.text : 0)
  }
  return Object.fromEntries([...features.map((f) => [f, missing(f, false)] as const), [target, missing(target, !numericTarget)] as const])
}

async function firstInvalidValue(db: Db, columns: readonly string[]): Promise<{ line: number; column: string; value: string } | undefined> {
  const parts = columns.map((c) => `SELECT __line, ${sqlString(c)} AS col, trim(${sqlIdent(c)}) AS value FROM src WHERE ${present(c)} AND NOT ${isNumber(c)}`)
  const [row] = (await query(db, `${parts.join(' UNION ALL ')} ORDER BY __line LIMIT 1`)).rows
  return row ? { line: Number(row[0]), column: String(row[1]), value: String(row[2]) } : undefined
}

async function countRows(db: Db, target: string, numericTarget: boolean, features: readonly string[]): Promise<RowCounts> {
  const targetOk = numericTarget ? `${present(target)} AND ${isNumber(target)}` : present(target)
  const [row] = (
    await query(
      db,
      `SELECT
        (SELECT count(*) FROM src),
        (SELECT count(*) FROM src WHERE NOT ${present(target)}),
        (SELECT count(*) FROM src WHERE ${present(target)} AND NOT (${[targetOk, ...features.map(isNumber)].join(' AND ')})),
        (SELECT count(*) FROM typed) - (SELECT count(*) FROM staged),
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

function summary(d: DatasetDescription): string {
  const r = d.rows
  const target = d.target.type === 'category' ? `${d.target.name} (${d.target.classes.length} classes)` : `${d.target.name} (number)`
  return [
    `generate-dataset: ${d.files.raw} -> ${d.files.staging} -> ${d.files.train}, ${d.files.test}`,
    `  task ${d.task}, target ${target}, ${d.features.length} features`,
    '',
    formatTable([
      ['rows', 'count'],
      ['read', r.raw],
      ['dropped: missing target', r.missing_target],
      ['dropped: empty or non-numeric value', r.invalid_values],
      ['dropped: duplicate', r.duplicates],
      ['kept', r.kept],
      [`train${d.split.stratified ? ' (stratified)' : ''}`, r.train],
      [`test (${d.split.test_size * 100}%, seed ${d.split.seed})`, r.test],
    ]),
  ].join('\n')
}

export async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((arg) => arg !== '--verbose')
  if (unknown.length > 0) throw new MlskelError('MLSKEL_USAGE', `generate-dataset takes no arguments (got ${unknown.join(' ')}); it reads params.yaml`)
  await generateDataset({ print: true })
}

await runScript(import.meta.url, main)
