// One random-forest tree, grown depth-first on binned data, as scikit-learn's DecisionTree grows a forest's trees:
// rows drawn with replacement (bootstrap counts as weights), at every node `maxFeatures` features drawn anew, the
// split that most decreases the impurity (gini or entropy of the class weights, or the variance), until nodes are
// pure or too small. The split search is over bins (at most 255 per feature, a bin per value when there are few),
// so it costs O(rows) per node and feature, not O(rows log rows).
//
// Splits: a numeric split sends bins <= b left, its threshold halfway between the values (or bin edges) on either
// side of the gap. A node's missing values go to whichever side decreases the impurity more; when the node has none,
// prediction sends them to the child with more rows. A categorical feature's categories present in the node are
// ordered by their share of one class (each class in turn, for more than two) or by their mean (regression), and the
// best prefix of an ordering goes left: optimal for two classes and for regression (Breiman), a one-vs-rest
// heuristic beyond. The missing values take part as a category of their own.
import type { BinMapper } from './binning.js'
import { rngFor, STREAM, uniformInt, type Rng } from './random.js'
import { bitsetWords, TreeRecorder, type FlatTree } from './tree.js'

export type Criterion = 'gini' | 'entropy' | 'squared_error'

export interface ForestTreeOptions {
  /** Classification: number of classes; regression: 0. */
  classes: number
  criterion: Criterion
  maxDepth: number | null
  minSamplesSplit: number
  minSamplesLeaf: number
  /** Features that must be tried (not constant in the node) at each split. */
  maxFeatures: number
  bootstrap: boolean
  /** Rows drawn per tree with bootstrap. */
  maxSamples: number
  seed: number
}

export interface ForestData {
  rows: number
  features: number
  /** Column-major bins (binning.ts). */
  bins: Uint8Array
  mapper: BinMapper
  /** Classification: class index; regression: value. */
  target: Float64Array
  /** Per row, or null: the class weights (class_weight). */
  weights: Float64Array | null
}

export interface GrownForestTree {
  tree: FlatTree
  /** Per feature: impurity decrease (weighted by rows' weights) summed over the tree's splits, and split counts. */
  gain: Float64Array
  splits: Int32Array
}

/** A node's class weights or (weight, Σwy, Σwy²), and its row count: its statistics. */
type Stats = Float64Array

const EPS = 2.220446049250313e-16

const classIndexCache = new WeakMap<Float64Array, Int32Array>()

/** The target's class indexes as integers, made once per forest (the target holds them as doubles). */
function classIndexes(target: Float64Array): Int32Array {
  let classes = classIndexCache.get(target)
  if (!classes) {
    classes = Int32Array.from(target)
    classIndexCache.set(target, classes)
  }
  return classes
}

/** Grow tree `t` of the forest: its own random stream, so any thread grows the same tree. */
export function growForestTree(data: ForestData, o: ForestTreeOptions, t: number): GrownForestTree {
  return new ForestTreeGrower(data, o, rngFor(o.seed, STREAM.tree + t)).grow()
}

class ForestTreeGrower {
  private readonly K: number
  /**
   * Per bin in a histogram: K class weights and rows (classification), or weight, Σwy and rows (regression). A
   * node's statistics are the same, but for regression Σwy² beside them (for its purity): [W, Σwy, Σwy², rows].
   */
  private readonly stride: number
  private readonly hist: Float64Array
  private readonly touched = new Uint32Array(8)
  private readonly index: Int32Array
  private readonly scratch: Int32Array
  private readonly weight: Float64Array
  /** Classification: each row's class, as an integer (the target holds it as a double). */
  private readonly classOf: Int32Array
  private readonly features: Int32Array
  private readonly recorder: TreeRecorder
  private readonly gain: Float64Array
  private readonly splits: Int32Array
  private readonly table = new Uint8Array(256)
  private readonly order: number[] = []
  /** The current histogram's non-missing bins holding rows, ascending (usedBins), and how many. */
  private readonly used = new Int32Array(256)
  private nUsed = 0
  /** The node's totals in a histogram's layout (regression: without Σwy²). */
  private readonly total: Float64Array
  private readonly buffers: Record<'left' | 'right' | 'withMissing' | 'rest', Float64Array>
  private nodeRows = 0

  constructor(
    private readonly data: ForestData,
    private readonly o: ForestTreeOptions,
    private readonly rng: Rng,
  ) {
    this.K = o.classes
    this.stride = o.classes > 0 ? o.classes + 1 : 3
    this.hist = new Float64Array((data.mapper.missingBin + 1) * this.stride)
    const buffer = () => new Float64Array(this.stride)
    this.buffers = { left: buffer(), right: buffer(), withMissing: buffer(), rest: buffer() }
    this.total = buffer()
    this.recorder = new TreeRecorder(o.classes > 0 ? o.classes : 1)
    this.gain = new Float64Array(data.features)
    this.splits = new Int32Array(data.features)
    this.features = Int32Array.from({ length: data.features }, (_, f) => f)
    this.classOf = o.classes > 0 ? classIndexes(data.target) : new Int32Array(0)
    // 1. the rows of this tree, and their weights: bootstrap counts times class weights
    const n = data.rows
    this.weight = new Float64Array(n)
    if (o.bootstrap) {
      for (let i = 0; i < o.maxSamples; i++) this.weight[uniformInt(this.rng, n)]!++
    } else {
      this.weight.fill(1)
    }
    let m = 0
    for (let r = 0; r < n; r++) if (this.weight[r]! > 0) m++
    this.index = new Int32Array(m)
    this.scratch = new Int32Array(m)
    m = 0
    for (let r = 0; r < n; r++) {
      if (this.weight[r]! > 0) {
        this.index[m++] = r
        if (data.weights) this.weight[r]! *= data.weights[r]!
      }
    }
  }

  grow(): GrownForestTree {
    const root = this.recorder.add()
    const stats = this.statsOf(0, this.index.length)
    // depth-first with an explicit stack: trees of 100,000 rows grow 30+ levels deep on noisy data
    const stack: { node: number; start: number; end: number; depth: number; stats: Stats }[] = [{ node: root, start: 0, end: this.index.length, depth: 0, stats }]
    while (stack.length > 0) {
      const job = stack.pop()!
      const split = this.isLeaf(job.start, job.end, job.depth, job.stats) ? null : this.bestSplit(job.start, job.end, job.stats)
      if (!split) {
        this.recorder.setLeaf(job.node, this.leafValues(job.stats))
        continue
      }
      const mid = this.partition(job.start, job.end, split)
      // each child's statistics summed from its own rows, not the parent's minus the other's: with weights that are
      // not whole numbers, a difference leaves ~1e-14 of classes the child does not hold, which would make a pure
      // node look impure (and split) and a probability fall just outside [0, 1]
      const leftStats = this.statsOf(job.start, mid)
      const rightStats = this.statsOf(mid, job.end)
      this.gain[split.feature]! += this.decrease(job.stats, leftStats, rightStats)
      const left = this.recorder.add()
      const right = this.recorder.add()
      if (split.categorical) this.recorder.setCategoricalSplit(job.node, split.feature, split.leftCategories!, split.missingLeft, left, right)
      else this.recorder.setNumericSplit(job.node, split.feature, split.threshold, split.missingLeft, left, right)
      this.splits[split.feature]!++
      // the right child is pushed first so the left one is grown next (preorder, like scikit-learn's stack)
      stack.push({ node: right, start: mid, end: job.end, depth: job.depth + 1, stats: rightStats })
      stack.push({ node: left, start: job.start, end: mid, depth: job.depth + 1, stats: leftStats })
    }
    return { tree: this.recorder.toFlat(), gain: this.gain, splits: this.splits }
  }

  private isLeaf(start: number, end: number, depth: number, stats: Stats): boolean {
    const m = end - start
    if (this.o.maxDepth !== null && depth >= this.o.maxDepth) return true
    if (m < this.o.minSamplesSplit || m < 2 * this.o.minSamplesLeaf) return true
    return this.impurity(stats, 0) <= EPS
  }

  /** Statistics of rows index[start, end). */
  private statsOf(start: number, end: number): Stats {
    const s = new Float64Array(this.K > 0 ? this.stride : 4)
    const { target } = this.data
    for (let i = start; i < end; i++) {
      const r = this.index[i]!
      const w = this.weight[r]!
      if (this.K > 0) s[this.classOf[r]!]! += w
      else {
        const y = target[r]!
        s[0]! += w
        s[1]! += w * y
        s[2]! += w * y * y
      }
      s[s.length - 1]!++
    }
    return s
  }

  /** The node's statistics in a histogram's layout, into `total`. */
  private totalsOf(stats: Stats): Float64Array {
    const t = this.total
    if (this.K > 0) t.set(stats)
    else {
      t[0] = stats[0]!
      t[1] = stats[1]!
      t[2] = stats[3]!
    }
    return t
  }

  private weightOf(s: Stats, at: number): number {
    if (this.K === 0) return s[at]!
    let w = 0
    for (let k = 0; k < this.K; k++) w += s[at + k]!
    return w
  }

  /** The node's impurity: gini or entropy of the class shares, or the weighted variance. */
  private impurity(s: Stats, at: number): number {
    const W = this.weightOf(s, at)
    if (W <= 0) return 0
    if (this.K === 0) return s[at + 2]! / W - (s[at + 1]! / W) ** 2
    let sum = 0
    for (let k = 0; k < this.K; k++) {
      const p = s[at + k]! / W
      sum += this.o.criterion === 'entropy' ? (p > 0 ? -p * Math.log(p) : 0) : p * p
    }
    return this.o.criterion === 'entropy' ? sum : 1 - sum
  }

  /**
   * A score that orders splits as the impurity decrease does (higher is better): for gini Σk L²/W_L + Σk R²/W_R, for
   * entropy −(W_L·H_L + W_R·H_R), for squared error S_L²/W_L + S_R²/W_R.
   */
  private proxy(left: Float64Array, right: Float64Array): number {
    if (this.K === 0) return (left[1]! * left[1]!) / left[0]! + (right[1]! * right[1]!) / right[0]!
    if (this.o.criterion === 'entropy') return -(this.weightedEntropy(left) + this.weightedEntropy(right))
    let l = 0
    let r = 0
    let wl = 0
    let wr = 0
    for (let k = 0; k < this.K; k++) {
      l += left[k]! * left[k]!
      r += right[k]! * right[k]!
      wl += left[k]!
      wr += right[k]!
    }
    return l / wl + r / wr
  }

  /** W·H = W log W − Σ c log c. */
  private weightedEntropy(s: Float64Array): number {
    let W = 0
    let sum = 0
    for (let k = 0; k < this.K; k++) {
      const c = s[k]!
      W += c
      if (c > 0) sum += c * Math.log(c)
    }
    return W > 0 ? W * Math.log(W) - sum : 0
  }

  /** Weighted impurity decrease of a split: W·i(node) − W_L·i(left) − W_R·i(right). */
  private decrease(node: Stats, left: Stats, right: Stats): number {
    return this.weightOf(node, 0) * this.impurity(node, 0) - this.weightOf(left, 0) * this.impurity(left, 0) - this.weightOf(right, 0) * this.impurity(right, 0)
  }

  private leafValues(s: Stats): Float64Array {
    if (this.K === 0) return Float64Array.of(s[0]! > 0 ? s[1]! / s[0]! : 0)
    const W = this.weightOf(s, 0)
    const values = new Float64Array(this.K)
    for (let k = 0; k < this.K; k++) values[k] = W > 0 ? s[k]! / W : 1 / this.K
    return values
  }

  /** The best split over features drawn at random until maxFeatures non-constant ones were tried; null if none. */
  private bestSplit(start: number, end: number, stats: Stats): ForestSplit | null {
    const F = this.data.features
    const features = this.features
    let best: ForestSplit | null = null
    let tried = 0
    for (let drawn = 0; drawn < F && tried < this.o.maxFeatures; drawn++) {
      const j = drawn + uniformInt(this.rng, F - drawn)
      const f = features[j]!
      features[j] = features[drawn]!
      features[drawn] = f
      const bins = this.histogram(f, start, end)
      this.usedBins()
      if (bins > 1) {
        tried++
        const candidate = this.data.mapper.features[f]!.categorical ? this.scanCategorical(f, stats) : this.scanNumeric(f, stats)
        if (candidate && (!best || candidate.score > best.score)) best = candidate
      } // else constant in this node: it does not count
      this.clearHistogram()
    }
    return best
  }

  /** Histogram of feature f over the node's rows; returns the number of bins that hold rows (missing included). */
  private histogram(f: number, start: number, end: number): number {
    const { hist, touched, stride, weight, index, classOf } = this
    const { bins, rows, target } = this.data
    const col = f * rows
    const last = stride - 1
    let used = 0
    if (this.K > 0) {
      for (let i = start; i < end; i++) {
        const r = index[i]!
        const b = bins[col + r]!
        const k = b * stride
        if (hist[k + last] === 0) {
          touched[b >>> 5]! |= 1 << (b & 31)
          used++
        }
        hist[k + classOf[r]!]! += weight[r]!
        hist[k + last]!++
      }
    } else {
      for (let i = start; i < end; i++) {
        const r = index[i]!
        const b = bins[col + r]!
        const k = b * stride
        if (hist[k + 2] === 0) {
          touched[b >>> 5]! |= 1 << (b & 31)
          used++
        }
        const w = weight[r]!
        hist[k]! += w
        hist[k + 1]! += w * target[r]!
        hist[k + 2]!++
      }
    }
    this.nodeRows = end - start
    return used
  }

  /** Zero the bins usedBins found, and the missing bin (a loop: a fill call per bin costs more than its stores). */
  private clearHistogram(): void {
    const { touched, hist, stride, used } = this
    for (let i = 0; i < this.nUsed; i++) {
      const at = used[i]! * stride
      for (let j = 0; j < stride; j++) hist[at + j] = 0
    }
    const at = this.data.mapper.missingBin * stride
    for (let j = 0; j < stride; j++) hist[at + j] = 0
    touched.fill(0)
  }

  /** The non-missing bins holding rows, ascending, into `used` (and their number into nUsed); returns it. */
  private usedBins(): number {
    const used = this.used
    const missing = this.data.mapper.missingBin
    let count = 0
    for (let w = 0; w < 8; w++) {
      let bits = this.touched[w]!
      while (bits !== 0) {
        const low = bits & -bits
        const b = w * 32 + 31 - Math.clz32(low)
        bits ^= low
        if (b !== missing) used[count++] = b
      }
    }
    this.nUsed = count
    return count
  }

  private scanNumeric(f: number, stats: Stats): ForestSplit | null {
    const found = this.K === 0 ? this.scanRegression(stats) : this.scanClasses(stats)
    if (!found) return null
    const { used, nUsed } = this
    // the threshold sits in the gap between the last left bin and the next used one
    const lo = used[found.at]!
    const hi = found.at + 1 < nUsed ? used[found.at + 1]! : -1
    const m = this.nodeRows
    const missingRows = this.hist[this.data.mapper.missingBin * this.stride + this.stride - 1]!
    return {
      feature: f,
      score: found.score,
      categorical: false,
      bin: lo,
      threshold: hi < 0 ? Infinity : this.threshold(f, lo, hi),
      leftCategories: null,
      missingLeft: missingRows > 0 ? found.missingLeft : found.leftRows > m - found.leftRows,
    }
  }

  /**
   * The best numeric boundary of a regression histogram: after which used bin, with the missing values on which
   * side, by S_L²/W_L + S_R²/W_R. Scalars, not arrays: this loop runs for every node and feature tried.
   */
  private scanRegression(stats: Stats): { score: number; at: number; missingLeft: boolean; leftRows: number } | null {
    const { hist, used, nUsed } = this
    const msl = this.o.minSamplesLeaf
    const m = this.nodeRows
    const W = stats[0]!
    const S = stats[1]!
    const mAt = this.data.mapper.missingBin * 3
    const wm = hist[mAt]!
    const sm = hist[mAt + 1]!
    const cm = hist[mAt + 2]!
    let bestScore = -Infinity
    let bestAt = -1
    let bestMissingLeft = false
    let bestRows = 0
    let wl = 0
    let sl = 0
    let cl = 0
    // boundaries after each used bin; the last one only when it splits the missing values off
    const boundaries = cm > 0 ? nUsed : nUsed - 1
    for (let i = 0; i < boundaries; i++) {
      const k = used[i]! * 3
      wl += hist[k]!
      sl += hist[k + 1]!
      cl += hist[k + 2]!
      if (cl >= msl && m - cl >= msl) {
        const sr = S - sl
        const score = (sl * sl) / wl + (sr * sr) / (W - wl)
        if (score > bestScore) {
          bestScore = score
          bestAt = i
          bestMissingLeft = false
          bestRows = cl
        }
      }
      // the missing values on the left: a different split only when there are some and some rows stay right
      if (cm > 0 && i < nUsed - 1) {
        const c2 = cl + cm
        if (c2 >= msl && m - c2 >= msl) {
          const w2 = wl + wm
          const s2 = sl + sm
          const sr = S - s2
          const score = (s2 * s2) / w2 + (sr * sr) / (W - w2)
          if (score > bestScore) {
            bestScore = score
            bestAt = i
            bestMissingLeft = true
            bestRows = c2
          }
        }
      }
    }
    return bestAt < 0 ? null : { score: bestScore, at: bestAt, missingLeft: bestMissingLeft, leftRows: bestRows }
  }

  /** The best numeric boundary of a class histogram (gini or entropy, by proxy). */
  private scanClasses(stats: Stats): { score: number; at: number; missingLeft: boolean; leftRows: number } | null {
    const { hist, stride, used, nUsed, K } = this
    const msl = this.o.minSamplesLeaf
    const m = this.nodeRows
    const missingAt = this.data.mapper.missingBin * stride
    const missingRows = hist[missingAt + K]!
    const { left, right, withMissing, rest } = this.buffers
    left.fill(0)
    let bestScore = -Infinity
    let bestAt = -1
    let bestMissingLeft = false
    let bestRows = 0
    let leftRows = 0
    const boundaries = missingRows > 0 ? nUsed : nUsed - 1
    for (let i = 0; i < boundaries; i++) {
      const k = used[i]! * stride
      for (let j = 0; j < K; j++) left[j]! += hist[k + j]!
      leftRows += hist[k + K]!
      if (leftRows >= msl && m - leftRows >= msl) {
        for (let j = 0; j < K; j++) right[j] = stats[j]! - left[j]!
        const score = this.proxy(left, right)
        if (score > bestScore) {
          bestScore = score
          bestAt = i
          bestMissingLeft = false
          bestRows = leftRows
        }
      }
      if (missingRows > 0 && i < nUsed - 1) {
        const l2 = leftRows + missingRows
        if (l2 >= msl && m - l2 >= msl) {
          for (let j = 0; j < K; j++) {
            withMissing[j] = left[j]! + hist[missingAt + j]!
            rest[j] = stats[j]! - withMissing[j]!
          }
          const score = this.proxy(withMissing, rest)
          if (score > bestScore) {
            bestScore = score
            bestAt = i
            bestMissingLeft = true
            bestRows = l2
          }
        }
      }
    }
    return bestAt < 0 ? null : { score: bestScore, at: bestAt, missingLeft: bestMissingLeft, leftRows: bestRows }
  }

  /** Between bins lo < hi with no rows of the node in between: halfway between their values, or their edges. */
  private threshold(f: number, lo: number, hi: number): number {
    const info = this.data.mapper.features[f]!
    if (info.values) {
      const a = info.values[lo]!
      const b = info.values[hi]!
      const mid = a / 2 + b / 2
      return mid < b ? mid : a
    }
    const a = info.edges[lo]!
    const b = info.edges[hi - 1]!
    return a / 2 + b / 2
  }

  private scanCategorical(f: number, stats: Stats): ForestSplit | null {
    const { hist, stride } = this
    const msl = this.o.minSamplesLeaf
    const m = this.nodeRows
    const missingBin = this.data.mapper.missingBin
    const missingRows = hist[missingBin * stride + stride - 1]!
    const categories = Array.from(this.used.subarray(0, this.nUsed))
    const total = this.totalsOf(stats)
    if (missingRows > 0) categories.push(missingBin) // missing values as a category of their own
    const order = this.order
    const left = new Float64Array(stride)
    const right = new Float64Array(stride)
    let best: { score: number; prefix: number[] } | null = null
    // orderings: by the share of class k (k = 1 for two classes; each class for more), or by the mean
    const orderings = this.K === 0 ? [-1] : this.K === 2 ? [1] : Array.from({ length: this.K }, (_, k) => k)
    for (const k of orderings) {
      const key = (b: number) => {
        const at = b * stride
        return k < 0 ? hist[at + 1]! / hist[at]! : hist[at + k]! / Math.max(this.weightOf(hist, at), EPS)
      }
      order.length = 0
      order.push(...categories)
      order.sort((a, b) => key(a) - key(b) || a - b)
      left.fill(0)
      let leftRows = 0
      for (let i = 0; i + 1 < order.length; i++) {
        const at = order[i]! * stride
        for (let j = 0; j < stride; j++) left[j]! += hist[at + j]!
        leftRows += hist[at + stride - 1]!
        if (leftRows < msl || m - leftRows < msl) continue
        for (let j = 0; j < stride; j++) right[j] = total[j]! - left[j]!
        const score = this.proxy(left, right)
        if (!best || score > best.score) best = { score, prefix: order.slice(0, i + 1) }
      }
    }
    if (!best) return null
    const bits = new Uint32Array(bitsetWords(this.data.mapper.features[f]!.bins))
    let missingLeft = false
    let leftCount = 0
    for (const b of best.prefix) {
      leftCount += hist[b * stride + stride - 1]!
      if (b === missingBin) missingLeft = true
      else bits[b >>> 5]! |= 1 << (b & 31)
    }
    return {
      feature: f,
      score: best.score,
      categorical: true,
      bin: -1,
      threshold: 0,
      leftCategories: bits,
      missingLeft: missingRows > 0 ? missingLeft : leftCount > m - leftCount,
    }
  }

  /** Stable partition of index[start, end) by the split (branch-free over a per-bin table); returns the boundary. */
  private partition(start: number, end: number, split: ForestSplit): number {
    const { table, index, scratch } = this
    const { bins, rows, mapper } = this.data
    table.fill(0)
    if (split.categorical) {
      const bits = split.leftCategories!
      const k = mapper.features[split.feature]!.bins
      for (let b = 0; b < k; b++) table[b] = (bits[b >>> 5]! >>> (b & 31)) & 1
    } else {
      table.fill(1, 0, split.bin + 1)
    }
    table[mapper.missingBin] = split.missingLeft ? 1 : 0
    const col = split.feature * rows
    let l = start
    let r = 0
    for (let i = start; i < end; i++) {
      const row = index[i]!
      const left = table[bins[col + row]!]!
      index[l] = row
      scratch[r] = row
      l += left
      r += 1 - left
    }
    index.set(scratch.subarray(0, r), l)
    return l
  }
}

interface ForestSplit {
  feature: number
  score: number
  categorical: boolean
  /** Numeric: the last bin that goes left. */
  bin: number
  threshold: number
  leftCategories: Uint32Array | null
  missingLeft: boolean
}
