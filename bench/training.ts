// npx tsx bench/training.ts [rows,rows,…]: random-forest training time with ml-cart's own split search and with
// mlskel's fast one (src/models/fast-split.ts), measured in the same run on the same data, and whether the two
// trained models are the same (they should be, to the byte). 10 trees, 20 features, default hyper-parameters
// otherwise (bootstrap, all features per tree). The original is O(rows²) per feature per node: 4,000 rows take
// minutes; pass smaller sizes for a quick look, e.g. `npx tsx bench/training.ts 500,1000`.
import { performance } from 'node:perf_hooks'
import { MersenneTwister19937, integer, real } from 'random-js'
import { installFastSplit, uninstallFastSplit } from '../src/models/fast-split.js'
import { trainRandomForest } from '../src/models/random-forest.js'
import type { Dataset, Signature } from '../src/models/types.js'

const FEATURES = 20
const TREES = 10
const sizes = (process.argv[2] ?? '1000,4000').split(',').map(Number)

type Task = 'classification' | 'regression'

/** 20 features: 14 continuous, 6 with few distinct values (ties); the target depends on a handful of them. */
function synthetic(task: Task, rows: number, seed: number): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => Array.from({ length: FEATURES }, (_, j) => (j < 14 ? real(-5, 5)(engine) : integer(0, 4)(engine))))
  const score = (row: number[]) => row[0]! * 1.5 - row[1]! + row[2]! * row[3]! * 0.3 + row[14]! - row[15]! * 0.5 + real(-1, 1)(engine)
  const features = Array.from({ length: FEATURES }, (_, j) => ({ name: `f${j}`, type: 'number' as const }))
  if (task === 'regression') return { data: { X, y: X.map(score) }, signature: { features, target: { name: 'y', type: 'number' } } }
  const classes = ['low', 'mid', 'high']
  const y = X.map((row) => {
    const s = score(row)
    return s < -2 ? 'low' : s < 2 ? 'mid' : 'high'
  })
  return { data: { X, y }, signature: { features, target: { name: 'y', type: 'category', classes } } }
}

function train(task: Task, rows: number): { ms: number; json: string } {
  const { data, signature } = synthetic(task, rows, rows)
  const start = performance.now()
  const predictor = trainRandomForest({ task, hyperParameters: { n_estimators: TREES }, seed: 1, signature, data })
  const ms = performance.now() - start
  return { ms, json: JSON.stringify(predictor.toJSON()) }
}

interface Row {
  task: Task
  rows: number
  original: number
  fast: number
  same: boolean
}

const results: Row[] = []
installFastSplit()
train('classification', 200) // warm the JIT for both paths
uninstallFastSplit()
train('classification', 200)
for (const rows of sizes) {
  for (const task of ['regression', 'classification'] as const) {
    installFastSplit()
    const fast = train(task, rows)
    uninstallFastSplit()
    const original = train(task, rows)
    installFastSplit()
    results.push({ task, rows, original: original.ms, fast: fast.ms, same: fast.json === original.json })
    console.log(`  ${task} ${rows} rows: original ${(original.ms / 1000).toFixed(2)} s, fast ${(fast.ms / 1000).toFixed(2)} s`)
  }
}

console.log(`\nrandom forest training, ${TREES} trees × ${FEATURES} features (${process.version})\n`)
console.log(`${'task'.padEnd(16)}${'rows'.padStart(7)}${'ml-cart'.padStart(12)}${'fast split'.padStart(12)}${'speed-up'.padStart(10)}  same model`)
for (const r of results) {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  console.log(`${r.task.padEnd(16)}${String(r.rows).padStart(7)}${s(r.original).padStart(12)}${s(r.fast).padStart(12)}${`${(r.original / r.fast).toFixed(1)}×`.padStart(10)}  ${r.same ? 'yes' : 'NO'}`)
}
if (results.some((r) => !r.same)) process.exitCode = 1
