// A fast replacement for ml-cart's split search, installed on ml-cart's TreeNode prototype.
//
// What is patched: `TreeNode.prototype.bestSplit(XTranspose, y)` of ml-cart 2.1.x, the CART tree that
// ml-random-forest grows. Nothing else of ml-cart is touched.
//
// Why: ml-cart's bestSplit takes, per feature, every midpoint between sorted neighbours whose labels differ, and
// for each one re-partitions every row and recomputes the gain from scratch: O(rows²) per feature per node. A
// forest of 10 trees on 2,000 rows × 20 features takes ~20 s, so cross-validation on a few thousand rows takes
// minutes. This version sorts each feature once (O(n log n)) and evaluates every candidate in O(1) by a sweep:
// integer class counts of the lesser side (gini), or prefix and suffix sums of squared deviations (regression).
//
// Same results, not just close ones. The returned `{ maxGain, maxColumn, maxValue, numberSamples }` is the one the
// original returns, bit for bit, so the trees (and a forest's model.json) are identical:
// - the candidates are the original's: row indexes sorted stably by value (the permutation the original's stable
//   Array.prototype.sort gives with its comparator, for finite values), midpoints `(a + b) / 2` where neighbouring labels differ (`!==`), in ascending order; a
//   candidate's lesser side is the rows with `x < v` (a prefix of the sorted rows: a pointer advances while
//   `x < v`, so rows equal to v go to the greater side, as in the original);
// - the winner is the first strictly better candidate, features in order, candidates ascending. The original's
//   gains carry rounding noise (its class probabilities are sums of 1/n; its errors are sums in row order), and
//   among candidates whose gains are mathematically equal that noise picks the winner. So whenever a candidate's
//   fast gain is within a bound on both methods' rounding error of the best so far, both are re-evaluated with an
//   exact replica of the original's arithmetic (O(n), rare: near-ties only), and that decides. Candidates giving
//   the same partition as the one evaluated just before are skipped: their gain is the same, never strictly better;
// - the returned maxGain is the replica's value for the winner (a tree compares it with `!==` to its parent's).
//
// Numerics of the regression error (the sum of squared errors of both sides, minimised): not Σy² − n·ȳ², which
// cancels catastrophically when the spread is small beside the mean. The targets are centred on the node's mean,
// then Welford's running update gives the squared deviations of every prefix (lesser sides) in one forward pass
// and of every suffix (greater sides) in one backward pass; a candidate's error is prefix[p] + suffix[p].
//
// When it steps aside (the original method runs, unchanged): another ml-cart version than 2.1.x, a prototype
// without the expected methods (both checked at install: a different internal layout could mean different
// semantics, and ml-cart's results are what the models are compared against), and, per call, inputs outside what
// the sweep reproduces exactly: non-finite feature values (the original's sort comparator gives NaN there), non-
// finite or huge (> 1e150) regression targets, class labels that are not small non-negative integers, or tree
// options other than ml-cart's own gain/split functions.
//
// How it is verified (src/models/fast-split.test.ts): the original method, saved before patching, and this one
// return the same column, value and gain on thousands of random nodes (2–4 classes and regression, continuous
// and heavily tied features, n from 2 to 200); whole forests train to identical JSON with and without the patch;
// the forest's trees run this method (their nodes' prototype is the patched one, and its call counter moves).
import { createRequire } from 'node:module'

/** The parts of ml-cart's TreeNode that bestSplit reads. */
export interface TreeNodeLike {
  kind: string
  gainFunction: string
  splitFunction: string
  bestSplit(XTranspose: MatrixLike, y: number[]): SplitResult
}

/** The parts of an ml-matrix Matrix that bestSplit reads (the features as rows). */
export interface MatrixLike {
  rows: number
  getRow(i: number): number[]
}

export interface SplitResult {
  maxGain: number
  maxColumn: number | undefined
  maxValue: number | undefined
  numberSamples: number | undefined
}

type BestSplit = (this: TreeNodeLike, XTranspose: MatrixLike, y: number[]) => SplitResult

const MARK = Symbol.for('mlskel.fastSplit.original')
type PatchedBestSplit = BestSplit & { [MARK]?: BestSplit }

const EPS = Number.EPSILON
const MAX_CLASSES = 1 << 20
const MAX_TARGET = 1e150

/** How often the fast path ran, fell back to the original, and re-evaluated a near-tie exactly. */
export const fastSplitStats = { calls: 0, fallbacks: 0, exactEvaluations: 0 }

export type FastSplitStatus = { installed: true } | { installed: false; reason: string }

let status: FastSplitStatus | undefined

interface Cart {
  DecisionTreeClassifier: new (options?: object) => { train(X: number[][], y: number[]): void; root: object }
}

/** ml-cart as ml-random-forest loads it: resolved from ml-random-forest's own location, so the same instance. */
function loadCart(): { cart: Cart; version: string } {
  const fromHere = createRequire(import.meta.url)
  const fromForest = createRequire(fromHere.resolve('ml-random-forest'))
  const cart = fromForest('ml-cart') as Cart
  const { version } = fromForest('ml-cart/package.json') as { version: string }
  return { cart, version }
}

/** ml-cart's TreeNode prototype, found by training a two-row tree (TreeNode itself is not exported). */
export function treeNodePrototype(): Record<string, unknown> {
  const { cart } = loadCart()
  const tree = new cart.DecisionTreeClassifier()
  tree.train([[0], [1]], [0, 1])
  return Object.getPrototypeOf(tree.root) as Record<string, unknown>
}

/**
 * Put the fast bestSplit on ml-cart's TreeNode prototype, which ml-random-forest's trees use. Idempotent (also
 * across copies of this module: the patched method carries the original under a global symbol). Does nothing,
 * and says why, when ml-cart is not 2.1.x or its TreeNode lacks the expected methods.
 */
export function installFastSplit(): FastSplitStatus {
  const { version } = loadCart()
  const proto = treeNodePrototype()
  const current = proto.bestSplit as PatchedBestSplit | undefined
  if (typeof current === 'function' && current[MARK]) return (status = { installed: true })
  // The sweep reproduces ml-cart 2.1's bestSplit; another version may split differently, so keep its own.
  if (!/^2\.1\.\d+$/.test(version)) return (status = { installed: false, reason: `ml-cart ${version} is not 2.1.x` })
  const missing = ['bestSplit', 'split', 'featureSplit', 'train', 'calculatePrediction'].filter((name) => typeof proto[name] !== 'function')
  if (missing.length > 0) return (status = { installed: false, reason: `ml-cart's TreeNode has no ${missing.join(', ')}` })
  const original = current as BestSplit
  const patched: PatchedBestSplit = function (this: TreeNodeLike, XTranspose: MatrixLike, y: number[]): SplitResult {
    const result = fastBestSplit(this, XTranspose, y)
    if (result) return result
    fastSplitStats.fallbacks++
    return original.call(this, XTranspose, y)
  }
  patched[MARK] = original
  proto.bestSplit = patched
  return (status = { installed: true })
}

/** Put ml-cart's own bestSplit back (for benchmarks and tests that compare the two). */
export function uninstallFastSplit(): void {
  const proto = treeNodePrototype()
  const current = proto.bestSplit as PatchedBestSplit
  if (current[MARK]) proto.bestSplit = current[MARK]
}

/** Whether the prototype's bestSplit is the fast one; and the last install's outcome. */
export function fastSplitStatus(): { active: boolean; lastInstall: FastSplitStatus | undefined } {
  const current = treeNodePrototype().bestSplit as PatchedBestSplit
  return { active: typeof current === 'function' && current[MARK] !== undefined, lastInstall: status }
}

/** ml-cart's own bestSplit (the one saved when patching, or the current one when not patched). */
export function originalBestSplit(): BestSplit {
  const current = treeNodePrototype().bestSplit as PatchedBestSplit
  return current[MARK] ?? current
}

/**
 * The best split of a node, as ml-cart 2.1's bestSplit finds it, in O(F · n log n); undefined when the inputs are
 * outside what it reproduces exactly (the caller then runs the original).
 */
export function fastBestSplit(node: TreeNodeLike, XTranspose: MatrixLike, y: number[]): SplitResult | undefined {
  const classifier = node.kind === 'classifier'
  if (node.splitFunction !== 'mean' || node.gainFunction !== (classifier ? 'gini' : 'regression')) return undefined
  const n = y.length
  const features: number[][] = []
  for (let f = 0; f < XTranspose.rows; f++) {
    const x = XTranspose.getRow(f)
    if (x.length !== n) return undefined
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return undefined
    features.push(x)
  }
  const search = classifier ? giniSearch(y) : regressionSearch(y)
  if (!search) return undefined
  fastSplitStats.calls++

  let maxColumn: number | undefined
  let maxValue: number | undefined
  let bestFast = classifier ? -Infinity : Infinity
  let bestExact: number | undefined
  let bestX: number[] | undefined
  const better = classifier ? (a: number, b: number) => a > b : (a: number, b: number) => a < b
  const order = new Int32Array(n)
  const scratch = new Int32Array(n)
  const values = new Float64Array(n)

  for (let f = 0; f < features.length; f++) {
    const x = features[f]!
    for (let i = 0; i < n; i++) {
      order[i] = i
      values[i] = x[i]!
    }
    stableArgsort(values, order, scratch)
    const gainAt = search.prepare(order)
    let ptr = 0
    let lastPtr = -1
    for (let i = 1; i < n; i++) {
      const prev = order[i - 1]!
      const next = order[i]!
      if (y[prev] === y[next]) continue
      const v = (x[prev]! + x[next]!) / 2
      while (ptr < n && x[order[ptr]!]! < v) ptr++
      if (ptr === lastPtr) continue // the same partition as the candidate before: the same gain
      lastPtr = ptr
      const gain = gainAt(ptr)
      if (maxColumn === undefined) {
        // The original's first candidate always beats its ±Infinity start (gains here are finite).
        ;[maxColumn, maxValue, bestFast, bestExact, bestX] = [f, v, gain, undefined, x]
        continue
      }
      if (Math.abs(gain - bestFast) > search.tolerance(gain, bestFast)) {
        if (better(gain, bestFast)) [maxColumn, maxValue, bestFast, bestExact, bestX] = [f, v, gain, undefined, x]
        continue
      }
      // A near-tie: the original's rounding decides, so decide with its arithmetic.
      bestExact ??= search.exact(bestX!, maxValue!)
      const exact = search.exact(x, v)
      if (better(exact, bestExact)) [maxColumn, maxValue, bestFast, bestExact, bestX] = [f, v, gain, exact, x]
    }
  }

  if (maxColumn === undefined) return { maxGain: classifier ? -Infinity : Infinity, maxColumn: undefined, maxValue: undefined, numberSamples: undefined }
  return { maxGain: bestExact ?? search.exact(bestX!, maxValue!), maxColumn, maxValue, numberSamples: n }
}

/**
 * Sort row indexes by value, equal values keeping row order: the permutation ml-cart's featureSplit gets from
 * Array.prototype.sort (stable) with the comparator `a[0] - b[0]`. For finite values that comparator is a
 * consistent total preorder (−0 and 0 equal, as with `<`), under which every stable sort gives the same
 * permutation. A merge sort with inline comparisons (insertion sort for short runs) avoids a function call per
 * comparison, which is most of the cost of the split search.
 */
function stableArgsort(values: Float64Array, order: Int32Array, scratch: Int32Array): void {
  const n = order.length
  const RUN = 16
  for (let start = 0; start < n; start += RUN) {
    const end = Math.min(start + RUN, n)
    for (let i = start + 1; i < end; i++) {
      const item = order[i]!
      const value = values[item]!
      let j = i - 1
      while (j >= start && values[order[j]!]! > value) {
        order[j + 1] = order[j]!
        j--
      }
      order[j + 1] = item
    }
  }
  let from = order
  let to = scratch
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n)
      const hi = Math.min(lo + 2 * width, n)
      let i = lo
      let j = mid
      let k = lo
      while (i < mid && j < hi) {
        // Take from the right only when strictly smaller: ties keep row order.
        if (values[from[j]!]! < values[from[i]!]!) to[k++] = from[j++]!
        else to[k++] = from[i++]!
      }
      while (i < mid) to[k++] = from[i++]!
      while (j < hi) to[k++] = from[j++]!
    }
    ;[from, to] = [to, from]
  }
  if (from !== order) order.set(from)
}

interface Search {
  /** Get ready for a feature's rows in sorted order; gives the fast gain of the split after `p` sorted rows. */
  prepare(order: Int32Array): (p: number) => number
  /** A bound on |fast − original| + |fast′ − original′| for comparing two gains. */
  tolerance(a: number, b: number): number
  /** The gain of splitting x at v, computed exactly as ml-cart 2.1 does (same operations, same order). */
  exact(x: number[], v: number): number
}

function giniSearch(y: number[]): Search | undefined {
  const n = y.length
  let k = 0
  for (let i = 0; i < n; i++) {
    const c = y[i]!
    if (!Number.isInteger(c) || c < 0 || c >= MAX_CLASSES) return undefined
    if (c >= k) k = c + 1
  }
  const total = new Float64Array(k)
  for (let i = 0; i < n; i++) total[y[i]!]!++
  let totalSq = 0
  for (let c = 0; c < k; c++) totalSq += total[c]! * total[c]!
  const lesser = new Float64Array(k)
  const impurityAll = exactGiniImpurity(total, n)
  // Gini gains lie in [0, 1]. The original's class probabilities are sums of up to n terms 1/len (relative error
  // up to about n·ε), squared and summed over k classes: its gains are within ~3(n + k)·ε of the true ones; the
  // fast ones (exact integer counts, a handful of roundings) far closer. Both together, with a wide margin:
  const tol = 1e-9 + 16 * (n + k + 8) * EPS

  return {
    prepare(order) {
      lesser.fill(0)
      // Σ count² per side, exact integers: gini(side)·len = len − Σ count² / len.
      let sqL = 0
      let sqR = totalSq
      let p = 0
      return (to) => {
        for (; p < to; p++) {
          const c = y[order[p]!]!
          const l = lesser[c]!
          sqL += 2 * l + 1
          sqR -= 2 * (total[c]! - l) - 1
          lesser[c] = l + 1
        }
        const L = to
        const R = n - to
        const weighted = (R > 0 ? R - sqR / R : 0) + (L > 0 ? L - sqL / L : 0)
        return impurityAll - weighted / n
      }
    },
    tolerance: () => tol,
    exact(x, v) {
      fastSplitStats.exactEvaluations++
      const countsL = new Float64Array(k)
      const countsG = new Float64Array(k)
      let L = 0
      for (let i = 0; i < n; i++) {
        if (x[i]! < v) {
          countsL[y[i]!]!++
          L++
        } else {
          countsG[y[i]!]!++
        }
      }
      const G = n - L
      // utils.giniGain: the greater side first, then the lesser.
      let splitsImpurity = 0.0
      splitsImpurity += (exactGiniImpurity(countsG, G) * G) / n
      splitsImpurity += (exactGiniImpurity(countsL, L) * L) / n
      return impurityAll - splitsImpurity
    },
  }
}

/**
 * utils.giniImpurity of a side with these class counts, to the bit: each probability is 1/len added once per row
 * of the class (the order of equal addends does not matter), the squares summed in class order. Classes above
 * the side's largest label add 0 to the sum, which changes nothing.
 */
function exactGiniImpurity(counts: Float64Array, len: number): number {
  if (len === 0) return 0
  let sum = 0.0
  for (let c = 0; c < counts.length; c++) {
    let p = 0
    for (let j = 0; j < counts[c]!; j++) p += 1 / len
    sum += p * p
  }
  return 1 - sum
}

function regressionSearch(y: number[]): Search | undefined {
  const n = y.length
  let sum = 0
  let maxAbs = 0
  for (let i = 0; i < n; i++) {
    const v = y[i]
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_TARGET) return undefined
    sum += v
    maxAbs = Math.max(maxAbs, Math.abs(v))
  }
  // Centre on the node's mean: the squared errors do not change, the magnitudes the sweep works with shrink.
  const centre = n > 0 ? sum / n : 0
  const z = new Float64Array(n)
  let spread = 0
  for (let i = 0; i < n; i++) {
    z[i] = y[i]! - centre
    spread = Math.max(spread, Math.abs(z[i]!))
  }
  const prefix = new Float64Array(n + 1)
  const suffix = new Float64Array(n + 1)
  // Error bounds, for sums of squared errors E ≤ n·spread²: the original sums in row order (≲ n·ε·E) around a
  // mean off by up to ~n·ε·maxAbs (adds ≲ n³·ε²·maxAbs²); Welford on centred values stays within ~6·n²·ε·spread².
  const absTol = 16 * n * n * EPS * spread * spread + 8 * n * n * n * EPS * EPS * maxAbs * maxAbs
  const relTol = 1e-9 + 64 * (n + 8) * EPS

  return {
    prepare(order) {
      // Welford: squared deviations of every prefix and every suffix of the sorted rows.
      let mean = 0
      let m2 = 0
      prefix[0] = 0
      for (let p = 1; p <= n; p++) {
        const value = z[order[p - 1]!]!
        const delta = value - mean
        mean += delta / p
        m2 += delta * (value - mean)
        prefix[p] = m2
      }
      mean = 0
      m2 = 0
      suffix[n] = 0
      for (let p = n - 1, count = 1; p >= 0; p--, count++) {
        const value = z[order[p]!]!
        const delta = value - mean
        mean += delta / count
        m2 += delta * (value - mean)
        suffix[p] = m2
      }
      return (p) => prefix[p]! + suffix[p]!
    },
    tolerance: (a, b) => absTol + relTol * Math.max(Math.abs(a), Math.abs(b)),
    exact(x, v) {
      fastSplitStats.exactEvaluations++
      // utils.regressionError: squaredError(greater) + squaredError(lesser), each the mean of its values in row
      // order (ml-array-mean: a running sum divided by the length), then Σ (value − mean)² in row order.
      let sumG = 0
      let sumL = 0
      let G = 0
      let L = 0
      for (let i = 0; i < n; i++) {
        if (x[i]! < v) {
          sumL += y[i]!
          L++
        } else {
          sumG += y[i]!
          G++
        }
      }
      const meanG = sumG / G
      const meanL = sumL / L
      let errorG = 0.0
      let errorL = 0.0
      for (let i = 0; i < n; i++) {
        if (x[i]! < v) errorL += (y[i]! - meanL) * (y[i]! - meanL)
        else errorG += (y[i]! - meanG) * (y[i]! - meanG)
      }
      let error = 0.0
      error += G === 0 ? 0.0 : errorG
      error += L === 0 ? 0.0 : errorL
      return error
    },
  }
}
