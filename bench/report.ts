// The explorative report's benchmark (alone: `npm run build && npx tsx bench/report.ts`): the whole
// `mlskel report explore <file>` command on the built package, on a 1,000,000-row Parquet file of 10 numeric
// columns (normal, uniform, skewed, integer, with some missing values) and a categorical target: target ≤ 10 s.
// The file is made by DuckDB into bench/.data/report/ once and reused. The figure is the median of warm runs (the
// first, cold run beside it), with its ratio to `node -e 0` measured in the same run.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sqlString, withDuckDB } from '../src/report/duckdb.js'

const repo = resolve(import.meta.dirname, '..')
const cli = join(repo, 'dist', 'cli', 'index.js')
const project = join(repo, 'bench', '.data', 'report')
const ROWS = 1_000_000
const TARGET_MS = 10_000
const RUNS = 3

export interface ReportRow {
  name: string
  ms: number
  coldMs: number
  targetMs: number
  /** `node -e 0` in the same run: the cost of starting Node at all on this machine. */
  nodeMs: number
  rows: number
  ok: boolean
}

/** A project folder holding the 1M-row Parquet file (made when missing); params.yaml names its target. */
async function fixture(): Promise<string> {
  const file = join(project, 'data', 'big.parquet')
  if (existsSync(file)) return file
  mkdirSync(join(project, 'data'), { recursive: true })
  writeFileSync(join(project, 'mlskel.yaml'), '# the report benchmark\'s project: only its root matters\nstages: {}\n')
  writeFileSync(join(project, 'params.yaml'), 'dataset:\n  raw: big.csv\n  target: label\ntask: classification\n')
  await withDuckDB(async (db) => {
    // Box-Muller normals, uniforms, a skewed column, integers, and 1 % missing values in two columns
    const normal = (mean: number, sd: number) => `${mean} + ${sd} * sqrt(-2 * ln(random() + 1e-12)) * cos(2 * pi() * random())`
    await db.run(`COPY (
      SELECT ${normal(0, 1)} AS x0, ${normal(10, 3)} AS x1, random() AS x2, random() * 100 - 50 AS x3, exp(${normal(0, 1)}) AS x4,
        (random() * 10)::INTEGER AS x5, (random() * 1000)::BIGINT AS x6,
        CASE WHEN random() < 0.01 THEN NULL ELSE i / ${ROWS} + random() * 0.1 END AS x7,
        CASE WHEN random() < 0.01 THEN NULL ELSE ${normal(5, 2)} END AS x8, i % 97 AS x9,
        ['setosa', 'versicolor', 'virginica'][1 + (i % 3)::INTEGER] AS label
      FROM range(${ROWS}) t(i)
    ) TO ${sqlString(file)} (FORMAT parquet)`)
  })
  return file
}

function timed(args: string[]): number {
  const start = performance.now()
  const result = spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  const ms = performance.now() - start
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
  return ms
}

function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
}

export async function reportBench(): Promise<ReportRow[]> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`)
  const file = await fixture()
  const args = [cli, 'report', 'explore', file]
  const nodeMs = median(Array.from({ length: 10 }, () => timed(['-e', '0'])))
  const coldMs = timed(args)
  const ms = median(Array.from({ length: RUNS }, () => timed(args)))
  return [{ name: `mlskel report explore, ${ROWS.toLocaleString('en')}-row Parquet`, ms, coldMs, targetMs: TARGET_MS, nodeMs, rows: ROWS, ok: ms <= TARGET_MS }]
}

export function printReportRows(rows: ReportRow[]): void {
  console.log(`\nmlskel report explore (11 columns: 10 numeric, a categorical target); median of ${RUNS} warm runs (the first, cold run beside); node -e 0 = ${rows[0]?.nodeMs.toFixed(0) ?? '?'} ms\n`)
  console.log(`${'benchmark'.padEnd(48)}${'median'.padStart(10)}${'cold'.padStart(10)}${'target'.padStart(10)}${'× node'.padStart(9)}  verdict`)
  for (const r of rows) {
    console.log(`${r.name.padEnd(48)}${`${r.ms.toFixed(0)} ms`.padStart(10)}${`${r.coldMs.toFixed(0)} ms`.padStart(10)}${`${r.targetMs} ms`.padStart(10)}${(r.ms / r.nodeMs).toFixed(1).padStart(9)}  ${r.ok ? 'ok' : 'OVER TARGET'}`)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const rows = await reportBench()
  printReportRows(rows)
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1
}
