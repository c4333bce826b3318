// predict: predict an input file (CSV or Parquet; default: the test split's features) with the newest model (or
// --model <id>), write data/predictions/<input name>.csv and its metadata record (<input name>.json, mlskel's
// recordPrediction), and log that record as one JSON line.
import { existsSync } from 'node:fs'
import { basename, extname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { hashBytes, hashFile, loadModel, MlskelError, recordPrediction, runScript, writeFileAtomic, type LoadedModel, type PredictionRecord } from 'mlskel'
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
  const loaded = await loadModel(paths.models, { ...(options.model ? { id: options.model } : {}), metadataDir: paths.metadata })
  const inputFile = options.input ? resolve(options.input) : resolve(root, (await readDatasetDescription(paths.transformed, root)).files.test)
  const inputLabel = inputFile.startsWith(root) ? projectRelative(root, inputFile) : inputFile
  if (!existsSync(inputFile)) {
    throw new MlskelError('MLSKEL_FILE_MISSING', `input ${inputLabel} does not exist`, { where: { file: inputLabel }, fix: 'Pass --input a CSV or Parquet file that exists (paths are relative to the current folder).' })
  }

  // 2. its feature columns, as numbers, in the model's order
  const features = loaded.manifest.signature.features.map((f) => f.name)
  const table = await withDuckDB((db) => readTable(db, inputFile))
  const X = featureRows(table, features, inputLabel, extname(inputFile).toLowerCase() !== '.parquet')

  // 3. predict, and write the predictions beside the features they came from
  const csv = await predictionsCsv(loaded, features, X)
  const outputFile = join(paths.predictions, `${basename(inputFile, extname(inputFile))}.csv`)
  await writeFileAtomic(outputFile, csv)
  const record = await recordPrediction({
    root,
    modelId: loaded.manifest.id,
    input: inputFile,
    inputSha256: await hashFile(inputFile),
    output: outputFile,
    outputSha256: hashBytes(csv),
    rows: X.length,
    seconds: Number(((performance.now() - start) / 1000).toFixed(3)),
  })
  if (options.print) console.log(JSON.stringify(record))
  return record
}

/** The feature columns of `table` as rows of numbers; clear errors for missing columns and non-numbers. */
export function featureRows(table: Table, features: readonly string[], inputLabel: string, isCsv: boolean): number[][] {
  const missing = features.filter((f) => !table.columns.includes(f))
  if (missing.length > 0) {
    throw new MlskelError('MLSKEL_DATA_MISSING_COLUMNS', `${inputLabel} lacks the feature column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} the model needs (it has: ${table.columns.join(', ')})`, {
      where: { file: inputLabel },
    })
  }
  const indices = features.map((f) => table.columns.indexOf(f))
  return table.rows.map((row, r) =>
    indices.map((index, i) => {
      const value = row[index]
      const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN
      if (Number.isFinite(number)) return number
      // CSV rows are numbered by file line (after the header); Parquet rows from 1
      const where = isCsv ? { file: inputLabel, line: r + 2, field: features[i]! } : { file: inputLabel, field: features[i]! }
      throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `${isCsv ? '' : `row ${r + 1}: `}column ${JSON.stringify(features[i])} holds ${JSON.stringify(value)}, which is not a number`, {
        where,
        fix: 'Give every feature a number in the input file; rows with missing or text values cannot be predicted.',
      })
    }),
  )
}

async function predictionsCsv(loaded: LoadedModel, features: readonly string[], X: number[][]): Promise<string> {
  const { predictor } = loaded
  // a big file on every core when the model kind can (mlskel's can), else row by row
  const batch = predictor.predictBatch
    ? await predictor.predictBatch(X, { probabilities: Boolean(predictor.predictProba) })
    : { predictions: predictor.predict(X), probabilities: predictor.predictProba?.(X) }
  const { predictions } = batch
  const probabilities = batch.probabilities?.map((row) => Math.max(...row))
  const header = [...features, 'prediction', ...(probabilities ? ['probability'] : [])]
  const lines = X.map((row, r) => [...row.map(String), csvCell(predictions[r]!), ...(probabilities ? [String(probabilities[r])] : [])].join(','))
  return `${[header.map(csvCell).join(','), ...lines].join('\n')}\n`
}

function csvCell(value: string | number): string {
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
