// npm run bench: the performance targets of the CLI, measured on the built package. Each figure is a median of
// whole-command wall times, shown beside its target and as a ratio to the baseline measured in the same run
// (`node -e 0`: the cost of starting Node at all on this machine). The second part is the hashing benchmark
// (bench/hashing.ts); `npm run bench -- --keep` keeps its 12 GiB of generated data for the next run. The third is
// the prediction API's (bench/serve.ts): `mlskel serve`'s /predict on the iris fixture's model, and on imported
// XGBoost and ONNX models, against a bare node:http server, over loopback. The fourth is `mlskel check`'s (bench/check.ts): every rule but coverage, on the
// iris project and on one of 10,000 files. The fifth is the reports' (bench/report.ts): `mlskel report explore` on
// a 1M-row Parquet file. The sixth is training's (bench/training.ts): the tree kinds against scikit-learn and XGBoost
// on up to 1M rows (`npm run bench -- --quick`: 20,000 rows and the bundled sets only). The seventh is the xgboost
// kind's batch prediction against XGBoost's own predict on the same 100,000 rows and models (bench/xgboost.ts). The
// eighth is the onnx kind's one-row predictions against ONNX Runtime's own run of one row (bench/onnx.ts). The
// last is the whole pipeline on 1,000,000 rows (bench/pipeline.ts; --quick: 100,000).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Hasher } from '../src/hashing/index.js'
import { checkBench, printCheckRows } from './check.js'
import { hashingBench, printHashingRows } from './hashing.js'
import { onnxBench, printOnnxRows } from './onnx.js'
import { pipelineBench, printPipelineRow, TEMPLATE_STAMP } from './pipeline.js'
import { printReportRows, reportBench } from './report.js'
import { printServeRows, serveBench } from './serve.js'
import { printTrainingRows, trainingBench } from './training.js'
import { printXgboostRows, xgboostBench } from './xgboost.js'

const repo = resolve(import.meta.dirname, '..')
const cli = join(repo, 'dist', 'cli', 'index.js')
const work = join(repo, 'bench', '.data')
const project = join(work, 'iris')

function time(command: string, args: string[], cwd: string, setup?: () => void): number {
  setup?.()
  const start = performance.now()
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
  const elapsed = performance.now() - start
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`)
  return elapsed
}

function median(command: string, args: string[], cwd: string, runs: number, setup?: () => void): number {
  time(command, args, cwd, setup) // warm the page cache and the module cache
  const samples = Array.from({ length: runs }, () => time(command, args, cwd, setup)).sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]!
}

interface Row {
  name: string
  ms: number
  targetMs: number
}

const rows: Row[] = []
const node = median(process.execPath, ['-e', '0'], repo, 20)

rows.push({ name: 'mlskel --help', ms: median(process.execPath, [cli, '--help'], repo, 20), targetMs: 150 })

const scratch = join(work, 'new')
rows.push({
  name: 'mlskel new --no-install',
  ms: median(process.execPath, [cli, 'new', scratch, '--no-install'], repo, 10, () => rmSync(scratch, { recursive: true, force: true })),
  targetMs: 1000,
})

// an installed iris project, reused by later runs of the benchmark until the template changes
const templateHash = await (await Hasher.open()).dir(join(repo, 'template'))
const stamp = join(project, TEMPLATE_STAMP)
if (!existsSync(join(project, 'node_modules')) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== templateHash) {
  rmSync(project, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  console.log('setting up bench/.data/iris (mlskel new with install, for this version of the template)…')
  time(process.execPath, [cli, 'new', project, '--no-git'], repo)
  writeFileSync(stamp, templateHash)
}
const mlskelBin = join(project, 'node_modules', '.bin', 'mlskel')
rows.push({ name: 'iris pipeline, every stage run', ms: median(mlskelBin, ['run', '--force'], project, 3), targetMs: 10_000 })
rows.push({ name: 'iris pipeline, no-op re-run', ms: median(mlskelBin, ['run'], project, 10), targetMs: 300 })

console.log(`\nbaseline: node -e 0 = ${node.toFixed(0)} ms (median of 20)\n`)
console.log(`${'benchmark'.padEnd(34)}${'median'.padStart(10)}${'target'.padStart(10)}${'× node'.padStart(9)}  verdict`)
for (const row of rows) {
  const verdict = row.ms <= row.targetMs ? 'ok' : 'OVER TARGET'
  console.log(`${row.name.padEnd(34)}${`${row.ms.toFixed(0)} ms`.padStart(10)}${`${row.targetMs} ms`.padStart(10)}${(row.ms / node).toFixed(1).padStart(9)}  ${verdict}`)
}
const cliOk = rows.every((row) => row.ms <= row.targetMs)

const hashingRows = await hashingBench({ keep: process.argv.includes('--keep') })
printHashingRows(hashingRows)

const serveRows = await serveBench({ project })
printServeRows(serveRows)

const checkRows = checkBench({ project, work })
printCheckRows(checkRows, node)

const reportRows = await reportBench()
printReportRows(reportRows)

const trainingRows = await trainingBench({ quick: process.argv.includes('--quick') })
printTrainingRows(trainingRows)

const xgboostRows = await xgboostBench()
printXgboostRows(xgboostRows)

const onnxRows = await onnxBench()
printOnnxRows(onnxRows)

const pipelineRow = await pipelineBench({ fixture: project, work, ...(process.argv.includes('--quick') ? { rows: 100_000 } : {}) })
printPipelineRow(pipelineRow)
process.exitCode =
  cliOk && hashingRows.every((row) => row.ok !== false) && serveRows.every((row) => row.ok !== false) && checkRows.every((row) => row.ok) && reportRows.every((row) => row.ok !== false) && trainingRows.every((row) => row.ok !== false) && xgboostRows.every((row) => row.ok) && onnxRows.every((row) => row.ok) && pipelineRow.ok ? 0 : 1
