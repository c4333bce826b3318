// predict: predict an input file (CSV or Parquet; default: the test split's features) with the newest model (or
// --model <id>), write data/predictions/<input name>.csv and its metadata record (<input name>.json, mlskel's
// recordPrediction), and log that record as one JSON line.
import { existsSync } from 'node:fs'
import { basename, extname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { emptyRow, encodeText, encodeValue, hashBytes, inputSchemaOf, loadModel, MlskelError, recordPrediction, runScript, stageContext, writeFileAtomic, type InputSchema, type LoadedModel, type PredictionRecord, type UnseenCategory } from 'mlskel'
import { projectRelative, readDatasetDescription, readTable, withDuckDB, type Table } from '../helpers/index.js'
import { loadProject } from '../settings.js'

export interface PredictOptions {
  /** Project root; found from the current folder when absent. */
  root?: string
  /** A model id or a unique prefix of one; the newest model when absent. */
  model?: string
  /** CSV or Parquet file with the model's feature columns; the test split when absent. */
  input?: string
  /** Print the metadata line on stdout (the CLI does; tests need not). */
  print?: boolean
}

/** Predict, write the predictions and their metadata record (data/predictions/<input name>.json), and return the record. */
export async function predict(options: PredictOptions = {}): Promise<PredictionRecord> {
  const start = performance.now()
  // 1. the model and the input
  const { root, paths } = loadProject(options.root)
  const stage = await stageContext({ root, env: process.env, argv: process.argv })
  const log = options.print ? (line: string) => console.error(line) : undefined
  const loaded = await loadModel(paths.models, { ...(options.model ? { id: options.model } : {}), metadataDir: paths.metadata })
  const inputFile = options.input ? resolve(options.input) : resolve(root, (await readDatasetDescription(paths.transformed, root)).files.test)
  const inputLabel = inputFile.startsWith(root) ? projectRelative(root, inputFile) : inputFile
  if (!existsSync(inputFile)) {
    throw new MlskelError('MLSKEL_FILE_MISSING', `input ${inputLabel} does not exist`, { where: { file: inputLabel }, fix: 'Pass --input a CSV or Parquet file that exists (paths are relative to the current folder).' })
  }

  // 2. the columns the model reads, through its signature's encoder (CSV cells as text, as generate-dataset read
  // the raw file); identifiers travel to the output beside each prediction
  const schema = inputSchemaOf(loaded.manifest.signature)
  const isCsv = extname(inputFile).toLowerCase() !== '.parquet'
  const description = await readDatasetDescription(paths.transformed, root).catch(() => undefined)
  const table = await withDuckDB((db) => readTable(db, inputFile, undefined, { allText: isCsv }))
  const identifiers = (description?.identifiers ?? []).filter((c) => table.columns.includes(c))
  const unseen = new Map<string, number>()
  const X = modelRows(table, schema, inputLabel, isCsv, (field) => unseen.set(field, (unseen.get(field) ?? 0) + 1))
  for (const [field, count] of unseen) log?.(`predict: ${count} value${count === 1 ? '' : 's'} of ${field} never seen in training, predicted as missing`)

  // 3. predict, and write the predictions beside the identifiers and inputs they came from
  const csv = await predictionsCsv(loaded, table, [...identifiers, ...schema.names], X)
  const outputFile = join(paths.predictions, `${basename(inputFile, extname(inputFile))}.csv`)
  await writeFileAtomic(outputFile, csv)
  const record = await recordPrediction({
    root,
    modelId: loaded.manifest.id,
    input: inputFile,
    inputSha256: await stage.hash(inputFile),
    output: outputFile,
    outputSha256: hashBytes(csv),
    rows: X.length,
    seconds: Number(((performance.now() - start) / 1000).toFixed(3)),
  })
  if (options.print) console.log(JSON.stringify(record))
  return record
}

/**
 * The model's rows from the input columns of `table` (any order; other columns are ignored): CSV cells read as text
 * with the data set's missing-value tokens, Parquet values as they are typed. Clear errors for missing columns and
 * values of the wrong type, naming the line (CSV) or row (Parquet) and the column.
 */
export function modelRows(table: Table, schema: InputSchema, inputLabel: string, isCsv: boolean, unseen?: UnseenCategory): number[][] {
  const missing = schema.names.filter((f) => !table.columns.includes(f))
  if (missing.length > 0) {
    throw new MlskelError('MLSKEL_DATA_MISSING_COLUMNS', `${inputLabel} lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} the model needs (it has: ${table.columns.join(', ')})`, {
      where: { file: inputLabel },
    })
  }
  const indices = schema.names.map((f) => table.columns.indexOf(f))
  return table.rows.map((values, r) => {
    const row = emptyRow(schema)
    schema.fields.forEach((field, i) => {
      const value = values[indices[i]!]
      const problem = isCsv ? encodeText(schema, field, value === null ? '' : String(value), row, unseen) : encodeValue(field, value, row, unseen)
      if (problem === undefined) return
      // CSV rows are numbered by file line (after the header); Parquet rows from 1
      const where = isCsv ? { file: inputLabel, line: r + 2, field: field.name } : { file: inputLabel, field: field.name }
      throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `${isCsv ? '' : `row ${r + 1}: `}column ${JSON.stringify(field.name)} ${problem}`, {
        where,
        fix: `Give ${field.name} ${field.type === 'number' ? 'a number' : field.type === 'boolean' ? 'true or false' : field.type === 'datetime' ? 'a date (ISO 8601, or as the training data wrote them)' : 'a category'} or leave it empty (a missing value) in every row of the input file.`,
      })
    })
    return row
  })
}

async function predictionsCsv(loaded: LoadedModel, table: Table, columns: readonly string[], X: number[][]): Promise<string> {
  const { predictor } = loaded
  // a big file on every core when the model kind can (mlskel's can), else row by row
  const batch = predictor.predictBatch
    ? await predictor.predictBatch(X, { probabilities: Boolean(predictor.predictProba) })
    : { predictions: predictor.predict(X), probabilities: predictor.predictProba?.(X) }
  const { predictions } = batch
  const probabilities = batch.probabilities?.map((row) => Math.max(...row))
  const at = columns.map((c) => table.columns.indexOf(c))
  const header = [...columns, 'prediction', ...(probabilities ? ['probability'] : [])]
  const lines = table.rows.map((row, r) => [...at.map((i) => csvCell(row[i] ?? '')), csvCell(predictions[r]!), ...(probabilities ? [String(probabilities[r])] : [])].join(','))
  return `${[header.map(csvCell).join(','), ...lines].join('\n')}\n`
}

function csvCell(value: string | number | boolean): string {
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export const USAGE = `Usage: tsx src/model/predict.ts [--model <id>] [--input <file>]

Predict with a trained model and write data/predictions/<input name>.csv.

Options:
  --model <id>     a model id, or a unique prefix of one (default: the newest model)
  --input <file>   a CSV or Parquet file with the model's feature columns (default: the test split)
  --verbose        show stack traces
  -h, --help       show this help`

export async function main(argv: string[]): Promise<void> {
  let values: { model?: string | undefined; input?: string | undefined; help?: boolean | undefined }
  try {
    ;({ values } = parseArgs({ args: argv, options: { model: { type: 'string' }, input: { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }))
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new MlskelError('MLSKEL_USAGE', `predict: ${reason}`, { fix: 'predict takes --model <id> (default: the newest model) and --input <file.csv|file.parquet> (default: the test split).' })
  }
  if (values.help) {
    console.log(USAGE)
    return
  }
  await predict({ model: values.model, input: values.input, print: true })
}

await runScript(import.meta.url, main)
