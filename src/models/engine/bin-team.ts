// Binning on several threads: features are shared out in blocks; each thread fits its features' edges (a sort of
// their values) and bins their rows straight into the destination, this thread included. A feature is binned by
// one thread from the same rows whichever it is, so the bins are those of one thread. On 200,000 rows × 20
// features binning was a fifth of a boosting fit on one thread.
import { type Worker } from 'node:worker_threads'
import { binFeature, checkMaxBins, fitFeature, quantileSample, type BinMapper, type FeatureBins, type FeatureKind } from './binning.js'
import { workerPool } from './pool.js'
import type { Rng } from './random.js'

/** Where the bins go: a Uint8Array on shared memory (a SharedArrayBuffer, or a shared WebAssembly memory). */
export interface BinsTarget {
  buffer: SharedArrayBuffer
  /** Byte offset of feature 0's row 0; feature f's rows follow at offset + f * rows. */
  offset: number
}

export interface BinJob {
  /** The job's features' columns, one after another, on shared memory: feature lo + i at [i * rows, (i + 1) * rows). */
  columns: SharedArrayBuffer
  lo: number
  kinds: FeatureKind[]
  trainRows: SharedArrayBuffer
  sample: SharedArrayBuffer
  maxBins: number
  rows: number
  target: BinsTarget
}

/** Below this many values, one thread bins alone (copying columns for a worker costs more than it saves). */
const PARALLEL_VALUES = 1_000_000

/** A worker's side: fit and bin its features; their bins' descriptions go back by message. */
export function binJob(job: BinJob): FeatureBins[] {
  const trainRows = new Int32Array(job.trainRows)
  const sample = new Int32Array(job.sample)
  return job.kinds.map((kind, i) => {
    const column = new Float64Array(job.columns, i * job.rows * 8, job.rows)
    const info = fitFeature(column, kind, trainRows, sample, job.maxBins)
    binFeature(column, info, job.maxBins, new Uint8Array(job.target.buffer, job.target.offset + (job.lo + i) * job.rows, job.rows))
    return info
  })
}

function shared(values: Int32Array): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(Math.max(4, values.byteLength))
  new Int32Array(buffer).set(values)
  return buffer
}

/**
 * Fit every feature's bins on `trainRows` and bin every row into `target`, on up to `threads` threads; the same
 * mapper and bins as fitBins + applyBins.
 */
export async function binInParallel(columns: readonly Float64Array[], kinds: readonly FeatureKind[], trainRows: Int32Array, maxBins: number, rng: Rng, threads: number, target: BinsTarget): Promise<BinMapper> {
  checkMaxBins(maxBins)
  const F = columns.length
  const rows = columns[0]?.length ?? 0
  const sample = quantileSample(trainRows, rng)
  const workers = rows * F >= PARALLEL_VALUES ? Math.min(threads, F) - 1 : 0
  const into = (f: number) => new Uint8Array(target.buffer, target.offset + f * rows, rows)
  if (workers < 1) {
    const features = columns.map((column, f) => {
      const info = fitFeature(column, kinds[f]!, trainRows, sample, maxBins)
      binFeature(column, info, maxBins, into(f))
      return info
    })
    return { maxBins, missingBin: maxBins, features }
  }
  const blocks = Array.from({ length: workers + 1 }, (_, p) => [Math.floor((p * F) / (workers + 1)), Math.floor(((p + 1) * F) / (workers + 1))] as const)
  const pool = workerPool()
  const taken: Worker[] = await pool.take(workers)
  const features = new Array<FeatureBins>(F)
  try {
    const trainShared = shared(trainRows)
    const sampleShared = sample === trainRows ? trainShared : shared(sample)
    const replies = taken.map(async (worker, i) => {
      const [lo, hi] = blocks[i + 1]!
      const buffer = new SharedArrayBuffer((hi - lo) * rows * 8)
      for (let f = lo; f < hi; f++) new Float64Array(buffer, (f - lo) * rows * 8, rows).set(columns[f]!)
      const job: BinJob = { columns: buffer, lo, kinds: kinds.slice(lo, hi), trainRows: trainShared, sample: sampleShared, maxBins, rows, target }
      const reply = (await pool.request(worker, { type: 'bin-features', job }, 'binned')) as { type: 'binned'; features: FeatureBins[] }
      reply.features.forEach((info, j) => (features[lo + j] = info))
    })
    // this thread's block meanwhile, from the columns as they are
    const [lo, hi] = blocks[0]!
    for (let f = lo; f < hi; f++) {
      const info = fitFeature(columns[f]!, kinds[f]!, trainRows, sample, maxBins)
      binFeature(columns[f]!, info, maxBins, into(f))
      features[f] = info
    }
    await Promise.all(replies)
  } finally {
    pool.give(taken)
  }
  return { maxBins, missingBin: maxBins, features }
}
