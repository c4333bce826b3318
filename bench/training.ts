// The training benchmark (the sixth part of `npm run bench`; alone: `npx tsx bench/training.ts [--quick]`): mlskel's
// tree engine against scikit-learn and XGBoost, measured in the same run on the same rows. The data sets are written
// once by bench/baselines.py into bench/.data/training/ (make_classification and make_regression at 20,000, 200,000
// and 1,000,000 rows × 20 features, and the bundled wine, breast_cancer, digits and diabetes; --quick: 20,000 rows
// and the bundled sets, so no 1,000,000-row forest); the last 20% of each set's shuffled rows are the hold-out.
// Per data set, random_forest (100 trees) beside RandomForest, and gradient_boosting (100 iterations, no early
// stopping) beside HistGradientBoosting and XGBoost hist, every side on 2 threads, each fit in a fresh process of
// its own (mlskel: a Node child running src/ through tsx; the baselines: /usr/bin/python3 bench/baselines.py). Sets
// of up to 20,000 rows are measured in 3 rounds in which the sides take turns (the machine's other load drifts; a
// ratio compares figures taken moments apart), larger ones once; figures are medians of the rounds.
// mlskel's fit is timed after a warm-up fit in the same process (the first 20,000 training rows, or all of them):
// JIT compilation and starting worker threads are a once-per-process cost, as importing scikit-learn is, which
// Python's timer leaves out too; the first, cold fit is shown beside where it was on the same rows.
// Targets: random_forest fit ≤ 0.5× RandomForest's at 200,000 rows; gradient_boosting fit ≤ 1.5×
// HistGradientBoosting's at every size from 200,000 rows; hold-out accuracy within 1 point (r2 within 0.01) of
// scikit-learn's same kind, or better, on every set; batch prediction rows/s ≥ scikit-learn's. And peak RSS ≤ 1 GiB
// for a process that loads 1,000,000 × 20 rows (3 classes) and trains gradient_boosting on them (--quick too: it is
// the one figure of that target).
// A fit that fails is a row of the table (FAILED, with its error), so one kind's failure on one set leaves the rest.
import { execFile, spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Dataset, Predictor, Signature } from '../src/models/index.js'
import { PYTHON, PythonBatch } from './python-batch.js'

const repo = resolve(import.meta.dirname, '..')
const self = fileURLToPath(import.meta.url)
const SCRIPT = join(repo, 'bench', 'baselines.py')
const DATA = join(repo, 'bench', '.data', 'training')
const THREADS = 2
const SYNTHETIC_ROWS = [20_000, 200_000, 1_000_000]
const BUNDLED = ['wine', 'breast_cancer', 'digits', 'diabetes'] as const
/** Sets up to this size are measured in ROUNDS rounds; the warm-up fit uses at most this many rows. */
const SMALL_ROWS = 20_000
const ROUNDS = 3
/** Batch prediction is repeated until this long has passed, and the median call taken (as baselines.py does). */
const PREDICT_MS = 200
const MEMORY_ROWS = 1_000_000
/** Random forests are compared up to this many rows. */
const FOREST_ROWS = 200_000
const MEMORY_TARGET_KIB = 1024 * 1024

export { PYTHON }
export const BASELINES_INSTALL = 'apt-get install python3-sklearn python3-xgboost'

/** What mlskel trains in the comparison, as scikit-learn's baselines are configured in baselines.py. */
export const MLSKEL_PARAMS = {
  random_forest: { n_estimators: 100 },
  gradient_boosting: { max_iter: 100, early_stopping: false },
} as const

export type ModelName = keyof typeof MLSKEL_PARAMS
export type BaselineModel = 'rf' | 'hgb' | 'xgb'
/** A generated set (make_classification's classes: 3 unless said) or a bundled one. */
export type DataSource = { kind: 'classification' | 'regression'; rows: number; classes?: number } | { dataset: (typeof BUNDLED)[number] }

export interface DatasetMeta {
  rows: number
  features: number
  kind: 'classification' | 'regression'
  /** Class labels are 0 … classes − 1; 0 for regression. */
  classes: number
  train_rows: number
  test_rows: number
  source: string
  seed: number
}

export interface LoadedDataset {
  meta: DatasetMeta
  signature: Signature
  train: Dataset
  test: Dataset
}

export interface BaselineFit {
  model: BaselineModel
  fit_seconds: number
  metric: 'accuracy' | 'r2'
  score: number
  predict_seconds: number
  predict_rows_per_second: number
  train_rows: number
  test_rows: number
  params: Record<string, unknown>
  versions: { python: string; numpy: string; sklearn: string; xgboost: string | null }
  /** With `predictions`: the test rows' predicted labels or values, and a classifier's probabilities. */
  predictions?: number[]
  proba?: number[][]
}

const run = promisify(execFile)

/** Why each baseline cannot run (with what to install), or undefined when it can. */
export function probeBaselines(): { sklearn: string | undefined; xgboost: string | undefined } {
  const probe = (modules: string): string | undefined => {
    const result = spawnSync(PYTHON, ['-c', `import ${modules}`], { encoding: 'utf8', timeout: 60_000 })
    if (result.status === 0) return undefined
    const why = result.error ? `${PYTHON} could not be run (${result.error.message})` : `${PYTHON} cannot import ${modules.split(', ').join(' or ')}`
    return `${why}; install them with \`${BASELINES_INSTALL}\``
  }
  const sklearn = probe('numpy, sklearn, threadpoolctl')
  return { sklearn, xgboost: sklearn ?? probe('xgboost') }
}

/**
 * One baselines.py process for many commands (its `batch`), for a test that writes and fits a dozen baselines; the
 * benchmark's fits keep a process each.
 */
export class BaselineProcess extends PythonBatch {
  constructor(threads: number) {
    // OMP_NUM_THREADS as well as baselines.py's threadpool limit: OpenMP sizes its pool when first loaded
    super(SCRIPT, { ...process.env, OMP_NUM_THREADS: String(threads) })
  }
}

/** The data set in `dir`, written by baselines.py (through `via` if given) when it is not there yet (meta.json is written last). */
export async function generateDataset(dir: string, source: DataSource, seed = 0, via?: BaselineProcess): Promise<DatasetMeta> {
  const meta = join(dir, 'meta.json')
  if (existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as DatasetMeta
  const args = ['generate', ...('dataset' in source ? ['--dataset', source.dataset] : ['--kind', source.kind, '--rows', String(source.rows), '--features', '20', ...(source.classes ? ['--classes', String(source.classes)] : [])]), '--seed', String(seed), '--out', dir]
  if (via) await via.run(args)
  else await run(PYTHON, [SCRIPT, ...args], { maxBuffer: 1024 * 1024 })
  return JSON.parse(readFileSync(meta, 'utf8')) as DatasetMeta
}

/** Fit, score and time a baseline on the set in `dir` (baselines.py fit); `params` go over its defaults. */
export async function fitBaseline(dir: string, model: BaselineModel, threads: number, o: { params?: Record<string, unknown>; predictions?: boolean; via?: BaselineProcess } = {}): Promise<BaselineFit> {
  const args = ['fit', '--data', dir, '--model', model, '--threads', String(threads), ...(o.params ? [JSON.stringify(o.params)] : []), ...(o.predictions ? ['--predictions'] : [])]
  if (o.via) return JSON.parse(await o.via.run(args)) as BaselineFit
  // OMP_NUM_THREADS as well as baselines.py's threadpool limit: OpenMP sizes its pool when first loaded
  const { stdout } = await run(PYTHON, [SCRIPT, ...args], { env: { ...process.env, OMP_NUM_THREADS: String(threads) }, maxBuffer: 256 * 1024 * 1024 })
  return JSON.parse(stdout) as BaselineFit
}

/**
 * A set written by baselines.py as mlskel's Dataset: rows of numbers (read a block of rows at a time, so a
 * 1,000,000-row set never holds its columns and its rows at once), class indexes as labels 0 … k − 1 of a category
 * target. The first train_rows rows train, the rest are the hold-out.
 */
export function readDataset(dir: string): LoadedDataset {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as DatasetMeta
  const { rows: n, features: F } = meta
  const X: number[][] = new Array<number[]>(n)
  const block = 65_536
  const buffer = new Float64Array(block * F)
  const fd = openSync(join(dir, 'X.f64'), 'r')
  try {
    for (let start = 0; start < n; start += block) {
      const m = Math.min(block, n - start)
      for (let f = 0; f < F; f++) {
        const into = new Uint8Array(buffer.buffer, f * block * 8, m * 8)
        if (readSync(fd, into, 0, m * 8, (f * n + start) * 8) !== m * 8) throw new Error(`${dir}/X.f64 is shorter than ${n} × ${F} values`)
      }
      for (let i = 0; i < m; i++) {
        const row = new Array<number>(F)
        for (let f = 0; f < F; f++) row[f] = buffer[f * block + i]!
        X[start + i] = row
      }
    }
  } finally {
    closeSync(fd)
  }
  const bytes = readFileSync(join(dir, 'y.f64'))
  if (bytes.length !== n * 8) throw new Error(`${dir}/y.f64 holds ${bytes.length / 8} values, not ${n}`)
  const y = Array.from({ length: n }, (_, r) => bytes.readDoubleLE(r * 8))
  const signature: Signature = {
    features: Array.from({ length: F }, (_, f) => ({ name: `x${f}`, type: 'number' as const })),
    target: meta.kind === 'classification' ? { name: 'y', type: 'category', classes: Array.from({ length: meta.classes }, (_, k) => k) } : { name: 'y', type: 'number' },
  }
  const t = meta.train_rows
  return { meta, signature, train: { X: X.slice(0, t), y: y.slice(0, t) }, test: { X: X.slice(t), y: y.slice(t) } }
}

/** Train mlskel's kind on `data` with the comparison's hyper-parameters, on `threads` threads, seed 0. */
export async function trainMlskel(model: ModelName, set: Pick<LoadedDataset, 'meta' | 'signature'>, data: Dataset, threads: number, extra: Record<string, unknown> = {}): Promise<Predictor> {
  const { trainGradientBoosting, trainRandomForest } = await import('../src/models/index.js')
  const o = { task: set.meta.kind, seed: 0, signature: set.signature, data }
  return model === 'random_forest'
    ? trainRandomForest({ ...o, hyperParameters: { ...MLSKEL_PARAMS.random_forest, n_jobs: threads, ...extra } })
    : trainGradientBoosting({ ...o, hyperParameters: { ...MLSKEL_PARAMS.gradient_boosting, n_jobs: threads, ...extra } })
}

// ---- the benchmark ----

interface Side {
  fitSeconds: number
  score: number
  predictRowsPerSecond: number
}

export interface FitRow {
  type: 'fit'
  data: string
  rows: number
  model: ModelName
  metric: 'accuracy' | 'r2'
  /** Null when mlskel's fit failed: `missed` says how. */
  mlskel: Side | null
  /** mlskel's first fit in a fresh process, when the warm-up fit was on the same rows. */
  coldSeconds: number | null
  sklearn: Side | null
  xgboost: Side | null
  /** Medians over the rounds of the per-round ratios mlskel / scikit-learn (and XGBoost). */
  fitRatio: number | null
  xgbFitRatio: number | null
  predictRatio: number | null
  /** The highest 1-minute load average seen at the start of the row's fits. */
  load: number
  rounds: number
  missed: string[]
  ok: boolean | undefined
}

export interface MemoryRow {
  type: 'memory'
  name: string
  /** Why the child failed, or null. */
  failure: string | null
  maxRssKiB: number
  /** RSS once the rows are loaded, before training: the data's share. */
  loadedRssKiB: number
  fitSeconds: number
  load: number
  ok: boolean
}

export type TrainingRow = FitRow | MemoryRow

interface MlskelChild {
  fit_seconds: number
  cold_seconds: number | null
  score: number
  predict_rows_per_second: number
}

class ChildFailed extends Error {}

function mlskelChild(...args: string[]): unknown {
  const result = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', ...args], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (result.status !== 0) {
    // the error's own line (the stack's first), else how the process ended
    const line = result.stderr.split('\n').find((l) => /^\w*(Error|Exception)\b/.test(l.trim()))?.trim()
    throw new ChildFailed(line ?? `exit ${result.status ?? result.signal}`)
  }
  return JSON.parse(result.stdout.trim().split('\n').pop()!)
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const load1 = (): number => loadavg()[0]!

async function measure(data: string, dir: string, meta: DatasetMeta, model: ModelName, baselines: { sklearn: boolean; xgboost: boolean }): Promise<FitRow> {
  const rounds = meta.rows <= SMALL_ROWS ? ROUNDS : 1
  const mine: MlskelChild[] = []
  const theirs: BaselineFit[] = []
  const xgb: BaselineFit[] = []
  const loads: number[] = []
  let failure: string | null = null
  for (let round = 0; round < rounds && failure === null; round++) {
    loads.push(load1())
    try {
      mine.push(mlskelChild('fit', dir, model, String(THREADS)) as MlskelChild)
    } catch (error) {
      // a failed fit is a row of the table (the baselines still measured), not the end of the benchmark
      if (!(error instanceof ChildFailed)) throw error
      failure = error.message
      console.log(`training: mlskel's ${model} failed on ${data} ${meta.rows.toLocaleString('en')}: ${failure}`)
    }
    if (baselines.sklearn) {
      loads.push(load1())
      theirs.push(await fitBaseline(dir, model === 'random_forest' ? 'rf' : 'hgb', THREADS))
    }
    if (baselines.xgboost && model === 'gradient_boosting') {
      loads.push(load1())
      xgb.push(await fitBaseline(dir, 'xgb', THREADS))
    }
  }
  const side = (fits: { fit_seconds: number; score: number; predict_rows_per_second: number }[]): Side | null =>
    fits.length === 0 ? null : { fitSeconds: median(fits.map((f) => f.fit_seconds)), score: fits[0]!.score, predictRowsPerSecond: median(fits.map((f) => f.predict_rows_per_second)) }
  const ratio = (a: number[], b: number[]): number | null => (a.length === 0 || b.length === 0 ? null : median(a.map((v, i) => v / b[i]!)))
  const sklearn = side(theirs)
  const row: FitRow = {
    type: 'fit',
    data,
    rows: meta.rows,
    model,
    metric: meta.kind === 'classification' ? 'accuracy' : 'r2',
    mlskel: side(mine),
    coldSeconds: mine.length > 0 && mine.every((m) => m.cold_seconds !== null) ? median(mine.map((m) => m.cold_seconds!)) : null,
    sklearn,
    xgboost: side(xgb),
    fitRatio: ratio(mine.map((m) => m.fit_seconds), theirs.map((t) => t.fit_seconds)),
    xgbFitRatio: ratio(mine.map((m) => m.fit_seconds), xgb.map((t) => t.fit_seconds)),
    predictRatio: ratio(mine.map((m) => m.predict_rows_per_second), theirs.map((t) => t.predict_rows_per_second)),
    load: Math.max(...loads),
    rounds,
    missed: [],
    ok: undefined,
  }
  if (failure !== null) {
    row.missed.push(`mlskel's fit: ${failure}`)
    row.ok = false
  } else if (sklearn && row.mlskel && row.fitRatio !== null && row.predictRatio !== null) {
    if (model === 'random_forest' && meta.rows === 200_000 && row.fitRatio > 0.5) row.missed.push(`fit ${row.fitRatio.toFixed(2)}× > 0.5×`)
    if (model === 'gradient_boosting' && meta.rows >= 200_000 && row.fitRatio > 1.5) row.missed.push(`fit ${row.fitRatio.toFixed(2)}× > 1.5×`)
    // 1 point of accuracy, 0.01 of r2; the epsilon keeps a gap of exactly 0.01 a pass (0.95 - 0.96 is -0.010000000000000009)
    const delta = row.mlskel.score - sklearn.score
    if (delta < -0.01 - 1e-9) row.missed.push(`${row.metric} ${delta.toFixed(3)}`)
    if (row.predictRatio < 1) row.missed.push(`predict ${row.predictRatio.toFixed(2)}×`)
    row.ok = row.missed.length === 0
  }
  return row
}

export async function trainingBench(o: { quick?: boolean } = {}): Promise<TrainingRow[]> {
  const missing = probeBaselines()
  if (missing.sklearn) console.log(`\ntraining: skipping the scikit-learn and XGBoost baselines: ${missing.sklearn}`)
  else if (missing.xgboost) console.log(`\ntraining: skipping the XGBoost baseline: ${missing.xgboost}`)
  const load = load1()
  if (load > cpus().length / 2) console.log(`training: load average ${load.toFixed(1)} on ${cpus().length} cores: other processes compete for the CPU; each row shows the load it saw`)
  const sets: { name: string; dir: string; source: DataSource }[] = [
    ...BUNDLED.map((dataset) => ({ name: dataset, dir: join(DATA, dataset), source: { dataset } })),
    ...(o.quick ? [SMALL_ROWS] : SYNTHETIC_ROWS).flatMap((rows) =>
      (['classification', 'regression'] as const).map((kind) => ({ name: `make_${kind}`, dir: join(DATA, `${kind}-${rows}`), source: { kind, rows } })),
    ),
  ]
  const rows: TrainingRow[] = []
  for (const set of sets) {
    if (!existsSync(join(set.dir, 'meta.json')) && missing.sklearn) {
      console.log(`training: ${set.name} skipped: its data is made by scikit-learn`)
      continue
    }
    const meta = await generateDataset(set.dir, set.source)
    for (const model of ['random_forest', 'gradient_boosting'] as const) {
      if (model === 'random_forest' && meta.rows > FOREST_ROWS) {
        console.log(`training: ${set.name} ${meta.rows.toLocaleString('en')} rows, random_forest skipped: fully grown trees of so many rows hold some 10^8 nodes (several GB in either library); the forests' target is at 200,000 rows`)
        continue
      }
      console.log(`training: ${set.name} ${meta.rows.toLocaleString('en')} rows, ${model}…`)
      rows.push(await measure(set.name, set.dir, meta, model, { sklearn: !missing.sklearn, xgboost: !missing.xgboost }))
    }
  }
  // the peak-memory row: a process of its own, loading the rows and training, nothing else
  const memoryDir = join(DATA, `classification-${MEMORY_ROWS}`)
  if (existsSync(join(memoryDir, 'meta.json')) || !missing.sklearn) {
    await generateDataset(memoryDir, { kind: 'classification', rows: MEMORY_ROWS })
    console.log(`training: peak memory, gradient_boosting on ${MEMORY_ROWS.toLocaleString('en')} rows…`)
    const before = load1()
    const name = `gradient_boosting, ${MEMORY_ROWS.toLocaleString('en')} × 20, 3 classes`
    try {
      const m = mlskelChild('memory', memoryDir, String(THREADS)) as { fit_seconds: number; loaded_rss_kib: number; max_rss_kib: number }
      rows.push({ type: 'memory', name, failure: null, maxRssKiB: m.max_rss_kib, loadedRssKiB: m.loaded_rss_kib, fitSeconds: m.fit_seconds, load: before, ok: m.max_rss_kib <= MEMORY_TARGET_KIB })
    } catch (error) {
      if (!(error instanceof ChildFailed)) throw error
      rows.push({ type: 'memory', name, failure: error.message, maxRssKiB: NaN, loadedRssKiB: NaN, fitSeconds: NaN, load: before, ok: false })
    }
  }
  return rows
}

const fmtSeconds = (s: number | null | undefined): string => (s === null || s === undefined ? '–' : s < 10 ? s.toFixed(2) : s.toFixed(1))
const fmtRatio = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)}×`)
const fmtScore = (s: number | null | undefined): string => (s === null || s === undefined ? '–' : s.toFixed(3))
const fmtRate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(0)}k` : r.toFixed(0))

/** The table's columns: heading, width, and the cell of a row ('–' where there is no figure). */
const COLUMNS: [string, number, (r: FitRow) => string][] = [
  ['data set', -20, (r) => r.data],
  ['rows', 10, (r) => r.rows.toLocaleString('en')],
  ['  model', -19, (r) => `  ${r.model}`],
  ['mlskel', 8, (r) => fmtSeconds(r.mlskel?.fitSeconds)],
  ['cold', 7, (r) => fmtSeconds(r.coldSeconds)],
  ['sklearn', 8, (r) => fmtSeconds(r.sklearn?.fitSeconds)],
  ['×', 7, (r) => fmtRatio(r.fitRatio)],
  ['xgb', 7, (r) => fmtSeconds(r.xgboost?.fitSeconds)],
  ['× xgb', 7, (r) => fmtRatio(r.xgbFitRatio)],
  ['metric', 9, (r) => r.metric],
  ['mlskel', 8, (r) => fmtScore(r.mlskel?.score)],
  ['sklearn', 8, (r) => fmtScore(r.sklearn?.score)],
  ['Δ', 8, (r) => (r.mlskel && r.sklearn ? `${r.mlskel.score >= r.sklearn.score ? '+' : ''}${(r.mlskel.score - r.sklearn.score).toFixed(3)}` : '–')],
  ['xgb', 7, (r) => fmtScore(r.xgboost?.score)],
  ['pred/s', 9, (r) => (r.mlskel ? fmtRate(r.mlskel.predictRowsPerSecond) : '–')],
  ['×', 9, (r) => fmtRatio(r.predictRatio)],
  ['load', 6, (r) => r.load.toFixed(1)],
]
const cell = (text: string, width: number): string => (width < 0 ? text.padEnd(-width) : text.padStart(width))

export function printTrainingRows(rows: readonly TrainingRow[]): void {
  console.log(
    `\ntraining: mlskel (Node ${process.version}, src/ through tsx) vs scikit-learn and XGBoost hist, ${THREADS} threads each, on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}); ` +
      `fit in seconds (median of ${ROUNDS} rounds up to ${SMALL_ROWS.toLocaleString('en')} rows, 1 above; cold: mlskel's first fit in its process); × = mlskel / baseline; score on the 20% hold-out (accuracy or r2); ` +
      `pred/s = mlskel's batch prediction over the hold-out; load = highest 1-minute load average at the row's fits (this benchmark alone keeps it near ${THREADS})\n`,
  )
  console.log(`${COLUMNS.map(([heading, width]) => cell(heading, width)).join('')}  verdict`)
  for (const r of rows) {
    if (r.type !== 'fit') continue
    const verdict = r.ok === undefined ? '(no baseline)' : r.ok ? 'ok' : `${r.mlskel ? 'MISSED' : 'FAILED'}: ${r.missed.join(', ')}`
    console.log(`${COLUMNS.map(([, width, value]) => cell(value(r), width)).join('')}  ${verdict}`)
  }
  console.log(`\ntargets: random_forest fit ≤ 0.5× at 200,000 rows; gradient_boosting fit ≤ 1.5× HistGradientBoosting from 200,000 rows; hold-out score ≥ scikit-learn's − 0.01; predict rows/s ≥ 1× scikit-learn's`)
  for (const r of rows) {
    if (r.type !== 'memory') continue
    if (r.failure !== null) {
      console.log(`peak RSS, ${r.name}: FAILED: ${r.failure}`)
      continue
    }
    console.log(
      `peak RSS, ${r.name} (a child process loading the rows as number[][] and training on ${THREADS} threads): ${(r.maxRssKiB / 1024).toFixed(0)} MiB ` +
        `(${(r.loadedRssKiB / 1024).toFixed(0)} MiB with the rows loaded, before training; fit ${fmtSeconds(r.fitSeconds)} s; load ${r.load.toFixed(1)}); target ≤ 1024 MiB: ${r.ok ? 'ok' : 'OVER TARGET'}`,
    )
  }
}

// ---- mlskel's side, in a child process ----

/**
 * Batch prediction over `X` on `threads` threads (predictBatch, as scikit-learn's predict uses its n_jobs), after a
 * warm-up call, repeated at least 3 times and until PREDICT_MS have passed (as baselines.py does): the median call's
 * rows per second, and its output.
 */
async function timedPredict(predictor: Predictor, X: number[][], threads: number): Promise<{ rowsPerSecond: number; predicted: (string | number)[] }> {
  const call = async () => (predictor.predictBatch ? (await predictor.predictBatch(X, { threads })).predictions : predictor.predict(X))
  await call()
  const samples: number[] = []
  const started = performance.now()
  for (;;) {
    const t = performance.now()
    const predicted = await call()
    samples.push(performance.now() - t)
    if (samples.length >= 3 && performance.now() - started >= PREDICT_MS) return { rowsPerSecond: X.length / (median(samples) / 1000), predicted }
  }
}

async function childFit(dir: string, model: ModelName, threads: number): Promise<void> {
  const { accuracy, r2 } = await import('../src/models/index.js')
  const set = readDataset(dir)
  // the warm-up: JIT and worker threads; on the same rows when they are few, so that it is also the cold figure
  const same = set.train.X.length <= SMALL_ROWS
  const warmData = same ? set.train : { X: set.train.X.slice(0, SMALL_ROWS), y: set.train.y.slice(0, SMALL_ROWS) }
  let t = performance.now()
  await trainMlskel(model, set, warmData, threads)
  const cold = (performance.now() - t) / 1000
  t = performance.now()
  const predictor = await trainMlskel(model, set, set.train, threads)
  const fitSeconds = (performance.now() - t) / 1000
  const { rowsPerSecond, predicted } = await timedPredict(predictor, set.test.X, threads)
  const score = set.meta.kind === 'classification' ? accuracy(set.test.y, predicted) : r2(set.test.y.map(Number), predicted.map(Number))
  console.log(JSON.stringify({ fit_seconds: fitSeconds, cold_seconds: same ? cold : null, score, predict_rows_per_second: rowsPerSecond, max_rss_kib: process.resourceUsage().maxRSS }))
}

async function childMemory(dir: string, threads: number): Promise<void> {
  const set = readDataset(dir)
  // every row, the hold-out too: the target is about training on 1,000,000 rows
  const data = { X: set.train.X.concat(set.test.X), y: set.train.y.concat(set.test.y) }
  const loaded = Math.round(process.memoryUsage().rss / 1024)
  const t = performance.now()
  await trainMlskel('gradient_boosting', set, data, threads)
  const fitSeconds = (performance.now() - t) / 1000
  console.log(JSON.stringify({ fit_seconds: fitSeconds, loaded_rss_kib: loaded, max_rss_kib: process.resourceUsage().maxRSS }))
}

if (process.argv[1] && resolve(process.argv[1]) === self) {
  const [, , flag, what, ...args] = process.argv
  if (flag === '--child') {
    const job = what === 'fit' ? childFit(args[0]!, args[1] as ModelName, Number(args[2])) : childMemory(args[0]!, Number(args[1]))
    await job
  } else {
    const rows = await trainingBench({ quick: process.argv.includes('--quick') })
    printTrainingRows(rows)
    process.exitCode = rows.every((r) => r.ok !== false) ? 0 : 1
  }
}
