// The delivery report: one self-contained HTML page on a trained model, for whoever receives it. Everything comes
// from the run's metadata record; the model and the data it was scored on add per-row charts when they are still
// there and unchanged (checked against the record's hashes), and the page says so when they are not.
import { stat } from 'node:fs/promises'
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { emptyRow, encodeValue, inputSchemaOf } from '../data/index.js'
import { MlskelError } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'
import { hashFile } from '../hashing/index.js'
import { readRecords, type MetadataRecord } from '../metadata/index.js'
import { loadSavedModel, type FeatureImportance, type HoldOutSummary, type Predictor, type Signature } from '../models/index.js'
import { getAt } from '../params/index.js'
import { resolveRun } from '../runs/index.js'
import { loadSettings, projectPaths, settingsSchema } from '../settings/index.js'
import { renderSvg, type ChartSpec } from './charts.js'
import * as spec from './delivery-charts.js'
import { sqlIdent, sqlString, withDuckDB, type Db } from './duckdb.js'
import { definitions, escapeHtml, figure, htmlPage, table, type ReportSection } from './html.js'
import { mlskelVersion } from '../package/index.js'


/** The report of the newest run; a report of an older one is named delivery-<run id>.html, so it never replaces it. */
export const DELIVERY_FILE = 'delivery.html'

export interface DeliveryOptions {
  root: string
  /** A run id, a unique prefix of one, or 'latest' (the default). */
  run?: string
  /** The folder to write to, absolute or relative to root; default <root>/reports. */
  out?: string
  /** When the report is made (shown in its footer); default now. */
  now?: Date
}

export interface DeliveryResult {
  /** The HTML file written. */
  path: string
  runId: string
  /** SVG charts in the page. */
  charts: number
  bytes: number
}

export async function deliveryReport(o: DeliveryOptions): Promise<DeliveryResult> {
  // 1. the run
  const paths = projectPaths(o.root, loadSettings(settingsSchema, { root: o.root }))
  const records = await readRecords(paths.metadata)
  const record = pickRun(records, o.run ?? 'latest', paths.metadata)

  // 2. what the model and the data add to the record; each may be gone, and the page then says why
  const evidence = await gatherEvidence(o.root, paths.models, record)

  // 3. the sections and their charts, rendered together
  const charts = chartCounter()
  const sections = await Promise.all([
    modelCard(record, o.root),
    scoresSection(record),
    historySection(records, record, charts),
    evaluationSection(record, evidence, charts),
    importanceSection(record, evidence, charts),
    featuresSection(record, evidence, charts),
    targetSection(record, evidence, charts),
  ])

  // 4. the page, written atomically
  const html = htmlPage({ title: `Delivery report: ${record.description}`, subtitle: `run ${record.run_id} · model ${record.model_id} · ${record.task}`, sections, generatedAt: o.now, generator: `mlskel ${mlskelVersion()}` })
  const file = join(resolve(o.root, o.out ?? 'reports'), record.run_id === records[0]?.run_id ? DELIVERY_FILE : `delivery-${record.run_id}.html`)
  await writeFileAtomic(file, html)
  return { path: file, runId: record.run_id, charts: charts.count, bytes: Buffer.byteLength(html) }
}

/** The run to report on; an unknown id or no records at all is MLSKEL_REPORT_NO_RUN, with the runs module's message. */
function pickRun(records: readonly MetadataRecord[], id: string, metadataDir: string): MetadataRecord {
  if (records.length === 0) {
    throw new MlskelError('MLSKEL_REPORT_NO_RUN', `no training is recorded in ${metadataDir}, so there is no model to report on`, { where: { file: metadataDir } })
  }
  try {
    return resolveRun(records, id, metadataDir)
  } catch (error) {
    if (error instanceof MlskelError && error.code === 'MLSKEL_RUN_NOT_FOUND') {
      throw new MlskelError('MLSKEL_REPORT_NO_RUN', error.message, { where: error.where, cause: error, exitCode: 2 })
    }
    throw error
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Evidence: the model and the splits, when they are what the record describes

/** Something the report could use, or why it could not. */
type Maybe<T> = { ok: true; value: T } | { ok: false; why: string }

interface Rows {
  /** Project-relative path, as in the record. */
  path: string
  X: number[][]
  y: (string | number)[]
}

interface Evidence {
  model: Maybe<Predictor>
  train: Maybe<Rows>
  test: Maybe<Rows>
}

async function gatherEvidence(root: string, modelsDir: string, record: MetadataRecord): Promise<Evidence> {
  const [model, train, test] = await Promise.all([
    loadRecordedModel(modelsDir, record),
    findSplit(root, record, 'train'),
    // the hold-out rows are only drawn one by one for regression; classification has its confusion matrix
    record.task === 'regression' ? findSplit(root, record, 'test') : Promise.resolve(missing<string>('a classification is drawn from its recorded confusion matrix')),
  ])
  const wanted = [train, test].filter((s) => s.ok).map((s) => s.value)
  const read = wanted.length > 0 ? await readSplits(root, wanted, record, model.ok ? model.value.signature : undefined) : new Map<string, Maybe<Rows>>()
  const rowsOf = (split: Maybe<string>): Maybe<Rows> => (split.ok ? read.get(split.value)! : split)
  return { model, train: rowsOf(train), test: rowsOf(test) }
}

function missing<T>(why: string): Maybe<T> {
  return { ok: false, why }
}

/** The record's model, if its folder is still there and holds the model the record names (same hash). */
async function loadRecordedModel(modelsDir: string, record: MetadataRecord): Promise<Maybe<Predictor>> {
  try {
    const loaded = await loadSavedModel(modelsDir, record.model_id)
    if (loaded.manifest.files.model.sha256 !== record.model_hash) return missing(`the model folder ${record.model_location} holds a different model than the record names`)
    return { ok: true, value: loaded.predictor }
  } catch (error) {
    if (error instanceof MlskelError && error.code === 'MLSKEL_MODEL_NOT_FOUND') return missing(`the model folder ${record.model_location} is not there`)
    if (error instanceof MlskelError) return missing(`the model in ${record.model_location} could not be loaded: ${error.message}`)
    throw error
  }
}

/**
 * The record's input for a split (`train` or `test` in its file name, CSV or Parquet), if the file still has the
 * recorded content: a chart of other rows would not be what the model learned from or was scored on.
 */
async function findSplit(root: string, record: MetadataRecord, role: 'train' | 'test'): Promise<Maybe<string>> {
  const input = record.source === 'imported' ? importedSplit(record, role) : splitInput(record, role)
  if (!input.ok) return input
  return checkedSplit(root, input.value, role)
}

function splitInput(record: MetadataRecord, role: 'train' | 'test'): Maybe<{ path: string; sha256: string }> {
  const pattern = new RegExp(`(^|[^a-z])${role}([^a-z]|$)`, 'i')
  const input = record.data.inputs.find((i) => ['.parquet', '.csv'].includes(extname(i.path).toLowerCase()) && pattern.test(basename(i.path, extname(i.path))))
  return input ? { ok: true, value: input } : missing(`the record names no ${role} split among its inputs`)
}

/** An imported model has no training split; its test split is the data it was scored on at import, if any. */
function importedSplit(record: MetadataRecord, role: 'train' | 'test'): Maybe<{ path: string; sha256: string }> {
  if (role === 'train') return missing('the model was imported: the data it was trained on is not known')
  const holdOut = record.imported?.hold_out
  const input = holdOut ? record.data.inputs.find((i) => i.path === holdOut.path) : undefined
  return input ? { ok: true, value: input } : missing('the model was imported without data to score it on')
}

async function checkedSplit(root: string, input: { path: string; sha256: string }, role: 'train' | 'test'): Promise<Maybe<string>> {
  const file = resolve(root, input.path)
  if (!(await stat(file).then((s) => s.isFile(), () => false))) return missing(`the ${role} split ${input.path} is not there`)
  if ((await hashFile(file)) !== input.sha256) return missing(`the ${role} split ${input.path} has changed since the training (its SHA-256 differs from the record's)`)
  return { ok: true, value: input.path }
}

/**
 * Read the splits' feature and target columns with DuckDB (loaded only when there is something to read). A file
 * DuckDB cannot read, or without the record's columns, is left out with the reason: the report goes on without it.
 */
async function readSplits(root: string, paths: readonly string[], record: MetadataRecord, signature: Signature | undefined): Promise<Map<string, Maybe<Rows>>> {
  return withDuckDB(async (db) => {
    const out = new Map<string, Maybe<Rows>>()
    for (const path of paths) {
      try {
        out.set(path, { ok: true, value: await readSplit(db, root, path, record, signature) })
      } catch (error) {
        out.set(path, missing(`${path} could not be read: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`))
      }
    }
    return out
  })
}

/**
 * A split's rows as the model's columns: its raw input columns through the model's signature (categories, dates,
 * gaps), or, without the model, the record's feature columns as numbers.
 */
async function readSplit(db: Db, root: string, path: string, record: MetadataRecord, signature: Signature | undefined): Promise<Rows> {
  const { features, target } = record.data
  const schema = signature ? inputSchemaOf(signature) : undefined
  const inputs = schema?.names ?? features
  const columns = [...inputs, target].map(sqlIdent).join(', ')
  const file = sqlString(resolve(root, path))
  const source = extname(path).toLowerCase() === '.parquet' ? `read_parquet(${file})` : `read_csv(${file}, header = true)`
  const rows = (await db.runAndReadAll(`SELECT ${columns} FROM ${source}`)).getRowsJS().map((row) => row.map((v) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v)))
  const encode = (row: unknown[]): number[] => {
    if (!schema) return row.slice(0, inputs.length).map(Number)
    const encoded = emptyRow(schema)
    schema.fields.forEach((field, i) => {
      const problem = encodeValue(field, row[i] ?? null, encoded)
      if (problem) throw new Error(`column ${field.name} ${problem}`)
    })
    return encoded
  }
  return {
    path,
    X: rows.map(encode),
    y: rows.map((row) => (record.task === 'regression' ? Number(row[inputs.length]) : String(row[inputs.length]))),
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sections

interface ChartCounter {
  readonly count: number
  figure(chart: ChartSpec, caption?: string): Promise<string>
}

function chartCounter(): ChartCounter {
  let count = 0
  return {
    get count() {
      return count
    },
    async figure(chart, caption) {
      const svg = await renderSvg(chart)
      count++
      return figure(svg, caption)
    },
  }
}

function note(text: string): string {
  return `<p class="note">${escapeHtml(text)}</p>`
}

function modelCard(record: MetadataRecord, root: string): ReportSection {
  const inputs = table(['input', 'SHA-256'], record.data.inputs.map((i) => [i.path, short(i.sha256)]))
  return { id: 'model', title: 'Model card', html: `${definitions(modelFacts(record, root))}<h3>Data inputs</h3>${inputs}` }
}

function modelFacts(record: MetadataRecord, root: string): [string, string][] {
  const { data, environment: env } = record
  const deps = Object.entries(env.dependencies).filter(([name]) => name !== 'mlskel').map(([name, v]) => `${name} ${v}`)
  if (record.imported) return importedFacts(record, record.imported, root, deps)
  return [
    ['Description', record.description],
    ['Task', record.task],
    ['Model type', record.model_type],
    ['Model id', record.model_id],
    ['Model hash', `SHA-256 ${record.model_hash}`],
    ['Model location', `${record.model_location} (${kilobytes(record.model_size)})`],
    ['Hyper-parameters', Object.entries(record.hyper_parameters).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') || 'none'],
    // a trained record has its data (the schema's source rules): the fallbacks only satisfy the type
    ['Data', `${data.location ?? 'unknown'}${data.identifier ? ` (SHA-256 ${short(data.identifier)})` : ''}, ${data.rows ?? '?'} rows, ${data.n_features} features → ${data.target}`],
    ['Features', data.features.join(', ')],
    ['Code', codeState(record)],
    ['Seed', record.seed === null ? 'unknown' : String(record.seed)],
    ['Testing strategy', record.testing_strategy ?? 'not recorded'],
    ['Cross-validation', crossValidation(record)],
    ['Hold-out', holdOut(record)],
    ['Trained', `${record.timestamp} (run ${record.run_id})`],
    ['Command', displayCommand(record.command, root)],
    ['Training time', Object.entries(record.durations).map(([phase, s]) => `${phase} ${s} s`).join(', ') || 'not recorded'],
    ['Environment', `Node ${env.node} on ${env.os} ${env.arch} (${env.cpu}, ${env.cpus} CPUs); mlskel ${env.mlskel}${deps.length > 0 ? `; ${deps.join(', ')}` : ''}`],
  ]
}

/** An imported model's card: what was imported and from what; what only a training would know is said to be unknown. */
function importedFacts(record: MetadataRecord, imported: NonNullable<MetadataRecord['imported']>, root: string, deps: string[]): [string, string][] {
  const env = record.environment
  const unknown = 'not known: the model was trained elsewhere'
  const from = imported.path ?? `${imported.file} (outside the project)`
  return [
    ['Description', record.description],
    ['Task', record.task],
    ['Model type', record.model_type],
    ['Source', `imported from ${from}: made by ${imported.tool} ${imported.tool_version}, ${kilobytes(imported.size)}, SHA-256 ${imported.sha256}`],
    ['Signature', imported.signature === 'file' ? 'from the file alone' : imported.signature === 'data' ? 'from the file and the columns of the data it was scored on' : 'the project\'s data set (data/transformed/dataset.json), which the file fits'],
    ['Model id', record.model_id],
    ['Model hash', `SHA-256 ${record.model_hash}`],
    ['Model location', `${record.model_location} (${kilobytes(record.model_size)})`],
    ['Hyper-parameters', unknown],
    ['Training data', unknown],
    ['Features', `${record.data.features.join(', ')} → ${record.data.target}`],
    ['Code', `the project at import: ${codeState(record)}`],
    ['Scored on', imported.hold_out ? `${imported.hold_out.path} (${imported.hold_out.from === 'project' ? 'the project\'s test split' : 'given with --data'}), ${holdOut(record)}` : 'nothing: imported without data to score it on'],
    ['Cross-validation', 'none: the model was trained elsewhere'],
    ['Imported', `${record.timestamp} (run ${record.run_id})`],
    ['Command', displayCommand(record.command, root)],
    ['Environment', `Node ${env.node} on ${env.os} ${env.arch} (${env.cpu}, ${env.cpus} CPUs); mlskel ${env.mlskel}${deps.length > 0 ? `; ${deps.join(', ')}` : ''}`],
  ]
}

function codeState(record: MetadataRecord): string {
  const { git } = record
  if (git.commit === null) return git.dirty === null ? 'not in a git repository' : 'no commit yet'
  const where = `commit ${git.commit}${git.branch ? ` on ${git.branch}` : ''}`
  if (!git.dirty) return `${where}, clean`
  const diff = git.diff?.file ? `, the difference saved beside the record as ${git.diff.file}` : git.diff?.truncated ? ', the difference too large to save' : ''
  return `${where}, dirty: trained with uncommitted changes${diff}`
}

/** k of the k-fold cross-validation: from params.split.cv_folds, else from the testing strategy's words. */
function crossValidation(record: MetadataRecord): string {
  const folds = getAt(record.params, 'split.cv_folds') ?? /(\d+)-fold/.exec(record.testing_strategy ?? '')?.[1]
  const scored = Object.values(record.scores).some((splits) => splits.cv !== undefined)
  if (folds === undefined) return scored ? 'yes (number of folds not recorded)' : 'none recorded'
  return `${String(folds)}-fold on the training split`
}

function holdOut(record: MetadataRecord): string {
  const share = getAt(record.params, 'split.test_size')
  if (record.evaluation.hold_out === null) return 'none'
  const rows = record.evaluation.hold_out.rows
  return typeof share === 'number' ? `${Math.round(share * 100)}% of the rows (${rows} rows)` : `${rows} rows`
}

/** The training command as run, with paths inside the project shown relative to it and the Node binary by name. */
function displayCommand(command: readonly string[], root: string): string {
  return command.map((arg, i) => (i === 0 && isAbsolute(arg) ? basename(arg) : isAbsolute(arg) && arg.startsWith(root + sep) ? relative(root, arg) : arg)).join(' ')
}

function scoresSection(record: MetadataRecord): ReportSection {
  const splits = splitNames(record.scores)
  const rows = Object.entries(record.scores).map(([metric, values]) => [metric, ...splits.map((s) => (values[s] === undefined ? null : round(values[s])))])
  if (rows.length === 0) return { id: 'scores', title: 'Scores', html: note(record.testing_strategy ?? 'No scores: the model was imported without data to score it on (`mlskel models import --data`, or a project whose test split fits the model, scores it).') }
  return { id: 'scores', title: 'Scores', html: `${table(['metric', ...splits], rows)}${note(record.testing_strategy ?? '')}` }
}

/** cv and hold_out first, then any custom splits, in name order. */
function splitNames(scores: MetadataRecord['scores']): string[] {
  const all = new Set(Object.values(scores).flatMap((splits) => Object.keys(splits)))
  return [...['cv', 'hold_out'].filter((s) => all.has(s)), ...[...all].filter((s) => s !== 'cv' && s !== 'hold_out').sort()]
}

async function historySection(records: readonly MetadataRecord[], record: MetadataRecord, charts: ChartCounter): Promise<ReportSection> {
  const points = spec.scorePoints(records, record)
  const runs = new Set(points.map((p) => p.run)).size
  const text = runs > 1 ? `${runs} runs of this project, oldest first; this report's run is the one marked by the red dashed line and the larger points.` : 'Only this run is recorded so far: later runs will show here, beside it.'
  const chart = points.length > 0 ? await charts.figure(spec.scoresAcrossRunsSpec(points), 'Each metric over the project\'s training runs, per split (cv, hold_out).') : ''
  return { id: 'history', title: 'Scores across runs', html: `${note(text)}${chart}` }
}

async function evaluationSection(record: MetadataRecord, evidence: Evidence, charts: ChartCounter): Promise<ReportSection> {
  // the record's schema is loose (extra keys kept), which stops `in` from narrowing it; its shape is this union
  const holdOut = record.evaluation.hold_out as HoldOutSummary | null
  const section = (html: string): ReportSection => ({ id: 'evaluation', title: 'Hold-out evaluation', html })
  if (holdOut === null) return section(note('Not evaluated: the model was imported without data to score it on.'))
  if ('confusion_matrix' in holdOut) {
    const { labels, matrix } = holdOut.confusion_matrix
    return section(await charts.figure(spec.confusionMatrixSpec(labels, matrix), `Confusion matrix on the ${holdOut.rows} hold-out rows: rows are the actual class, columns the predicted one.`))
  }
  const r = holdOut.residuals
  const stats = table(['mean', 'std', 'mean absolute', 'min', 'p05', 'median', 'p95', 'max'], [[r.mean, r.std, r.mean_absolute, r.min, r.p05, r.p50, r.p95, r.max].map(round)])
  const predictions = holdOutPredictions(evidence)
  if (!predictions.ok) {
    const fallback = await charts.figure(spec.residualSummarySpec(r), 'Residuals (actual − predicted) as recorded: the box spans p05–p95, the line min–max, the tick is the median and the diamond the mean.')
    return section(`${note(`Per-row charts are not shown: ${predictions.why}. The recorded residual statistics are drawn instead.`)}<div class="charts">${fallback}</div>${stats}`)
  }
  const [scatter, histogram] = await Promise.all([
    charts.figure(spec.predictedVsActualSpec(predictions.value), `Predicted against actual on the ${predictions.value.length} hold-out rows; a perfect model sits on the dashed line.`),
    charts.figure(spec.residualHistogramSpec(predictions.value), 'Residuals (actual − predicted) of the hold-out rows.'),
  ])
  return section(`<div class="charts">${scatter}${histogram}</div><h3>Residuals as recorded</h3>${stats}`)
}

/** The model's predictions for the hold-out rows, computed again from the model and the recorded test split. */
function holdOutPredictions(evidence: Evidence): Maybe<spec.Prediction[]> {
  if (!evidence.model.ok) return evidence.model
  if (!evidence.test.ok) return evidence.test
  const { X, y, path } = evidence.test.value
  let predicted: (string | number)[]
  try {
    predicted = evidence.model.value.predict(X)
  } catch (error) {
    return missing(`the model could not predict the rows of ${path}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return { ok: true, value: y.map((actual, i) => ({ actual: Number(actual), predicted: Number(predicted[i]) })) }
}

async function importanceSection(record: MetadataRecord, evidence: Evidence, charts: ChartCounter): Promise<ReportSection> {
  const section = (html: string): ReportSection => ({ id: 'importance', title: 'Feature importance', html })
  // the record's, else the model's own (a record written before importances were recorded)
  const rows = record.importances ?? (evidence.model.ok ? evidence.model.value.importances?.() : undefined)
  if (!rows) return section(note(evidence.model.ok ? `Feature importance is not given by this model kind (${record.model_type}).` : `Not shown: ${evidence.model.why}.`))
  const text =
    record.model_type === 'random_forest'
      ? 'Each feature\'s share of the impurity decrease of all the splits on it (the mean over the trees of each tree\'s shares: scikit-learn\'s feature_importances_), and how many splits test it. Impurity-based importance favours features with many distinct values.'
      : 'Each feature\'s share of the loss reduction (gain) of all the splits on it, over all the trees, and how many splits test it.'
  // by original column: a datetime's parts added up
  const byColumn = importanceByColumn(rows, evidence.model.ok ? evidence.model.value.signature : undefined)
  const parts = byColumn.some((c) => c.parts.length > 1)
  const list = table(['column', 'share of gain', 'splits', ...(parts ? ['features'] : [])], byColumn.map((c) => [c.feature, `${(c.gain * 100).toFixed(1)}%`, c.splits, ...(parts ? [c.parts.join(', ')] : [])]))
  return section(`${note(text)}${await charts.figure(spec.importanceSpec(byColumn), `Feature importance by column: share of the total split gain${parts ? ' (a date\'s parts added up)' : ''}.`)}${list}`)
}

/** Importances summed by the raw column each feature comes from (a datetime's parts into their column), largest first. */
export function importanceByColumn(rows: readonly FeatureImportance[], signature: Signature | undefined): { feature: string; gain: number; splits: number; parts: string[] }[] {
  const source = new Map((signature?.features ?? []).map((f) => [f.name, f.type === 'number' && f.datetime ? f.datetime.column : f.name]))
  const columns = new Map<string, { feature: string; gain: number; splits: number; parts: string[] }>()
  for (const r of rows) {
    const column = source.get(r.feature) ?? r.feature
    const entry = columns.get(column) ?? { feature: column, gain: 0, splits: 0, parts: [] }
    entry.gain += r.gain
    entry.splits += r.splits
    entry.parts.push(r.feature)
    columns.set(column, entry)
  }
  return [...columns.values()].sort((a, b) => b.gain - a.gain || (a.feature < b.feature ? -1 : 1))
}

async function featuresSection(record: MetadataRecord, evidence: Evidence, charts: ChartCounter): Promise<ReportSection> {
  const ranges = table(
    ['feature', 'range or categories', 'missing'],
    record.feature_schema.map((f) => [f.name, f.type === 'number' ? `${round(f.min)} – ${round(f.max)}` : f.categories.map(String).join(', '), f.missing]),
  )
  if (record.feature_schema.length === 0) {
    const inputs = evidence.model.ok ? table(['feature', 'type'], evidence.model.value.signature.features.map((f) => [f.name, f.type === 'category' ? `category: ${f.categories.map(String).join(', ')}` : f.type])) : ''
    return { id: 'features', title: 'Features', html: `${note('What the training data held is not known: the model was trained elsewhere. Its inputs, as its signature takes them:')}${inputs}` }
  }
  const section = (html: string): ReportSection => ({ id: 'features', title: 'Features', html: `${html}<h3>Seen in training</h3>${ranges}` })
  if (!evidence.train.ok) {
    const numeric = record.feature_schema.flatMap((f) => (f.type === 'number' ? [f] : []))
    const chart = numeric.length > 0 ? await charts.figure(spec.featureRangesSpec(numeric), 'Each numeric feature\'s range in the training data (min–max), as recorded.') : ''
    return section(`${note(`Histograms are not shown: ${evidence.train.why}.`)}${chart}`)
  }
  const { X, y, path } = evidence.train.value
  const { features, target } = record.data
  const byClass = record.task === 'classification' ? target : undefined
  const caption = `Each feature in the training split (${path}, ${X.length} rows)${byClass ? `, stacked by ${byClass}` : ''}.`
  return section(await charts.figure(spec.featureHistogramsSpec(X, features, byClass ? { name: byClass, values: y } : undefined), caption))
}

async function targetSection(record: MetadataRecord, evidence: Evidence, charts: ChartCounter): Promise<ReportSection> {
  const t = record.target
  if (t === null) {
    const target = evidence.model.ok ? evidence.model.value.signature.target : undefined
    const what = target?.type === 'category' ? ` It predicts the classes ${target.classes.map(String).join(', ')}.` : target ? ' It predicts a number.' : ''
    return { id: 'target', title: `Target: ${record.data.target}`, html: note(`The target in the training data is not known: the model was trained elsewhere.${what}`) }
  }
  const section = (html: string): ReportSection => ({ id: 'target', title: `Target: ${t.name}`, html })
  if (t.type === 'category') {
    const rows = table(['class', 'training rows'], t.classes.map((c) => [String(c), t.counts[String(c)] ?? 0]))
    return section(`${await charts.figure(spec.classCountsSpec(t.counts, t.classes), 'Training rows per class.')}${rows}`)
  }
  const summary = definitions([['min', String(round(t.min))], ['mean', String(round(t.mean))], ['max', String(round(t.max))]])
  if (evidence.train.ok) {
    const values = evidence.train.value.y.map(Number)
    return section(`${await charts.figure(spec.targetHistogramSpec(values, t.name), `${t.name} in the training split (${values.length} rows).`)}${summary}`)
  }
  return section(`${await charts.figure(spec.targetRangeSpec(t), `${t.name}: its range in the training data, the diamond at the mean.`)}${summary}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

/** A hash, cut to what a reader compares by eye. */
function short(sha256: string): string {
  return `${sha256.slice(0, 12)}…`
}

/** Four significant digits: what a score table needs, without float noise. */
function round(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(4)) : value
}

function kilobytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
