// `mlskel models import`: bring a model trained elsewhere into a project as a model of its own. The file's content
// chooses the kind (XGBoost's JSON, or ONNX), the file gives the signature (completed by --target, --task and the
// columns of --data, or replaced by the project's own data set when the file fits it), mlskel scores it on hold-out
// data when there is any, and the model folder (with the original file in it) and its record are written as a
// training writes them: the folder pending until the record commits it.
import { readFile, stat } from 'node:fs/promises'
import { basename, isAbsolute, relative, resolve, sep } from 'node:path'
import { emptyRow, encodeText, encodeValue, inputSchemaOf, readBoolean, readNumber, type InputField, type InputSchema } from '../data/index.js'
import { MlskelError, quote } from '../errors/index.js'
import { hashBytes } from '../hashing/index.js'
import { recordImport, type ImportedFile, type MetadataRecord, type RecordImportOptions } from '../metadata/index.js'
import { describeKind, modelFileFormat, ONNX, readOnnxModel, readXgboostModel, saveModel, scoreHoldOut, type Dataset, type ModelFileFormat, type Predictor, type RawValue, type SavedModel, type Signature } from '../models/index.js'
import type { Task } from '../params/index.js'
import { loadSettings, projectPaths, settingsSchema } from '../settings/index.js'
import { readProjectDataset, readTable, type Cell, type ProjectDataset, type Table } from './data.js'

export interface ImportOptions {
  /** The project root. */
  root: string
  /** The model file: absolute, or relative to `cwd`. */
  file: string
  /** A name for the model, said in its description (default: the file's name). */
  name?: string
  /** classification or regression: checked against the file (XGBoost's objective says it), or telling an ONNX graph's one value per row apart. */
  task?: Task
  /** The target's name (default: the data's, or "target"). */
  target?: string
  /** CSV or Parquet holding the features and the target: names what the file does not, and is scored on. */
  data?: string
  /** Where relative paths start (default: the current folder). */
  cwd?: string
  /** The import's command line, for the record. */
  command?: string[]
  /** The record's run id (default: a new one, newRunId). */
  runId?: string
}

export interface ImportResult {
  /** The metadata record written (source imported). */
  record: MetadataRecord
  /** The model folder written, with the original file in it. */
  model: SavedModel
  /** The record's file, relative to the project root. */
  recordFile: string
  /** Why the model has no hold-out scores; undefined when it has them. */
  unscored?: string
}

/** Where the signature came from, and the rows to score on (raw cells, the target last), if any. */
interface Resolved {
  predictor: Predictor
  signature: Signature
  task: Task
  producer: { tool: string; version: string }
  from: ImportedFile['signature']
  holdOut?: { file: string; from: 'data' | 'project'; rows: Cell[][] }
  unscored?: string
  warnings: string[]
}

/** What a reader is told, besides the file. */
interface ReadHints {
  featureNames?: string[]
  classes?: (string | number)[]
  target?: string
  task?: Task
  signature?: Signature
}

type Read = (hints: ReadHints) => { predictor: Predictor; signature: Signature; task: Task; producer: { tool: string; version: string }; named: boolean; labelled: boolean }

/**
 * Import the model file `o.file` into the project at `o.root` (`mlskel models import`): its kind by its content, its
 * signature, hold-out scores when there is data, the model folder and its record. Refusals are coded MlskelErrors, and
 * nothing is written then.
 */
export async function importModel(o: ImportOptions): Promise<ImportResult> {
  const started = performance.now()
  const cwd = o.cwd ?? process.cwd()
  const root = resolve(o.root)
  const paths = projectPaths(root, loadSettings(settingsSchema, { root }))
  const file = resolve(cwd, o.file)
  const shown = display(root, file)
  if (o.name !== undefined && (o.name.trim() === '' || /[\r\n]/.test(o.name) || o.name.length > 200)) {
    throw new MlskelError('MLSKEL_USAGE', `--name takes one line of text (at most 200 characters), got ${quote(o.name)}`, { exitCode: 2 })
  }
  if (o.target !== undefined && o.target.trim() === '') throw new MlskelError('MLSKEL_USAGE', '--target takes a column name, got an empty one', { exitCode: 2 })
  const bytes = await readModelFile(file, shown)
  const found = modelFileFormat(bytes)
  if (found.format === null) {
    throw new MlskelError('MLSKEL_IMPORT_FORMAT_UNKNOWN', `not a model mlskel imports: ${found.why}`, { where: { file: shown }, ...(found.fix ? { fix: found.fix } : {}) })
  }
  const read = reader(found.format, bytes, o.task, shown)
  const resolved = o.data !== undefined ? await withData(read, o, resolve(cwd, o.data), root) : await withoutData(read, o, paths.transformed, root)
  const { predictor, signature, task } = resolved
  const loaded = performance.now()

  // score on the hold-out rows: those whose target is there and whose values the signature reads
  const scored = resolved.holdOut && holdOutSet(resolved.holdOut.rows, signature, task, display(root, resolved.holdOut.file))
  const assessed = scored && (await scoreHoldOut(task, predictor, scored.data))
  const holdOut: RecordImportOptions['holdOut'] =
    resolved.holdOut && scored && assessed
      ? {
          path: display(root, resolved.holdOut.file),
          sha256: hashBytes(await readFile(resolved.holdOut.file)),
          from: resolved.holdOut.from,
          dropped: scored.dropped,
          summary: assessed.summary,
          scores: assessed.scores,
        }
      : undefined
  const evaluated = performance.now()

  const description = describe(o.name, found.format, task, signature, basename(file))
  const model = await saveModel(paths.models, predictor, { description, inputExample: scored?.example ?? [], source: { path: `source.${found.format === ONNX ? 'onnx' : 'json'}`, bytes } })
  const inProject = insideProject(root, file)
  const record = await recordImport({
    root,
    metadataDir: paths.metadata,
    model,
    description,
    task,
    imported: { file: basename(file), path: inProject, sha256: hashBytes(bytes), size: bytes.byteLength, tool: resolved.producer.tool, tool_version: resolved.producer.version, signature: resolved.from },
    ...(holdOut ? { holdOut } : {}),
    ...(o.runId ? { runId: o.runId } : {}),
    ...(o.command ? { command: o.command } : {}),
    ...(predictor.importances ? { importances: predictor.importances() } : {}),
    warnings: [...(predictor.warnings ?? []), ...resolved.warnings],
    durations: { load: seconds(loaded - started), evaluate: seconds(evaluated - loaded), save: seconds(performance.now() - evaluated) },
    // data the pipeline rebuilds never makes the project's code dirty (as a training excludes it)
    gitExclude: [paths.staging, paths.transformed, paths.predictions].map((dir) => relative(root, dir).split(sep).join('/')),
  })
  return { record, model, recordFile: relative(root, resolve(paths.metadata, `${record.run_id}.json`)).split(sep).join('/'), ...(resolved.unscored ? { unscored: resolved.unscored } : {}) }
}

async function readModelFile(file: string, shown: string): Promise<Uint8Array> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined
    throw error
  })
  if (!info) throw new MlskelError('MLSKEL_FILE_MISSING', 'the model file does not exist', { where: { file: shown }, fix: 'Give the path of the model file: XGBoost\'s JSON (`save_model("model.json")`) or an ONNX file.' })
  if (!info.isFile()) throw new MlskelError('MLSKEL_FILE_MISSING', 'a folder, not a model file', { where: { file: shown }, fix: 'Give the path of the model file itself: XGBoost\'s JSON or an ONNX file.' })
  try {
    return new Uint8Array(await readFile(file))
  } catch (error) {
    throw new MlskelError('MLSKEL_READ_FAILED', `the model file cannot be read: ${(error as Error).message}`, { where: { file: shown }, cause: error })
  }
}

/** The kind's reader of these bytes; --task is checked against an XGBoost file (its objective says the task). */
function reader(format: ModelFileFormat, bytes: Uint8Array, task: Task | undefined, shown: string): Read {
  if (format === ONNX) {
    return (h) => readOnnxModel(bytes, { ...definedOf(h), ...(task ? { task } : {}) })
  }
  return (h) => {
    const { task: _task, ...rest } = h
    const result = readXgboostModel(bytes, definedOf(rest))
    if (task !== undefined && result.task !== task) {
      throw new MlskelError('MLSKEL_IMPORT_TASK_MISMATCH', `--task ${task} was given, but the file is an XGBoost ${result.task} (objective ${result.objective})`, { where: { file: shown, field: 'learner.objective' } })
    }
    return { ...result, producer: { ...result.producer } }
  }
}

/** The hints that are set (exactOptionalPropertyTypes: an option is absent, never undefined). */
function definedOf<T extends object>(hints: T): T {
  return Object.fromEntries(Object.entries(hints).filter(([, v]) => v !== undefined)) as T
}

// ---------------------------------------------------------------------------------------------------------------
// The signature with --data: its columns name what the file does not, and its rows are the hold-out

async function withData(read: Read, o: ImportOptions, dataFile: string, root: string): Promise<Resolved> {
  const shown = display(root, dataFile)
  if (!(await stat(dataFile).then((s) => s.isFile(), () => false))) {
    throw new MlskelError('MLSKEL_FILE_MISSING', 'the --data file does not exist', { where: { file: shown }, fix: 'Give --data a CSV or Parquet file holding the model\'s features and its target.' })
  }
  const table = await readTable(dataFile, shown)
  const { columns } = table
  const mismatch = (why: string, fix?: string) => new MlskelError('MLSKEL_IMPORT_DATA_MISMATCH', `the --data file ${why}`, { where: { file: shown }, ...(fix ? { fix } : {}) })
  // the file alone first: it may name its features (XGBoost's feature_names, one ONNX input per feature), and an
  // mlskel export its target; a graph whose width only names can give is read again below
  let probe: ReturnType<Read> | undefined
  let probeError: unknown
  try {
    probe = read(o.target ? { target: o.target } : {})
  } catch (error) {
    probeError = error
  }
  const fileFeatures = probe?.named ? probe.signature.features.map((f) => f.name) : undefined
  const target = o.target ?? targetOf(probe, fileFeatures, columns)
  if (target === undefined) throw mismatch(`has ${columns.length} columns (${list(columns)}), and nothing says which is the target`, 'Name the target column with --target.')
  if (!columns.includes(target)) throw mismatch(`has no column ${quote(target)} (the target; its columns: ${list(columns)})`, 'Give --data a file with the target column, or name the one it has with --target.')
  let featureNames: string[] | undefined
  if (fileFeatures) {
    const absent = fileFeatures.filter((name) => !columns.includes(name))
    if (absent.length > 0) throw mismatch(`lacks ${absent.length === 1 ? 'the feature column' : 'feature columns'} ${list(absent)} that the model takes (it has ${list(columns)})`, `Give --data a file holding every feature the model takes (${list(fileFeatures)}) and the target.`)
  } else {
    featureNames = columns.filter((c) => c !== target)
    const width = probe?.signature.features.length
    if (width !== undefined && featureNames.length !== width) {
      throw mismatch(`has ${featureNames.length} columns besides the target ${quote(target)}, and the model takes ${width} features, which the model file does not name`, `Give --data exactly the model's ${width} feature columns, in the order the model takes them, and the target.`)
    }
  }
  if (!probe && !featureNames) throw probeError
  let result = read({ ...(featureNames ? { featureNames } : {}), target })
  const names = result.signature.features.map((f) => f.name)
  const rows = pick(table, [...inputSchemaOf(result.signature).names, target])
  const warnings: string[] = []
  let from: ImportedFile['signature'] = featureNames || o.target === undefined ? 'data' : 'file'
  if (result.task === 'classification' && !result.labelled) {
    // the file numbers its classes 0 … k-1: the data's target either holds those numbers, or k labels, which take
    // the numbers in sorted order (as scikit-learn's LabelEncoder, which XGBoost's classifier asks for, gives them)
    const k = (result.signature.target as { classes: unknown[] }).classes.length
    const missingText = inputSchemaOf(result.signature).missingText
    const values = distinct(rows.map((row) => row[row.length - 1] ?? null).filter((v) => !(typeof v === 'string' && missingText.has(v.trim()))))
    if (!values.every((v) => /^\d+$/.test(v) && Number(v) < k)) {
      if (values.length !== k) {
        throw mismatch(`holds ${values.length} values of the target ${quote(target)} (${list(values)}), and the model predicts ${k} classes that the model file does not name (0 … ${k - 1})`, `Give --data the target as the model was trained on it: its class numbers 0 … ${k - 1}, or its ${k} labels (taken in sorted order).`)
      }
      const numeric = values.every((v) => Number.isFinite(readNumber(v)))
      const classes = numeric ? values.map((v) => readNumber(v)).sort((a, b) => a - b) : [...values].sort()
      result = read({ ...(featureNames ? { featureNames } : {}), target, classes })
      from = 'data'
      warnings.push(`the file numbers its classes 0 … ${k - 1} without naming them: they were named from the target of ${shown} in sorted order (${list(classes.map(String))}), as scikit-learn's LabelEncoder numbers labels; the hold-out scores show whether that was the model's order`)
    }
  }
  if (!fileFeatures && names.length > 0) warnings.push(`the file does not name its features: they were named from the columns of ${shown}, in order (${list(names)})`)
  return { predictor: result.predictor, signature: result.signature, task: result.task, producer: result.producer, from, holdOut: { file: dataFile, from: 'data', rows }, warnings }
}

/** The target's column when --target does not say: an mlskel export's, else the one column that is no feature. */
function targetOf(probe: ReturnType<Read> | undefined, features: string[] | undefined, columns: string[]): string | undefined {
  const own = probe?.signature.target.name
  if (own !== undefined && own !== 'target' && columns.includes(own)) return own
  if (features) {
    const rest = columns.filter((c) => !features.includes(c))
    if (rest.length === 1) return rest[0]
  }
  return columns.includes('target') ? 'target' : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// The signature without --data: the project's data set when the file fits it, else the file's own

async function withoutData(read: Read, o: ImportOptions, transformedDir: string, root: string): Promise<Resolved> {
  const own = read(o.target ? { target: o.target } : {})
  const base = { predictor: own.predictor, signature: own.signature, task: own.task, producer: own.producer, from: 'file' as const, warnings: unnamedWarning(own) }
  const project = await readProjectDataset(transformedDir)
  if (!project.dataset) return { ...base, unscored: `no data to score it on: no --data, and ${project.why}` }
  const fits = projectFit(read, own, project.dataset, o)
  if ('why' in fits) return { ...base, unscored: `no data to score it on: no --data, and the project's data set does not fit the model: ${fits.why}` }
  const test = resolve(root, project.dataset.test)
  if (!(await stat(test).then((s) => s.isFile(), () => false))) return { ...base, unscored: `no data to score it on: the project's test split ${project.dataset.test} is not there (run the pipeline)` }
  const signature = fits.result.signature
  const rows = (await readTable(test, display(root, test), [...inputSchemaOf(signature).names, signature.target.name])).rows
  return { predictor: fits.result.predictor, signature, task: fits.result.task, producer: own.producer, from: 'project', holdOut: { file: test, from: 'project', rows }, warnings: [] }
}

/** The file read with the project's signature, or why it does not fit it. */
function projectFit(read: Read, own: ReturnType<Read>, dataset: ProjectDataset, o: ImportOptions): { result: ReturnType<Read> } | { why: string } {
  const names = dataset.signature.features.map((f) => f.name)
  if (o.target !== undefined && o.target !== dataset.signature.target.name) return { why: `--target ${quote(o.target)} is not its target ${quote(dataset.signature.target.name)}` }
  if (own.task !== dataset.task) return { why: `it is a ${dataset.task}, the model a ${own.task}` }
  // a file that does not name its features (f0 … fn) could take any columns: a count that agrees proves nothing
  if (!own.named) return { why: 'the file does not name its features, so nothing shows they are the data set\'s (give --data to name them)' }
  const mine = own.signature.features.map((f) => f.name)
  if (mine.join('\u0000') !== names.join('\u0000')) return { why: `the model takes ${list(mine)}, the data set has ${list(names)}` }
  try {
    return { result: read({ signature: dataset.signature }) }
  } catch (error) {
    if (error instanceof MlskelError) return { why: error.message }
    throw error
  }
}

function unnamedWarning(result: ReturnType<Read>): string[] {
  return result.named ? [] : [`the file does not name its features: they are ${list(result.signature.features.map((f) => f.name))} (give --data to name them from its columns)`]
}

// ---------------------------------------------------------------------------------------------------------------
// Hold-out rows

/**
 * The rows the model is scored on, encoded as its signature reads raw values (as the server does); a row without a
 * target, or with a value the signature cannot read (or a class the model does not have), is dropped and counted.
 */
function holdOutSet(rows: Cell[][], signature: Signature, task: Task, shown: string): { data: Dataset; dropped: Record<string, number>; example: Record<string, RawValue>[] } {
  const schema = inputSchemaOf(signature)
  const classes = signature.target.type === 'category' ? new Map(signature.target.classes.map((c) => [String(c), c])) : undefined
  const X: number[][] = []
  const y: (string | number)[] = []
  const example: Record<string, RawValue>[] = []
  const dropped = { missing_target: 0, invalid_values: 0, unknown_class: 0 }
  for (const cells of rows) {
    const value = cells[schema.names.length] ?? null
    const text = typeof value === 'string' ? value.trim() : undefined
    if (value === null || (text !== undefined && schema.missingText.has(text))) {
      dropped.missing_target++
      continue
    }
    const label = classes ? classes.get(text ?? String(value)) : text !== undefined ? readNumber(text, schema.decimal) : typeof value === 'number' ? value : NaN
    if (label === undefined || (typeof label === 'number' && !Number.isFinite(label))) {
      if (classes) dropped.unknown_class++
      else dropped.invalid_values++
      continue
    }
    const row = emptyRow(schema)
    // a CSV's cells are text, read as the server reads a CSV body; Parquet's are typed, read as JSON values are
    if (schema.fields.some((field, i) => { const cell = cells[i] ?? null; return (typeof cell === 'string' ? encodeText(schema, field, cell, row) : encodeValue(field, cell, row)) !== undefined })) {
      dropped.invalid_values++
      continue
    }
    X.push(row)
    y.push(label)
    if (example.length < 3) example.push(Object.fromEntries(schema.fields.map((field, i) => [field.name, rawOf(schema, field, cells[i] ?? null)])))
  }
  if (X.length === 0) {
    throw new MlskelError('MLSKEL_IMPORT_DATA_MISMATCH', `no row to score the model on: of its ${rows.length} rows, ${dropped.missing_target} lack the target, ${dropped.invalid_values} hold a value the model's signature cannot read${classes ? `, ${dropped.unknown_class} a class the model does not predict (${list([...classes.keys()])})` : ''}`, {
      where: { file: shown },
    })
  }
  return { data: { X, y }, dropped: Object.fromEntries(Object.entries(dropped).filter(([, n]) => n > 0)), example }
}

/** A cell as a request would send it (the model's input example): a number as a number, a boolean as a boolean. */
function rawOf(schema: InputSchema, field: InputField, cell: Cell): RawValue {
  if (typeof cell !== 'string') return cell
  const t = cell.trim()
  if (schema.missingText.has(t)) return null
  if (field.type === 'number') return readNumber(t, schema.decimal)
  if (field.type === 'boolean') return readBoolean(t, true) === 1
  return t
}

// ---------------------------------------------------------------------------------------------------------------
// Words and paths

function describe(name: string | undefined, format: ModelFileFormat, task: Task, signature: Signature, file: string): string {
  const what = `${describeKind(format, task)} predicting ${signature.target.name} from ${signature.features.length} feature${signature.features.length === 1 ? '' : 's'}, imported from ${file}`
  return name ? `${name.trim()}: ${what}` : what
}

/** A path inside the project, relative to its root with / separators; null outside it. */
function insideProject(root: string, file: string): string | null {
  const rel = relative(root, file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : null
}

/** How a path is said and recorded: relative to the project root inside it, else the file's name alone. */
function display(root: string, file: string): string {
  return insideProject(root, file) ?? basename(file)
}

/** The table's rows, cut to these columns in this order (every one is among its columns). */
function pick(table: Table, names: readonly string[]): Cell[][] {
  const at = names.map((name) => table.columns.indexOf(name))
  return table.rows.map((row) => at.map((i) => row[i] ?? null))
}

/** The values of a column as text (a Parquet column's typed values too), each once, in order of appearance. */
function distinct(values: Cell[]): string[] {
  return [...new Set(values.filter((v) => v !== null).map((v) => String(v).trim()))]
}

function list(values: readonly string[]): string {
  const shown = values.slice(0, 8).map((v) => quote(v))
  return `${shown.join(', ')}${values.length > 8 ? `, and ${values.length - 8} more` : ''}`
}

function seconds(ms: number): number {
  return Number((ms / 1000).toFixed(3))
}
