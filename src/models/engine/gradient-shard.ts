// Gradient/hessian histograms of tree nodes, and the best split they allow, for a block of features: the unit of work
// that gradient boosting shares out among threads. One shard holds the histograms of its features for every node
// that may still be split; a thread owns one shard. Each feature's histogram is summed by one thread over the node's
// rows in index order, so the numbers (and the model) are the same whatever the number of threads.
//
// How the work is cut, as in LightGBM and scikit-learn's HistGradientBoosting:
// - a node's histogram per feature: per bin, the sums of gradients, of hessians, and the row count;
// - of two children, only the smaller one is summed from its rows; the larger is its parent minus it;
// - rows are read once per group of 4 features (one gradient and hessian load for 4 histogram updates), from
//   column-major bins, so each group streams 4 byte columns.
//
// Splits (scikit-learn's rules): a numeric split at bin b sends bins <= b left. Scanning bins left to right puts
// the node's missing values on the right, right to left on the left; the better gain wins. A node without missing
// values in a feature sends them, at prediction, to the child with more rows. A categorical feature's categories
// with at least MIN_CATEGORY_ROWS rows in the node are sorted by gradient / (hessian + CATEGORY_SMOOTHING), and the
// best prefix from either end (up to half of them) goes left; rarer categories go right. A split must leave
// min_samples_leaf rows and a hessian of at least min_hessian on each side, and gain more than 0.
import type { Kernels } from './arena.js'
import { bitsetWords } from './tree.js'

/** Per bin: sum of gradients, sum of hessians, rows. */
export const HIST_STRIDE = 3
/** A category needs this many rows in a node to take part in its split (scikit-learn's MIN_CAT_SUPPORT). */
export const MIN_CATEGORY_ROWS = 10
/** Added to a category's hessian when ordering categories (scikit-learn's cat_smooth). */
export const CATEGORY_SMOOTHING = 10

export interface GradientData {
  /** Rows of the binned data (all of them; the trees see those in `index`). */
  rows: number
  features: number
  missingBin: number
  /** Per feature: bins non-missing values use. */
  nBins: Int32Array
  categorical: Uint8Array
  /** Every hessian is 1 (squared or absolute error, no weights): histograms count rows in its place. */
  constantHessian: boolean
  /** The arena every array below lives in; `ptr` gives each one's byte offset for the kernels. */
  memory: WebAssembly.Memory
  ptr: { bins: number; gradients: number; hessians: number; index: number; scratch: number; table: number }
  /** Column-major bins: feature f, row r at f * rows + r. */
  bins: Uint8Array
  /** Gradients and hessians: tree k of an iteration reads [k * rows, (k + 1) * rows). */
  gradients: Float64Array
  hessians: Float64Array
  /** The rows of every node: a node is a range of it, partitioned as the tree grows. */
  index: Int32Array
  /** Room for partitioning: a row per training row. */
  scratch: Int32Array
  /** 256 bytes: per bin, whether its rows go left at the split being applied. */
  table: Uint8Array
}

/** Bytes of one feature's histogram. */
export function histogramWidth(data: Pick<GradientData, 'missingBin'>): number {
  return (data.missingBin + 1) * HIST_STRIDE * 8
}

export interface SplitRules {
  minSamplesLeaf: number
  minHessian: number
  l2: number
}

export interface NodeSums {
  gradient: number
  hessian: number
  count: number
}

export interface Candidate {
  gain: number
  feature: number
  /** Numeric: the last bin that goes left. */
  bin: number
  missingLeft: boolean
  categorical: boolean
  /** Categorical: the categories that go left (bitsetWords of the feature's categories). */
  leftCategories: Uint32Array | null
  left: NodeSums
}

export function noCandidate(): Candidate {
  return { gain: -Infinity, feature: -1, bin: -1, missingLeft: false, categorical: false, leftCategories: null, left: { gradient: 0, hessian: 0, count: 0 } }
}

/** Better by gain; equal gains go to the lower feature, so the choice does not depend on how features are shared out. */
export function better(a: Candidate, b: Candidate): boolean {
  return a.gain > b.gain || (a.gain === b.gain && a.feature >= 0 && (b.feature < 0 || a.feature < b.feature))
}

/**
 * A thread's block of features [lo, hi). A node's histograms live in a slot: a region of the arena with one part per
 * thread (`part` bytes each, this shard's at `participant * part`), so threads never write the same bytes.
 */
export class GradientShard {
  private readonly width: number
  private readonly doubles: number
  /** Where a bin's hessian sum is: its slot, or its row count when every hessian is 1. */
  private readonly hessianAt: number
  private readonly order: number[] = []

  constructor(
    private readonly data: GradientData,
    private readonly kernels: Kernels,
    readonly lo: number,
    readonly hi: number,
    private readonly rules: SplitRules,
    private readonly participant: number,
    private readonly part: number,
  ) {
    this.width = histogramWidth(data)
    this.doubles = ((hi - lo) * this.width) / 8
    this.hessianAt = data.constantHessian ? 2 : 1
  }

  private at(slot: number): number {
    return slot + this.participant * this.part
  }

  /** Sum the histograms of rows index[start, end) into the slot at `slot`, reading the gradients of tree `offset`. */
  build(slot: number, start: number, end: number, offset: number): void {
    if (this.hi === this.lo) return
    const d = this.data
    const hist = this.at(slot)
    this.kernels.zero(hist, this.doubles * 8)
    const build = d.constantHessian ? this.kernels.build_constant : this.kernels.build
    build(d.ptr.bins, d.rows, d.ptr.index, start, end, d.ptr.gradients + offset * 8, d.ptr.hessians + offset * 8, hist, this.lo, this.hi, this.width)
  }

  /** The parent's histograms minus the smaller child's: the larger child's, in the parent's slot. */
  subtract(parentSlot: number, smallSlot: number): void {
    if (this.hi === this.lo) return
    this.kernels.subtract(this.at(parentSlot), this.at(smallSlot), this.doubles)
  }

  /** The best split of the node in `slot` over this shard's features, into `best` (kept when none is better). */
  bestSplit(slot: number, sums: NodeSums, best: Candidate): void {
    if (this.hi === this.lo) return
    const hist = new Float64Array(this.data.memory.buffer, this.at(slot), this.doubles)
    const stride = this.width / 8
    for (let f = this.lo; f < this.hi; f++) {
      const off = (f - this.lo) * stride
      if (this.data.categorical[f]) this.scanCategorical(hist, off, f, sums, best)
      else this.scanNumeric(hist, off, f, sums, best)
    }
  }

  private scanNumeric(hist: Float64Array, off: number, f: number, sums: NodeSums, best: Candidate): void {
    const { minSamplesLeaf: msl, minHessian, l2 } = this.rules
    const h = this.hessianAt
    const nb = this.data.nBins[f]!
    const m = off + this.data.missingBin * 3
    const missingRows = hist[m + 2]!
    const G = sums.gradient
    const H = sums.hessian
    const n = sums.count
    const parent = (G * G) / (H + l2)
    let bestGain = best.gain
    let bestBin = -1
    let bestMissingLeft = false
    let bestGl = 0
    let bestHl = 0
    let bestCl = 0
    // left to right: missing values on the right; the last bin only splits off the missing values
    let gl = 0
    let hl = 0
    let cl = 0
    const last = missingRows > 0 ? nb : nb - 1
    for (let b = 0; b < last; b++) {
      const k = off + b * 3
      gl += hist[k]!
      hl += hist[k + h]!
      cl += hist[k + 2]!
      const cr = n - cl
      const hr = H - hl
      if (cl < msl || hl < minHessian) continue
      if (cr < msl || hr < minHessian) break
      const gr = G - gl
      const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parent
      if (gain > bestGain) {
        bestGain = gain
        bestBin = b
        bestMissingLeft = false
        bestGl = gl
        bestHl = hl
        bestCl = cl
      }
    }
    if (missingRows > 0) {
      // right to left: missing values on the left
      let gr = 0
      let hr = 0
      let cr = 0
      for (let b = nb - 2; b >= 0; b--) {
        const k = off + (b + 1) * 3
        gr += hist[k]!
        hr += hist[k + h]!
        cr += hist[k + 2]!
        const cl2 = n - cr
        const hl2 = H - hr
        if (cr < msl || hr < minHessian) continue
        if (cl2 < msl || hl2 < minHessian) break
        const gl2 = G - gr
        const gain = (gl2 * gl2) / (hl2 + l2) + (gr * gr) / (hr + l2) - parent
        if (gain > bestGain) {
          bestGain = gain
          bestBin = b
          bestMissingLeft = true
          bestGl = gl2
          bestHl = hl2
          bestCl = cl2
        }
      }
    }
    if (bestBin < 0) return
    best.gain = bestGain
    best.feature = f
    best.bin = bestBin
    best.categorical = false
    best.leftCategories = null
    // no missing value in this node: at prediction they go to the child with more rows
    best.missingLeft = missingRows > 0 ? bestMissingLeft : bestCl > n - bestCl
    best.left = { gradient: bestGl, hessian: bestHl, count: bestCl }
  }

  private scanCategorical(hist: Float64Array, off: number, f: number, sums: NodeSums, best: Candidate): void {
    const { minSamplesLeaf: msl, minHessian, l2 } = this.rules
    const h = this.hessianAt
    const nb = this.data.nBins[f]!
    const missingBin = this.data.missingBin
    const order = this.order
    order.length = 0
    for (let b = 0; b < nb; b++) if (hist[off + b * 3 + 2]! >= MIN_CATEGORY_ROWS) order.push(b)
    const missingRows = hist[off + missingBin * 3 + 2]!
    if (missingRows >= MIN_CATEGORY_ROWS) order.push(missingBin) // missing values as a category of their own
    const used = order.length
    if (used <= 1) return
    const value = (b: number) => hist[off + b * 3]! / (hist[off + b * 3 + h]! + CATEGORY_SMOOTHING)
    order.sort((a, b) => value(a) - value(b) || a - b)
    const G = sums.gradient
    const H = sums.hessian
    const n = sums.count
    const parent = (G * G) / (H + l2)
    const middle = (used + 1) >> 1
    let bestGain = best.gain
    let bestDirection = 0
    let bestEnd = -1
    let bestGl = 0
    let bestHl = 0
    let bestCl = 0
    for (const direction of [1, -1]) {
      let gl = 0
      let hl = 0
      let cl = 0
      for (let i = 0; i < middle; i++) {
        const b = order[direction === 1 ? i : used - 1 - i]!
        const k = off + b * 3
        gl += hist[k]!
        hl += hist[k + h]!
        cl += hist[k + 2]!
        const cr = n - cl
        const hr = H - hl
        if (cl < msl || hl < minHessian) continue
        if (cr < msl || hr < minHessian) break
        const gr = G - gl
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parent
        if (gain > bestGain) {
          bestGain = gain
          bestDirection = direction
          bestEnd = i
          bestGl = gl
          bestHl = hl
          bestCl = cl
        }
      }
    }
    if (bestEnd < 0) return
    const bits = new Uint32Array(bitsetWords(nb))
    let missingLeft = false
    for (let i = 0; i <= bestEnd; i++) {
      const b = order[bestDirection === 1 ? i : used - 1 - i]!
      if (b === missingBin) missingLeft = true
      else bits[b >>> 5]! |= 1 << (b & 31)
    }
    best.gain = bestGain
    best.feature = f
    best.bin = -1
    best.categorical = true
    best.leftCategories = bits
    // missing rows that were too few to be a category went right with the rare ones; none at all: the larger child
    best.missingLeft = missingRows > 0 ? missingLeft : bestCl > n - bestCl
    best.left = { gradient: bestGl, hessian: bestHl, count: bestCl }
  }
}
