// The xgboost kind's benchmark (the seventh part of `npm run bench`; alone: `npx tsx bench/xgboost.ts`): batch
// prediction rows/s of mlskel's native predictor of XGBoost's JSON models against XGBoost's own Python predict
// (XGBClassifier/XGBRegressor.predict, its C++ on every core), on the same 100,000 rows and the same model, in the same
// run: 300 trees of depth 6 on 20 features for a 3-class problem (900 trees) and for a regression, trained by XGBoost
// on 20,000 other rows, a twentieth of the values missing. bench/xgboost_predict.py makes the models and rows once
// into bench/.data/xgboost/ and times XGBoost; mlskel's side runs in a child process of its own (src/ through tsx):
// it reads the model with readXgboostModel, makes a warm-up call, then times predictBatch on every core (the input as
// number[][], as a project passes it) at least 3 times and for a second, and takes the median call, as the Python
// side does. 3 rounds in which the sides take turns (the machine's other load drifts; a ratio compares figures taken
// moments apart); the ratio is the median of the rounds' ratios; each row shows the highest 1-minute load average
// at its rounds. Target: ≥ 1.0× XGBoost's rows/s; and mlskel's predictions must be XGBoost's (the same labels, values
// within 1e-6), or the row fails.
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PYTHON } from './python-batch.js'

const repo = resolve(import.meta.dirname, '..')
const self = fileURLToPath(import.meta.url)
const SCRIPT = join(repo, 'bench', 'xgboost_predict.py')
const DATA = join(repo, 'bench', '.data', 'xgboost')
const INSTALL = 'apt-get install python3-xgboost'
const ROWS = 100_000
const TREES = 300
const DEPTH = 6
const ROUNDS = 3
/** Calls are repeated until this long has passed (and at least 3 times), as xgboost_predict.py does. */
const PREDICT_MS = 1000
const TASKS = ['classification', 'regression'] as const
type BenchTask = (typeof TASKS)[number]

export interface XgboostRow {
  task: BenchTask
  trees: number
  rows: number
  threads: number
  /** Medians over the rounds. */
  mlskelRowsPerSecond: number
  xgboostRowsPerSecond: number
  /** Median of the rounds' mlskel / XGBoost. */
  ratio: number
  /** mlskel's predictions against XGBoost's: labels that differ, and the largest difference of a value. */
  mismatches: number
  maxDifference: number
  /** Milliseconds to read the model (readXgboostModel on the file's bytes), in mlskel's first round. */
  loadMs: number
  load: number
  ok: boolean
}

interface Meta {
  task: BenchTask
  rows: number
  features: number
  classes: number
  trees: number
  depth: number
  xgboost: string
}

interface MlskelChild {
  rows_per_second: number
  load_ms: number
  mismatches: number
  max_difference: number
}

const run = promisify(execFile)
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const load1 = (): number => loadavg()[0]!

/** Why XGBoost cannot run here (with what to install), or undefined. */
function probe(): string | undefined {
  const result = spawnSync(PYTHON, ['-c', 'import numpy, xgboost'], { encoding: 'utf8', timeout: 60_000 })
  if (result.status === 0) return undefined
  return `${result.error ? `${PYTHON} could not be run (${result.error.message})` : `${PYTHON} cannot import xgboost`}; install it with \`${INSTALL}\``
}

/** The model and rows of a task, made by xgboost_predict.py when they are not there (meta.json is written last). */
async function made(task: BenchTask): Promise<{ dir: string; meta: Meta }> {
  const dir = join(DATA, `${task}-${ROWS}-${TREES}x${DEPTH}`)
  if (!existsSync(join(dir, 'meta.json'))) {
    console.log(`xgboost: training XGBoost's ${task} model (${TREES} trees of depth ${DEPTH}) and writing ${ROWS.toLocaleString('en')} rows into ${dir} (once)…`)
    await run(PYTHON, [SCRIPT, 'make', dir, '--task', task, '--rows', String(ROWS), '--trees', String(TREES), '--depth', String(DEPTH)], { maxBuffer: 16 * 1024 * 1024 })
  }
  return { dir, meta: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta }
}

function mlskelChild(dir: string, threads: number): MlskelChild {
  const result = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', dir, String(threads)], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`mlskel's side failed (exit ${result.status ?? result.signal}):\n${result.stderr.slice(-4000)}`)
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as MlskelChild
}

async function xgboostSide(dir: string, threads: number): Promise<number> {
  // OMP_NUM_THREADS as well as n_jobs: OpenMP sizes its pool when first loaded
  const { stdout } = await run(PYTHON, [SCRIPT, 'time', dir, '--threads', String(threads)], { env: { ...process.env, OMP_NUM_THREADS: String(threads) } })
  return (JSON.parse(stdout) as { rows_per_second: number }).rows_per_second
}

export async function xgboostBench(): Promise<XgboostRow[]> {
  const missing = probe()
  if (missing) {
    console.log(`\nxgboost: skipped: ${missing}`)
    return []
  }
  const threads = availableParallelism()
  const rows: XgboostRow[] = []
  for (const task of TASKS) {
    const { dir, meta } = await made(task)
    console.log(`xgboost: ${task}, ${meta.trees * Math.max(1, meta.classes)} trees, ${meta.rows.toLocaleString('en')} rows…`)
    const mine: MlskelChild[] = []
    const theirs: number[] = []
    const loads: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(load1())
      mine.push(mlskelChild(dir, threads))
      loads.push(load1())
      theirs.push(await xgboostSide(dir, threads))
    }
    const mismatches = Math.max(...mine.map((m) => m.mismatches))
    const maxDifference = Math.max(...mine.map((m) => m.max_difference))
    const ratio = median(mine.map((m, i) => m.rows_per_second / theirs[i]!))
    rows.push({
      task,
      trees: meta.trees * Math.max(1, meta.classes),
      rows: meta.rows,
      threads,
      mlskelRowsPerSecond: median(mine.map((m) => m.rows_per_second)),
      xgboostRowsPerSecond: median(theirs),
      ratio,
      mismatches,
      maxDifference,
      loadMs: mine[0]!.load_ms,
      load: Math.max(...loads),
      ok: ratio >= 1 && mismatches === 0 && maxDifference <= 1e-6,
    })
  }
  return rows
}

const rate = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(0)}k`)

export function printXgboostRows(rows: readonly XgboostRow[]): void {
  if (rows.length === 0) return
  console.log(
    `\nxgboost: batch prediction of the xgboost kind (Node ${process.version}, src/ through tsx) vs XGBoost's XGBClassifier/XGBRegressor.predict, ` +
      `both on ${rows[0]!.threads} threads, on ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}); rows/s = median call of ${ROUNDS} rounds; ` +
      `× = mlskel / XGBoost (median of the rounds' ratios); agreement = labels that differ, or the largest difference of a value; load = highest 1-minute load average at the rounds\n`,
  )
  console.log(`${'model'.padEnd(36)}${'rows'.padStart(9)}${'mlskel'.padStart(9)}${'XGBoost'.padStart(9)}${'×'.padStart(7)}${'agreement'.padStart(11)}${'read'.padStart(8)}${'load'.padStart(6)}  verdict`)
  for (const r of rows) {
    const agreement = r.task === 'classification' ? `${r.mismatches} labels` : r.maxDifference === 0 ? '0' : r.maxDifference.toExponential(1)
    const missed = [...(r.ratio < 1 ? [`${r.ratio.toFixed(2)}× < 1.0×`] : []), ...(r.mismatches > 0 || r.maxDifference > 1e-6 ? ['predictions differ from XGBoost\'s'] : [])]
    console.log(
      `${`${r.task}, ${r.trees} trees, depth ${DEPTH}`.padEnd(36)}${r.rows.toLocaleString('en').padStart(9)}${rate(r.mlskelRowsPerSecond).padStart(9)}${rate(r.xgboostRowsPerSecond).padStart(9)}${`${r.ratio.toFixed(2)}×`.padStart(7)}${agreement.padStart(11)}${`${r.loadMs.toFixed(0)} ms`.padStart(8)}${r.load.toFixed(1).padStart(6)}  ${r.ok ? 'ok' : `MISSED: ${missed.join(', ')}`}`,
    )
  }
  console.log('target: batch prediction rows/s ≥ 1.0× XGBoost\'s, with its predictions')
}

// ---- mlskel's side, in a child process ----

async function child(dir: string, threads: number): Promise<void> {
  const { readXgboostModel } = await import('../src/models/index.js')
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta
  const F = meta.features
  const bytes = readFileSync(join(dir, 'X.f64'))
  const values = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8)
  const X = Array.from({ length: meta.rows }, (_, r) => Array.from(values.subarray(r * F, (r + 1) * F)))
  const expectedBytes = readFileSync(join(dir, 'predict.f64'))
  const expected = new Float64Array(expectedBytes.buffer, expectedBytes.byteOffset, expectedBytes.byteLength / 8)
  let t = performance.now()
  const { predictor } = readXgboostModel(readFileSync(join(dir, 'model.json')))
  const loadMs = performance.now() - t
  const call = async () => (await predictor.predictBatch!(X, { threads })).predictions
  await call()
  const samples: number[] = []
  const started = performance.now()
  let predicted: (string | number)[] = []
  while (samples.length < 3 || performance.now() - started < PREDICT_MS) {
    t = performance.now()
    predicted = await call()
    samples.push(performance.now() - t)
  }
  let mismatches = 0
  let maxDifference = 0
  predicted.forEach((p, i) => {
    if (meta.task === 'classification') mismatches += p === expected[i] ? 0 : 1
    else maxDifference = Math.max(maxDifference, Math.abs(Number(p) - expected[i]!))
  })
  console.log(JSON.stringify({ rows_per_second: meta.rows / (median(samples) / 1000), load_ms: loadMs, mismatches, max_difference: maxDifference } satisfies MlskelChild))
}

if (process.argv[1] && resolve(process.argv[1]) === self) {
  const [, , flag, ...args] = process.argv
  if (flag === '--child') {
    await child(args[0]!, Number(args[1]))
  } else {
    const rows = await xgboostBench()
    printXgboostRows(rows)
    process.exitCode = rows.every((r) => r.ok) ? 0 : 1
  }
}
