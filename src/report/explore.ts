// The explorative report (`mlskel report explore`): one self-contained HTML page on a data file, with per-column
// statistics, missing values, histograms, top values (bar charts of categories), the correlations of the numeric
// columns and the target's distribution.
// Every aggregate is computed by DuckDB in a handful of queries (one for the statistics, one for all histograms,
// one for all top values, one for all correlations), so JavaScript only ever sees summaries, never rows.
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, isAbsolute, join, relative, resolve } from 'node:path'
import { DEFAULT_MISSING_VALUES } from '../data/index.js'
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'
import { loadParams, type LoadedParams } from '../params/index.js'
import { loadSettings, projectPaths, settingsSchema } from '../settings/index.js'
import { renderSvg, type ChartSpec } from './charts.js'
import { sqlIdent, sqlString, withDuckDB, type Db } from './duckdb.js'
import { definitions, escapeHtml, figure, htmlPage, table, type ReportSection } from './html.js'
import { mlskelVersion } from '../package/index.js'

export interface ExploreOptions {
  /** The project root: params.yaml, the data folders and reports/ are found from it. */
  root: string
  /**
   * A CSV or Parquet file to explore, absolute or relative to `root` (the CLI resolves what the user typed
   * against the current folder and passes it absolute). Default: the project's data set, that is the staging
   * Parquet written by the pipeline when it exists, else the raw CSV named in params.yaml.
   */
  data?: string
  /** The column shown as the target; default params.yaml's dataset.target when the file has that column. */
  target?: string
  /** The folder the report goes to; default `<root>/reports`. */
  out?: string
  /** The time shown in the footer; default now. */
  now?: Date
}

export interface ExploreResult {
  /** The report written: `explore.html`, or `explore-<file stem>.html` for a file that is not the data set. */
  path: string
  rows: number
  columns: number
  /** SVG charts in the page (each in a <figure>). */
  charts: number
  bytes: number
}

/** Bins of a histogram; integer columns with a narrower range get one bin per value. */
const BINS = 30
/** Values shown for a categorical column, and for the target's classes. */
const TOP_VALUES = 20
const TOP_CLASSES = 50
/** Past these, a wide data set gets charts for its first columns only (the statistics table lists them all). */
const MAX_CHARTED_COLUMNS = 60
const MAX_CORRELATED_COLUMNS = 30

const INTEGER_TYPES = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/
const NUMERIC_TYPES = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/
const CSV_FILE = /\.(csv|tsv)(\.gz)?$/i
const PARQUET_FILE = /\.parquet$/i

export async function exploreReport(o: ExploreOptions): Promise<ExploreResult> {
  // 1. the file to read, its label, the report's name, and the target params.yaml suggests
  const source = await findSource(o)

  // 2. every aggregate, in DuckDB
  const profile = await withDuckDB((db) => profileFile(db, source, o.target))

  // 3. charts and the page
  const sections = await buildSections(source, profile)
  const html = htmlPage({
    title: `Data exploration: ${basename(source.file)}`,
    subtitle: `${source.label}: ${profile.rows.toLocaleString('en')} rows × ${profile.columns.length} columns`,
    sections: sections.map((s) => s.section),
    generatedAt: o.now ?? new Date(),
    generator: `mlskel ${mlskelVersion()}`,
  })

  // 4. written atomically, so `mlskel check` never sees half a report
  const path = join(o.out ? resolve(o.root, o.out) : join(o.root, 'reports'), source.reportName)
  await writeFileAtomic(path, html)
  return { path, rows: profile.rows, columns: profile.columns.length, charts: sections.reduce((n, s) => n + s.charts, 0), bytes: Buffer.byteLength(html) }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. the source

interface Source {
  file: string
  /** The file as the report names it: relative to the project root when inside it. */
  label: string
  format: 'CSV' | 'Parquet'
  bytes: number
  reportName: string
  /** params.yaml's dataset.target, used when the file has that column. */
  suggestedTarget: string | undefined
  /** How a CSV's cells are read, as generate-dataset reads them: params.yaml's missing-value tokens and dialect. */
  csv: { missing: readonly string[]; decimal: '.' | ','; delimiter: string | undefined }
}

async function findSource(o: ExploreOptions): Promise<Source> {
  const explicit = o.data !== undefined
  // A named file does not need params.yaml (only for its target, a nicety): a project whose params.yaml is
  // missing or broken can still explore a file; the commands that need params.yaml report its problems.
  const params = explicit ? await loadParams(o.root).catch(() => undefined) : await loadParams(o.root)
  const own = params ? projectDataFiles(o.root, params) : undefined
  const file = explicit ? resolve(o.root, o.data!) : own!.find((f) => existsSync(f))
  if (file === undefined) throw dataMissing(o.root, own![1]!, `no data to explore: neither the staging copy ${label(o.root, own![0]!)} nor the raw file ${label(o.root, own![1]!)} exists`)
  const format = CSV_FILE.test(file) ? 'CSV' : PARQUET_FILE.test(file) ? 'Parquet' : undefined
  if (!format) throw dataMissing(o.root, file, `${label(o.root, file)} is not a CSV (.csv, .tsv, optionally .gz) or Parquet (.parquet) file`)
  const info = await stat(file).catch(() => undefined)
  if (!info?.isFile()) throw dataMissing(o.root, file, `${label(o.root, file)} ${info ? 'is not a file' : 'does not exist'}`)
  const isOwn = own?.includes(file) ?? false
  const dataset = params?.params.dataset
  const csv = { missing: dataset?.missing_values ?? DEFAULT_MISSING_VALUES, decimal: dataset?.decimal ?? '.', delimiter: dataset?.delimiter }
  return { file, label: label(o.root, file), format, bytes: info.size, reportName: isOwn ? 'explore.html' : `explore-${fileStem(file)}.html`, suggestedTarget: dataset?.target, csv }
}

/** The project's data set, in the order it is preferred: the staging Parquet (typed, clean), then the raw CSV. */
function projectDataFiles(root: string, params: LoadedParams): [string, string] {
  const paths = projectPaths(root, loadSettings(settingsSchema, { root }))
  const raw = resolve(paths.raw, params.params.dataset.raw)
  // the name generate-dataset gives the staging copy
  return [join(paths.staging, `${basename(raw).replace(/\.[^.]*$/, '')}.parquet`), raw]
}

function dataMissing(root: string, file: string, message: string): MlskelError {
  return new MlskelError('MLSKEL_REPORT_DATA_MISSING', message, { where: { file: label(root, file) } })
}

function label(root: string, file: string): string {
  const rel = relative(root, file)
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file
}

/** A file-name-safe stem: `my data.csv.gz` → `my-data`. */
function fileStem(file: string): string {
  return basename(file).replace(/(\.(csv|tsv|parquet))?(\.gz)?$/i, '').replace(/[^\w.-]+/g, '-') || 'data'
}


// ---------------------------------------------------------------------------------------------------------------
// 2. the profile, in DuckDB

interface ColumnStats {
  name: string
  type: string
  kind: 'integer' | 'float' | 'other'
  present: number
  distinct: number
  min: number | string | null
  max: number | string | null
  mean: number | null
  std: number | null
  /** The finite range, which the histogram spans (min and max may be ±Infinity or NaN). */
  low: number | null
  high: number | null
}

interface Bin {
  start: number
  end: number
  count: number
}

interface ValueCount {
  value: string
  count: number
}

interface Profile {
  rows: number
  columns: ColumnStats[]
  target: string | undefined
  /** Why params.yaml's target is not shown, when it is not. */
  targetNote: string | undefined
  histograms: Map<string, Bin[]>
  topValues: Map<string, ValueCount[]>
  /** Correlations of the first numeric columns: names, and r for each pair (null when undefined). */
  correlation: { names: string[]; r: (number | null)[][] }
}

async function rowsOf(db: Db, sql: string): Promise<unknown[][]> {
  return (await db.runAndReadAll(sql)).getRowsJS() as unknown[][]
}

async function profileFile(db: Db, source: Source, target: string | undefined): Promise<Profile> {
  await openData(db, source)
  const described = (await rowsOf(db, 'DESCRIBE data')).map(([name, type]) => ({ name: String(name), type: String(type) }))
  const chosen = chooseTarget(described.map((c) => c.name), target, source)
  const { rows, columns } = await columnStats(db, described)
  const numeric = columns.filter((c) => c.kind !== 'other')
  const charted = new Set([...columns.slice(0, MAX_CHARTED_COLUMNS).map((c) => c.name), ...(chosen.target ? [chosen.target] : [])])
  const histograms = await histogramsOf(db, numeric.filter((c) => charted.has(c.name)))
  const topValues = await topValuesOf(db, columns.filter((c) => c.kind === 'other' && charted.has(c.name)), chosen.target)
  const correlation = await correlationsOf(db, numeric.slice(0, MAX_CORRELATED_COLUMNS))
  return { rows, columns, ...chosen, histograms, topValues, correlation }
}

/**
 * The file as the view `data`. A CSV is parsed once into a table, as every later query would parse it again;
 * Parquet is columnar and cheap to scan, so it is read in place (a large file need not fit in memory).
 */
async function openData(db: Db, source: Source): Promise<void> {
  // a CSV's missing-value tokens (R's and pandas' NA among them) are NULL, so a numeric column with gaps stays numeric
  const { missing, decimal, delimiter } = source.csv
  const dialect = `, nullstr = [${missing.map(sqlString).join(', ')}]${decimal === ',' ? ", decimal_separator = ','" : ''}${delimiter ? `, delim = ${sqlString(delimiter)}` : ''}`
  const sql = source.format === 'Parquet' ? `CREATE VIEW data AS SELECT * FROM read_parquet(${sqlString(source.file)})` : `CREATE TABLE data AS SELECT * FROM read_csv(${sqlString(source.file)}, header = true${dialect})`
  try {
    await db.run(sql)
    await db.run('SELECT * FROM data LIMIT 0')
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    throw new MlskelError('MLSKEL_REPORT_DATA_MISSING', `cannot read ${source.label} as ${source.format}: ${reason}`, { where: { file: source.label }, cause: error })
  }
}

function chooseTarget(names: string[], target: string | undefined, source: Source): Pick<Profile, 'target' | 'targetNote'> {
  if (target !== undefined) {
    if (names.includes(target)) return { target, targetNote: undefined }
    throw new MlskelError('MLSKEL_USAGE', `the target ${quote(target)} is not a column of ${source.label}.${didYouMean(target, names)}`, {
      fix: `Name one of the file's columns as the target (${names.slice(0, 10).map((n) => quote(n)).join(', ')}${names.length > 10 ? ', …' : ''}), or leave it out.`,
    })
  }
  if (source.suggestedTarget === undefined) return { target: undefined, targetNote: 'none (no params.yaml names one)' }
  if (names.includes(source.suggestedTarget)) return { target: source.suggestedTarget, targetNote: undefined }
  return { target: undefined, targetNote: `none (params.yaml's dataset.target ${quote(source.suggestedTarget)} is not a column of this file)` }
}

function kindOf(type: string): ColumnStats['kind'] {
  if (INTEGER_TYPES.test(type)) return 'integer'
  return NUMERIC_TYPES.test(type) ? 'float' : 'other'
}

/** Row count and every column's statistics, in one pass over the data. */
async function columnStats(db: Db, described: { name: string; type: string }[]): Promise<{ rows: number; columns: ColumnStats[] }> {
  const parts = described.map(({ name, type }) => statsSql(sqlIdent(name), kindOf(type)))
  const [row] = await rowsOf(db, `SELECT count(*), ${parts.join(', ')} FROM data`)
  const values = row!
  const columns = described.map(({ name, type }, i): ColumnStats => {
    const [present, distinct, min, max, mean, std, low, high] = values.slice(1 + i * 8, 9 + i * 8)
    const kind = kindOf(type)
    // HyperLogLog can overshoot: never more distinct values than values
    return { name, type, kind, present: Number(present), distinct: Math.min(Number(distinct), Number(present)), min: scalar(min), max: scalar(max), mean: number(mean), std: number(std), low: number(low), high: number(high) }
  })
  return { rows: Number(values[0]), columns }
}

/** Eight aggregates per column, in the order columnStats reads them. */
function statsSql(c: string, kind: ColumnStats['kind']): string {
  if (kind === 'other') return `count(${c}), approx_count_distinct(${c}), min(${c})::VARCHAR, max(${c})::VARCHAR, NULL, NULL, NULL, NULL`
  const d = `${c}::DOUBLE`
  const finite = `FILTER (WHERE isfinite(${d}))`
  return `count(${c}), approx_count_distinct(${c}), min(${d}), max(${d}), avg(${d}), stddev_samp(${d}), min(${d}) ${finite}, max(${d}) ${finite}`
}

function scalar(value: unknown): number | string | null {
  if (value === null || value === undefined) return null
  return typeof value === 'number' ? value : String(value)
}

function number(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value)
}

/** The bins of one column: ~30 equal widths over its finite range; one per value for narrow integer ranges. */
function binning(c: ColumnStats): { low: number; width: number; bins: number } | undefined {
  if (c.low === null || c.high === null) return undefined
  const span = c.high - c.low
  if (c.kind === 'integer') {
    // bins start half a unit early, so that with a width of 1 each bar is centred on its value
    const width = Math.max(1, Math.ceil((span + 1) / BINS))
    return { low: c.low - 0.5, width, bins: Math.floor((span + 0.5) / width) + 1 }
  }
  return span > 0 ? { low: c.low, width: span / BINS, bins: BINS } : { low: c.low - 0.5, width: 1, bins: 1 }
}

/** Every numeric column's histogram, in one query (a UNION of one grouped scan per column). */
async function histogramsOf(db: Db, columns: ColumnStats[]): Promise<Map<string, Bin[]>> {
  const plans = columns.map((c) => ({ c, plan: binning(c) }))
  const parts = plans.flatMap(({ c, plan }, i) => {
    if (!plan) return []
    const d = `${sqlIdent(c.name)}::DOUBLE`
    const bin = `least(floor((${d} - (${plan.low})::DOUBLE) / (${plan.width})::DOUBLE), ${plan.bins - 1})::INTEGER`
    return [`SELECT ${i} AS col, ${bin} AS bin, count(*) AS n FROM data WHERE isfinite(${d}) GROUP BY bin`]
  })
  const histograms = new Map<string, Bin[]>()
  if (parts.length === 0) return histograms
  for (const [col, bin, n] of await rowsOf(db, parts.join('\nUNION ALL\n'))) {
    const { c, plan } = plans[Number(col)]!
    const bins = histograms.get(c.name) ?? emptyBins(plan!)
    bins[Number(bin)]!.count = Number(n)
    histograms.set(c.name, bins)
  }
  return histograms
}

/** All bins of a plan at zero, so that empty bins show as gaps rather than disappear. */
function emptyBins(plan: { low: number; width: number; bins: number }): Bin[] {
  return Array.from({ length: plan.bins }, (_, i) => ({ start: plan.low + i * plan.width, end: plan.low + (i + 1) * plan.width, count: 0 }))
}

/** The most frequent values of each non-numeric column (more for the target's classes), in one query. */
async function topValuesOf(db: Db, columns: ColumnStats[], target: string | undefined): Promise<Map<string, ValueCount[]>> {
  const parts = columns.map((c, i) => {
    const v = `${sqlIdent(c.name)}::VARCHAR`
    return `(SELECT ${i} AS col, ${v} AS value, count(*) AS n FROM data WHERE ${v} IS NOT NULL GROUP BY value ORDER BY n DESC, value LIMIT ${c.name === target ? TOP_CLASSES : TOP_VALUES})`
  })
  const top = new Map<string, ValueCount[]>()
  if (parts.length === 0) return top
  for (const [col, value, n] of await rowsOf(db, parts.join('\nUNION ALL\n'))) {
    const name = columns[Number(col)]!.name
    top.set(name, [...(top.get(name) ?? []), { value: String(value), count: Number(n) }])
  }
  for (const values of top.values()) values.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
  return top
}

/** Pearson's r for every pair of numeric columns, in one query (one pass); NaN and undefined r become null. */
async function correlationsOf(db: Db, columns: ColumnStats[]): Promise<Profile['correlation']> {
  const names = columns.map((c) => c.name)
  // a constant column has no correlation, not even with itself
  const varies = columns.map((c) => c.std !== null && c.std > 0)
  const r = names.map((_, i) => names.map((__, j) => (i === j && varies[i] ? 1 : null as number | null)))
  const pairs = names.flatMap((_, i) => names.slice(i + 1).map((__, k) => [i, i + 1 + k] as const))
  if (pairs.length === 0) return { names, r }
  const d = (name: string) => `${sqlIdent(name)}::DOUBLE`
  const [row] = await rowsOf(db, `SELECT ${pairs.map(([i, j]) => `corr(${d(names[i]!)}, ${d(names[j]!)})`).join(', ')} FROM data`)
  pairs.forEach(([i, j], p) => {
    const value = number(row![p])
    r[i]![j] = r[j]![i] = value !== null && Number.isFinite(value) ? value : null
  })
  return { names, r }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. sections and charts

interface Built {
  section: ReportSection
  charts: number
}

async function buildSections(source: Source, p: Profile): Promise<Built[]> {
  return [overviewSection(source, p), statsSection(p), await missingSection(p), await targetSection(p), await columnsSection(p), await correlationSection(p)].filter((s): s is Built => s !== undefined)
}

function overviewSection(source: Source, p: Profile): Built {
  const cells = p.rows * p.columns.length
  const missing = p.columns.reduce((n, c) => n + (p.rows - c.present), 0)
  const numeric = p.columns.filter((c) => c.kind !== 'other').length
  const html = definitions([
    ['File', source.label],
    ['Format', source.format],
    ['Size', formatBytes(source.bytes)],
    ['Rows', p.rows.toLocaleString('en')],
    ['Columns', `${p.columns.length} (${numeric} numeric, ${p.columns.length - numeric} other)`],
    ['Missing values', `${missing.toLocaleString('en')} of ${cells.toLocaleString('en')} cells (${percent(missing, cells)} %)`],
    ['Target', p.target ?? p.targetNote ?? 'none'],
  ])
  return { section: { id: 'overview', title: 'Overview', html }, charts: 0 }
}

function statsSection(p: Profile): Built {
  const rows = p.columns.map((c) => [
    c.name === p.target ? `${c.name} (target)` : c.name,
    c.type,
    p.rows - c.present,
    percent(p.rows - c.present, p.rows),
    c.distinct,
    shown(c.min, c.kind),
    shown(c.max, c.kind),
    c.mean === null ? null : round(c.mean, 4),
    c.std === null ? null : round(c.std, 4),
  ])
  const html = `${table(['Column', 'Type', 'Missing', 'Missing %', 'Distinct (≈)', 'Min', 'Max', 'Mean', 'Std'], rows)}<p class="note">Distinct counts are approximate (HyperLogLog); min and max of text columns are in sort order.</p>`
  return { section: { id: 'columns', title: 'Columns', html }, charts: 0 }
}

/** The share of missing values per column that has any, as one bar chart; none when no value is missing. */
async function missingSection(p: Profile): Promise<Built | undefined> {
  const gaps = p.columns.filter((c) => c.present < p.rows).map((c) => ({ value: c.name, count: p.rows - c.present }))
  if (gaps.length === 0) return undefined
  const svg = await renderSvg(barSpec('Missing values', gaps, { width: 360, step: 18 }))
  const note = `${gaps.length} of ${p.columns.length} columns have missing values. The pipeline keeps them: the trees learn which side of each split they go to.`
  return { section: { id: 'missing', title: 'Missing values', html: `${figure(svg, 'Rows missing a value, per column')}<p class="note">${escapeHtml(note)}</p>` }, charts: 1 }
}

async function targetSection(p: Profile): Promise<Built | undefined> {
  if (p.target === undefined) return undefined
  const column = p.columns.find((c) => c.name === p.target)!
  const bins = p.histograms.get(column.name)
  const values = p.topValues.get(column.name)
  if (column.kind !== 'other' && bins) {
    const svg = await renderSvg(histogramSpec(column, bins, { width: 480, height: 200 }))
    return { section: { id: 'target', title: `Target: ${column.name}`, html: figure(svg, `Distribution of ${column.name} (${BINS_NOTE})`) }, charts: 1 }
  }
  if (!values?.length) return { section: { id: 'target', title: `Target: ${column.name}`, html: '<p class="note">Every value of the target is missing.</p>' }, charts: 0 }
  const svg = await renderSvg(barSpec(column.name, values, { width: 420, step: 22 }))
  const classes = table(['Class', 'Rows', 'Share %'], values.map((v) => [v.value, v.count, percent(v.count, column.present)]))
  const more = column.distinct > values.length ? `<p class="note">The ${values.length} most frequent of about ${column.distinct} classes.</p>` : ''
  return { section: { id: 'target', title: `Target: ${column.name}`, html: `<div class="charts">${figure(svg, `Rows per class of ${column.name}`)}${classes}</div>${more}` }, charts: 1 }
}

const BINS_NOTE = `up to ${BINS} equal-width bins over the finite values`

/** A small chart per column but the target (which has its own section): histograms, or top values. */
async function columnsSection(p: Profile): Promise<Built | undefined> {
  const figures: string[] = []
  const notes: string[] = []
  for (const c of p.columns.slice(0, MAX_CHARTED_COLUMNS)) {
    if (c.name === p.target) continue
    const chart = await columnChart(c, p)
    if (typeof chart === 'string') notes.push(chart)
    else figures.push(figure(chart.svg, chart.caption))
  }
  if (p.columns.length > MAX_CHARTED_COLUMNS) notes.push(`Charts for the first ${MAX_CHARTED_COLUMNS} of ${p.columns.length} columns; the table above lists them all.`)
  if (figures.length === 0 && notes.length === 0) return undefined
  const html = `<div class="charts">${figures.join('')}</div>${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('')}`
  return { section: { id: 'distributions', title: 'Distributions', html }, charts: figures.length }
}

/** A column's chart and caption, or a note on why it has none. */
async function columnChart(c: ColumnStats, p: Profile): Promise<{ svg: string; caption: string } | string> {
  if (c.kind !== 'other') {
    const bins = p.histograms.get(c.name)
    if (!bins) return `${c.name}: no finite values, no histogram.`
    return { svg: await renderSvg(histogramSpec(c, bins)), caption: `${c.type}, ${missingNote(c, p.rows)}` }
  }
  const values = p.topValues.get(c.name)
  if (!values?.length) return `${c.name}: every value is missing.`
  if (values[0]!.count === 1 && c.present > 1) return `${c.name}: every value is distinct (an identifier?), no chart.`
  const shownCount = values.reduce((n, v) => n + v.count, 0)
  const rest = c.present - shownCount
  return { svg: await renderSvg(barSpec(c.name, values)), caption: `${c.type}, ${missingNote(c, p.rows)}${rest > 0 ? `; top ${values.length} values, ${rest.toLocaleString('en')} rows hold others` : ''}` }
}

async function correlationSection(p: Profile): Promise<Built | undefined> {
  const { names, r } = p.correlation
  if (names.length < 2) return undefined
  const svg = await renderSvg(heatmapSpec(names, r))
  const numeric = p.columns.filter((c) => c.kind !== 'other').length
  const note = numeric > names.length ? ` (the first ${names.length} of ${numeric} numeric columns)` : ''
  return { section: { id: 'correlations', title: 'Correlations', html: figure(svg, `Pearson's r between numeric columns${note}; – where undefined (a constant column).`) }, charts: 1 }
}

// Chart specs. Data fields have fixed names (start, n, value, ...): column names, which may hold dots or brackets,
// are values, never field names, so Vega never parses them as paths.

function histogramSpec(column: ColumnStats, bins: Bin[], size = { width: 220, height: 110 }): ChartSpec {
  return {
    ...size,
    title: { text: column.name, fontSize: 12, limit: size.width + 30 },
    data: { values: bins.map((b) => ({ start: b.start, end: b.end, n: b.count })) },
    // rects from x to x2 and 0 to y, with a hairline between them
    mark: { type: 'rect', color: '#2563eb', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      // not `bin: { binned: true }`, which puts ticks on bin edges (0.5, 1.5 for integers): round numbers read better;
      // and the default number format, as '~s' would show 0.2 as 200m
      x: { field: 'start', type: 'quantitative', scale: { zero: false, nice: false }, title: null, axis: { tickCount: 5, ...(column.kind === 'integer' ? { tickMinStep: 1 } : {}) } },
      x2: { field: 'end' },
      y: { field: 'n', type: 'quantitative', title: 'rows', axis: { tickCount: 4, tickMinStep: 1, format: '~s' } },
      y2: { datum: 0 },
    },
  } as ChartSpec
}

function barSpec(name: string, values: ValueCount[], size = { width: 180, step: 14 }): ChartSpec {
  return {
    width: size.width,
    height: { step: size.step },
    title: { text: name, fontSize: 12, limit: size.width + 80 },
    data: { values: values.map((v) => ({ value: v.value, n: v.count })) },
    mark: { type: 'bar', color: '#2563eb' },
    encoding: {
      y: { field: 'value', type: 'nominal', sort: { field: 'n', order: 'descending' }, title: null, axis: { labelLimit: 90 } },
      x: { field: 'n', type: 'quantitative', title: 'rows', axis: { tickCount: 4, tickMinStep: 1, format: '~s' } },
    },
  } as ChartSpec
}

function heatmapSpec(names: string[], r: (number | null)[][]): ChartSpec {
  const cells = names.flatMap((a, i) => names.map((b, j) => ({ a, b, r: r[i]![j], label: cellLabel(r[i]![j] ?? null) })))
  const side = Math.max(160, names.length * 40)
  const axis = { labelLimit: 110, title: null }
  return {
    width: side,
    height: side,
    data: { values: cells },
    encoding: {
      x: { field: 'a', type: 'nominal', sort: names, axis: { ...axis, labelAngle: -40 } },
      y: { field: 'b', type: 'nominal', sort: names, axis },
    },
    layer: [
      // a grey cell under each, which shows where r is undefined (those are left out of the colour layer)
      { mark: { type: 'rect', color: '#f3f4f6' } },
      { mark: 'rect', encoding: { color: { field: 'r', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1] }, title: 'r' } } },
      { mark: { type: 'text', fontSize: names.length > 12 ? 8 : 11 }, encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.r !== null && abs(datum.r) > 0.6', value: 'white' }, value: '#111827' } } },
    ],
  } as ChartSpec
}

// ---------------------------------------------------------------------------------------------------------------
// formatting

/** r to two decimals, with no "-0.00" for a tiny negative r. */
function cellLabel(r: number | null): string {
  if (r === null) return '–'
  const text = r.toFixed(2)
  return text === '-0.00' ? '0.00' : text
}

function missingNote(c: ColumnStats, rows: number): string {
  const missing = rows - c.present
  return missing === 0 ? 'none missing' : `${missing.toLocaleString('en')} missing (${percent(missing, rows)} %)`
}

function shown(value: number | string | null, kind: ColumnStats['kind']): number | string | null {
  if (typeof value === 'number') return round(value, 6)
  // text min/max can be long: the table stays readable
  return kind === 'other' && value !== null && value.length > 40 ? `${value.slice(0, 39)}…` : value
}

/** `digits` significant digits, without float noise (0.30000000000000004 → 0.3); infinities and NaN as they are. */
function round(value: number, digits: number): number {
  return Number.isFinite(value) && value !== 0 ? Number(value.toPrecision(digits)) : value
}

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((1000 * part) / whole) / 10
}

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`
}
