// Batch prediction on several threads: the rows are cut into ranges, each thread walks every tree for its range
// (block by block of rows, tree by tree: addFlatLeafValues), this thread included. A row's sum over the trees is made
// by one thread in tree order, so the answers are those of one thread, to the bit. Walking a tree is bound by memory
// latency and branch misses (WebAssembly was only 20% faster than JavaScript here), so threads are what makes big
// batches faster.
import { type Worker } from 'node:worker_threads'
import { workerPool } from './pool.js'
import { addFlatLeafValues, addLeafValues, type TreeEnsemble } from './tree.js'

/** Below this many rows a batch is predicted on this thread alone: a round of messages costs ~0.2 ms. */
export const PARALLEL_PREDICT_ROWS = 5_000

/** What a worker needs of an ensemble: its arrays on shared memory (made once per ensemble). */
export interface SharedEnsemble {
  trees: number
  outputs: number
  features: number
  node: SharedArrayBuffer
  roots: SharedArrayBuffer
  values: SharedArrayBuffer
  bitsets: SharedArrayBuffer
  categories: SharedArrayBuffer
  known: SharedArrayBuffer
  knownOffset: SharedArrayBuffer
}

export interface PredictJob {
  ensemble: SharedEnsemble
  /** Rows, row-major: row r's features at [r * features, (r + 1) * features). */
  rows: SharedArrayBuffer
  from: number
  to: number
  /** Sums, [r * width + k], added to. */
  out: SharedArrayBuffer
  width: number
}

const shared = new WeakMap<TreeEnsemble, SharedEnsemble>()

function onShared(view: ArrayBufferView & { length: number }): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(Math.max(8, view.byteLength))
  new Uint8Array(buffer).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
  return buffer
}

function sharedOf(e: TreeEnsemble): SharedEnsemble {
  let s = shared.get(e)
  if (!s) {
    s = {
      trees: e.trees,
      outputs: e.outputs,
      features: e.features,
      node: onShared(e.node),
      roots: onShared(e.roots),
      values: onShared(e.values),
      bitsets: onShared(e.bitsets),
      categories: onShared(e.categories),
      known: onShared(e.known),
      knownOffset: onShared(e.knownOffset),
    }
    shared.set(e, s)
  }
  return s
}

/** The ensemble as walking needs it, from its shared arrays (the per-field node arrays are not needed). */
function ensembleOf(s: SharedEnsemble): TreeEnsemble {
  const node = new Float64Array(s.node, 0, (s.node.byteLength / 16) * 2)
  const empty = new Int32Array(0)
  return {
    trees: s.trees,
    outputs: s.outputs,
    features: s.features,
    node,
    info: new Int32Array(s.node, 0, node.length * 2),
    roots: new Int32Array(s.roots, 0, s.trees),
    values: new Float64Array(s.values),
    bitsets: new Uint32Array(s.bitsets),
    categories: new Int32Array(s.categories, 0, s.features),
    known: new Uint32Array(s.known),
    knownOffset: new Int32Array(s.knownOffset, 0, s.features),
    feature: empty,
    threshold: node.subarray(0, 0),
    right: empty,
    flags: new Uint8Array(0),
  }
}

/** A worker's side: add its range's leaf values. */
export function predictRange(job: PredictJob): void {
  const e = ensembleOf(job.ensemble)
  const F = job.ensemble.features
  const rows = new Float64Array(job.rows, job.from * F * 8, (job.to - job.from) * F)
  addFlatLeafValues(e, rows, new Float64Array(job.out, job.from * job.width * 8, (job.to - job.from) * job.width), job.width)
}

/**
 * out[r * width + k] += the leaves of every tree for every row (as addLeafValues), on `threads` threads for a batch
 * of PARALLEL_PREDICT_ROWS rows or more.
 */
export async function addLeafValuesInParallel(e: TreeEnsemble, X: readonly (readonly number[])[], out: Float64Array, width: number, threads: number): Promise<void> {
  const n = X.length
  const workers = Math.min(threads, Math.floor(n / 1000)) - 1
  if (n < PARALLEL_PREDICT_ROWS || workers < 1) {
    addLeafValues(e, X, out, width)
    return
  }
  const F = e.features
  const rows = new SharedArrayBuffer(n * F * 8)
  const flat = new Float64Array(rows)
  for (let r = 0; r < n; r++) {
    const row = X[r]!
    for (let f = 0; f < F; f++) flat[r * F + f] = row[f]!
  }
  const sums = new SharedArrayBuffer(n * width * 8)
  new Float64Array(sums).set(out)
  const ensemble = sharedOf(e)
  const pool = workerPool()
  const taken: Worker[] = await pool.take(workers)
  try {
    const cut = (i: number) => Math.floor((i * n) / (workers + 1))
    const replies = taken.map((worker, i) => pool.request(worker, { type: 'predict-rows', job: { ensemble, rows, from: cut(i + 1), to: cut(i + 2), out: sums, width } satisfies PredictJob }, 'predicted'))
    // this thread's share meanwhile, the first range
    addFlatLeafValues(e, flat.subarray(0, cut(1) * F), new Float64Array(sums, 0, cut(1) * width), width)
    await Promise.all(replies)
  } finally {
    pool.give(taken)
  }
  out.set(new Float64Array(sums))
}
