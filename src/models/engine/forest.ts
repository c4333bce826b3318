// A random forest on the histogram engine: bin once, grow `nEstimators` trees (forest-tree.ts), each on its own
// random stream, on this thread or spread over worker threads (a tree per message: trees are independent, so the
// forest is the same whoever grows which tree and in whatever order they finish), then concatenate them.
import { type Worker } from 'node:worker_threads'
import { binInParallel } from './bin-team.js'
import type { BinMapper } from './binning.js'
import { growForestTree, type ForestData, type ForestTreeOptions, type GrownForestTree } from './forest-tree.js'
import { workerPool } from './pool.js'
import { knownCategories, type Progress, type TrainingProblem } from './problem.js'
import { rngFor, STREAM } from './random.js'
import { concatTrees, type FlatTree, type TreeEnsemble } from './tree.js'

export interface ForestOptions extends ForestTreeOptions {
  nEstimators: number
  maxBins: number
  nJobs: number
  onProgress?: (p: Progress) => void
}

export interface GrownForest {
  ensemble: TreeEnsemble
  /** Per feature: the mean over trees of each tree's share of impurity decrease (scikit-learn's importances), and split counts. */
  gain: number[]
  splits: number[]
}

export async function trainForest(problem: TrainingProblem, o: ForestOptions): Promise<GrownForest> {
  const started = Date.now()
  const n = problem.rows
  const all = Int32Array.from({ length: n }, (_, i) => i)
  const threads = Math.max(1, Math.min(o.nJobs, o.nEstimators))
  const shared = threads > 1
  const onShared = <T extends Float64Array | Uint8Array>(values: T): T => {
    if (!shared) return values
    const copy = new (values.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(values.byteLength))
    copy.set(values as never)
    return copy
  }
  // on shared memory always: binning may be shared out too
  const binsBuffer = new SharedArrayBuffer(n * problem.features)
  const mapper = await binInParallel(problem.columns, problem.kinds, all, o.maxBins, rngFor(o.seed, STREAM.binning), o.nJobs, { buffer: binsBuffer, offset: 0 })
  const bins = new Uint8Array(binsBuffer)
  const data: ForestData = { rows: n, features: problem.features, bins, mapper, target: onShared(problem.target), weights: problem.weights ? onShared(problem.weights) : null }
  const treeOptions: ForestTreeOptions = {
    classes: o.classes,
    criterion: o.criterion,
    maxDepth: o.maxDepth,
    minSamplesSplit: o.minSamplesSplit,
    minSamplesLeaf: o.minSamplesLeaf,
    maxFeatures: o.maxFeatures,
    bootstrap: o.bootstrap,
    maxSamples: o.maxSamples,
    seed: o.seed,
  }
  const grown: GrownForestTree[] = new Array(o.nEstimators)
  let done = 0
  const progress = () => o.onProgress?.({ done: ++done, total: o.nEstimators, unit: 'trees', elapsedMs: Date.now() - started })
  if (threads === 1) {
    for (let t = 0; t < o.nEstimators; t++) {
      grown[t] = growForestTree(data, treeOptions, t)
      progress()
    }
  } else {
    await growInWorkers(data, treeOptions, o.nEstimators, threads, (t, tree) => {
      grown[t] = tree
      progress()
    })
  }
  const known = knownCategories(problem.columns, problem.kinds, all)
  return {
    ensemble: concatTrees(
      grown.map((g) => g.tree),
      { features: problem.features, outputs: o.classes > 0 ? o.classes : 1, categories: known.categories, known: known.bitsets, knownOffset: known.offsets },
    ),
    ...importances(grown, problem.features),
  }
}

/** scikit-learn's feature_importances_: each tree's decreases normalized to sum 1, averaged over trees, normalized. */
function importances(grown: readonly GrownForestTree[], features: number): { gain: number[]; splits: number[] } {
  const gain = new Array<number>(features).fill(0)
  const splits = new Array<number>(features).fill(0)
  for (const g of grown) {
    let total = 0
    for (let f = 0; f < features; f++) total += g.gain[f]!
    for (let f = 0; f < features; f++) {
      if (total > 0) gain[f]! += g.gain[f]! / total
      splits[f]! += g.splits[f]!
    }
  }
  const sum = gain.reduce((a, b) => a + b, 0)
  return { gain: gain.map((g) => (sum > 0 ? g / sum : 0)), splits }
}

export interface ForestWorkerSetup {
  rows: number
  features: number
  bins: SharedArrayBuffer
  mapper: BinMapper
  target: SharedArrayBuffer
  weights: SharedArrayBuffer | null
  options: ForestTreeOptions
}

async function growInWorkers(data: ForestData, options: ForestTreeOptions, trees: number, threads: number, onTree: (t: number, tree: GrownForestTree) => void): Promise<void> {
  const pool = workerPool()
  const workers = await pool.take(threads)
  try {
    const setup: ForestWorkerSetup = {
      rows: data.rows,
      features: data.features,
      bins: data.bins.buffer as SharedArrayBuffer,
      mapper: data.mapper,
      target: data.target.buffer as SharedArrayBuffer,
      weights: data.weights ? (data.weights.buffer as SharedArrayBuffer) : null,
      options,
    }
    await Promise.all(workers.map((worker) => pool.request(worker, { type: 'forest-setup', setup }, 'ready')))
    let next = 0
    const feed = async (worker: Worker): Promise<void> => {
      while (next < trees) {
        const t = next++
        const reply = await pool.request(worker, { type: 'forest-tree', index: t }, 'tree')
        if (reply.type !== 'tree' || reply.index !== t) throw new Error(`worker answered tree ${reply.type === 'tree' ? reply.index : reply.type} for tree ${t}`)
        onTree(t, reply.tree as GrownForestTree)
      }
    }
    await Promise.all(workers.map(feed))
  } finally {
    pool.give(workers)
  }
}

/** A worker's side: the forest's data, kept between its trees. */
export function forestWorker(): { setup(s: ForestWorkerSetup): void; grow(t: number): { tree: GrownForestTree; transfer: ArrayBuffer[] } } {
  let data: ForestData | null = null
  let options: ForestTreeOptions | null = null
  return {
    setup(s) {
      data = { rows: s.rows, features: s.features, bins: new Uint8Array(s.bins), mapper: s.mapper, target: new Float64Array(s.target), weights: s.weights ? new Float64Array(s.weights) : null }
      options = s.options
    },
    grow(t) {
      if (!data || !options) throw new Error('forest worker: no forest set up')
      const tree = growForestTree(data, options, t)
      const f: FlatTree = tree.tree
      return { tree, transfer: [f.feature.buffer, f.threshold.buffer, f.right.buffer, f.flags.buffer, f.values.buffer, f.bitsets.buffer, tree.gain.buffer, tree.splits.buffer] as ArrayBuffer[] }
    },
  }
}
