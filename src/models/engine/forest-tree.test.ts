// Proof that a forest tree grown with every feature tried and no bootstrap, on features whose every value has a bin
// of its own, is the tree an exact CART search grows: each split's score is the best over every threshold of every
// feature (and every subset of a categorical feature's categories, for two classes and for regression), its
// threshold sits halfway between the values on either side, and every leaf is pure or cannot be split.
import { MersenneTwister19937, integer, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import type { FeatureKind } from './binning.js'
import { trainForest } from './forest.js'
import type { Criterion } from './forest-tree.js'
import type { TrainingProblem } from './problem.js'
import { nodesOf, rowsPerNode, type NodeView } from './test-trees.js'
import type { TreeEnsemble } from './tree.js'

/** The engine's purity bound (forest-tree.ts): a node whose impurity is at most this is a leaf. */
const EPS = 2.220446049250313e-16

interface Case {
  /** Rows (NaN = missing; a categorical feature holds category codes). */
  X: number[][]
  /** Class index, or value. */
  y: number[]
  kinds: FeatureKind[]
  /** 0 for regression. */
  classes: number
  criterion: Criterion
  minSamplesSplit: number
  minSamplesLeaf: number
  maxDepth: number | null
}

// ---------------------------------------------------------------------------------------------------------------
// The exact search, by brute force: nothing shared with the engine but the definitions

/** Class counts (classification) or [rows, Σy, Σy²] (regression) of `rows`. */
function statsOf(c: Case, rows: readonly number[]): number[] {
  if (c.classes > 0) {
    const counts = new Array<number>(c.classes).fill(0)
    for (const r of rows) counts[c.y[r]!]!++
    return counts
  }
  let s = 0
  let q = 0
  for (const r of rows) {
    s += c.y[r]!
    q += c.y[r]! ** 2
  }
  return [rows.length, s, q]
}

/** W·H with H the entropy (natural log) of the counts: W log W − Σ c log c. */
function weightedEntropy(counts: readonly number[]): number {
  const w = counts.reduce((a, b) => a + b, 0)
  return w > 0 ? w * Math.log(w) - counts.reduce((a, k) => a + (k > 0 ? k * Math.log(k) : 0), 0) : 0
}

/**
 * A split's score, higher is better, ordering splits as the impurity decrease does: gini Σk L²/W_L + Σk R²/W_R,
 * entropy −(W_L·H_L + W_R·H_R), squared error S_L²/W_L + S_R²/W_R. −Infinity when a side is under min_samples_leaf.
 */
function scoreOf(c: Case, left: readonly number[], right: readonly number[]): number {
  if (left.length < c.minSamplesLeaf || right.length < c.minSamplesLeaf) return -Infinity
  const l = statsOf(c, left)
  const r = statsOf(c, right)
  if (c.classes === 0) return l[1]! ** 2 / l[0]! + r[1]! ** 2 / r[0]!
  if (c.criterion === 'entropy') return -(weightedEntropy(l) + weightedEntropy(r))
  const part = (s: number[]) => s.reduce((a, k) => a + k * k, 0) / s.reduce((a, k) => a + k, 0)
  return part(l) + part(r)
}

function impurityOf(c: Case, rows: readonly number[]): number {
  const s = statsOf(c, rows)
  if (c.classes === 0) return s[2]! / s[0]! - (s[1]! / s[0]!) ** 2
  const w = s.reduce((a, b) => a + b, 0)
  return c.criterion === 'entropy' ? weightedEntropy(s) / w : 1 - s.reduce((a, k) => a + (k / w) ** 2, 0)
}

const isMissing = (v: number) => Number.isNaN(v)

/**
 * The best score of a numeric feature over the node's rows: every threshold between consecutive distinct values,
 * the missing rows sent left or right, and the missing rows alone against all the others.
 */
function bestNumeric(c: Case, rows: readonly number[], f: number): number {
  const known = rows.filter((r) => !isMissing(c.X[r]![f]!))
  const missing = rows.filter((r) => isMissing(c.X[r]![f]!))
  const values = [...new Set(known.map((r) => c.X[r]![f]!))].sort((a, b) => a - b)
  let best = -Infinity
  for (let i = 0; i + 1 < values.length; i++) {
    const left = known.filter((r) => c.X[r]![f]! <= values[i]!)
    const right = known.filter((r) => c.X[r]![f]! > values[i]!)
    best = Math.max(best, scoreOf(c, left, [...right, ...missing]))
    if (missing.length > 0) best = Math.max(best, scoreOf(c, [...left, ...missing], right))
  }
  if (missing.length > 0 && known.length > 0) best = Math.max(best, scoreOf(c, known, missing))
  return best
}

/** The best score of a categorical feature over ALL subsets of the node's categories (missing as one of them). */
function bestSubset(c: Case, rows: readonly number[], f: number): number {
  const key = (r: number) => (isMissing(c.X[r]![f]!) ? -1 : c.X[r]![f]!)
  const present = [...new Set(rows.map(key))]
  let best = -Infinity
  for (let mask = 1; mask < 2 ** present.length - 1; mask++) {
    const goesLeft = new Set(present.filter((_, i) => (mask >> i) & 1))
    best = Math.max(
      best,
      scoreOf(
        c,
        rows.filter((r) => goesLeft.has(key(r))),
        rows.filter((r) => !goesLeft.has(key(r))),
      ),
    )
  }
  return best
}

/** The exact best score over every feature; −Infinity when no split of the node keeps min_samples_leaf. */
function exactBest(c: Case, rows: readonly number[]): number {
  let best = -Infinity
  c.kinds.forEach((kind, f) => {
    best = Math.max(best, kind.categorical ? bestSubset(c, rows, f) : bestNumeric(c, rows, f))
  })
  return best
}

// ---------------------------------------------------------------------------------------------------------------
// Growing and checking

async function grow(c: Case, trees: number, seed: number): Promise<TreeEnsemble> {
  const n = c.X.length
  const features = c.kinds.length
  const problem: TrainingProblem = {
    rows: n,
    features,
    columns: Array.from({ length: features }, (_, f) => Float64Array.from(c.X, (row) => row[f]!)),
    kinds: c.kinds,
    target: Float64Array.from(c.y),
    weights: null,
  }
  const forest = await trainForest(problem, {
    classes: c.classes,
    criterion: c.criterion,
    maxDepth: c.maxDepth,
    minSamplesSplit: c.minSamplesSplit,
    minSamplesLeaf: c.minSamplesLeaf,
    maxFeatures: features,
    bootstrap: false,
    maxSamples: n,
    seed,
    nEstimators: trees,
    maxBins: 255,
    nJobs: 1,
  })
  return forest.ensemble
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b), 1e-300)
}

function isPure(c: Case, rows: readonly number[]): boolean {
  return new Set(rows.map((r) => c.y[r])).size === 1 || impurityOf(c, rows) <= EPS
}

interface Seen {
  inner: number
  categorical: number
  /** Numeric splits of a node holding missing values of the feature. */
  withMissing: number
  /** Splits of a node holding none of the feature's missing values, on a feature that has some. */
  withoutMissing: number
}

/**
 * Check every node of every tree against the exact search, routing the training rows as prediction does (with no
 * bootstrap, they are the rows each node was grown on).
 */
function checkForest(c: Case, e: TreeEnsemble): Seen {
  const seen: Seen = { inner: 0, categorical: 0, withMissing: 0, withoutMissing: 0 }
  const featureHasMissing = c.kinds.map((_, f) => c.X.some((row) => isMissing(row[f]!)))
  for (let t = 0; t < e.trees; t++) {
    const reached = rowsPerNode(e, t, c.X)
    for (const n of nodesOf(e, t)) {
      const rows = reached.get(n.node) ?? []
      const where = `tree ${t} node ${n.node} (depth ${n.depth}, ${rows.length} rows)`
      expect(rows.length, `${where} holds training rows`).toBeGreaterThan(0)
      if (n.leaf) {
        checkLeaf(c, n, rows, where)
        continue
      }
      seen.inner++
      const left = reached.get(n.left) ?? []
      const right = reached.get(n.right) ?? []
      // 1. the node could be split: impure, big enough, not at the depth limit
      expect(isPure(c, rows), `${where} is impure`).toBe(false)
      expect(rows.length, where).toBeGreaterThanOrEqual(Math.max(c.minSamplesSplit, 2 * c.minSamplesLeaf))
      if (c.maxDepth !== null) expect(n.depth, where).toBeLessThan(c.maxDepth)
      // 2. its split scores the exact best (ties between features may be broken either way: scores, not features)
      const chosen = scoreOf(c, left, right)
      const best = exactBest(c, rows)
      expect(close(chosen, best), `${where}: chosen ${chosen}, exact best ${best}`).toBe(true)
      // 3. where missing values go
      const missingHere = rows.filter((r) => isMissing(c.X[r]![n.feature]!))
      if (missingHere.length === 0) {
        // none in the node: prediction sends them to the child with more rows (the right one on a tie)
        expect(n.missingLeft, `${where}: missing values go to the bigger child`).toBe(left.length > right.length)
        if (featureHasMissing[n.feature]) seen.withoutMissing++
      }
      if (n.categorical) {
        seen.categorical++
        continue
      }
      // 4. a numeric threshold sits halfway between the largest left value and the smallest right one
      const leftValues = left.map((r) => c.X[r]![n.feature]!).filter((v) => !isMissing(v))
      const rightValues = right.map((r) => c.X[r]![n.feature]!).filter((v) => !isMissing(v))
      expect(leftValues.length, `${where}: values go left`).toBeGreaterThan(0)
      if (rightValues.length === 0) {
        // the split sends the missing values alone to the right
        expect(n.threshold, where).toBe(Infinity)
      } else {
        const a = Math.max(...leftValues)
        const b = Math.min(...rightValues)
        expect(n.threshold, where).toBe(a / 2 + b / 2)
      }
      if (missingHere.length > 0) {
        // the node's missing rows went to the better side for this threshold
        seen.withMissing++
        const knownLeft = left.filter((r) => !isMissing(c.X[r]![n.feature]!))
        const knownRight = right.filter((r) => !isMissing(c.X[r]![n.feature]!))
        const sentLeft = scoreOf(c, [...knownLeft, ...missingHere], knownRight)
        const sentRight = rightValues.length === 0 ? -Infinity : scoreOf(c, knownLeft, [...knownRight, ...missingHere])
        const taken = n.missingLeft ? sentLeft : sentRight
        const other = n.missingLeft ? sentRight : sentLeft
        expect(taken >= other || close(taken, other), `${where}: missing rows left ${sentLeft}, right ${sentRight}, went ${n.missingLeft ? 'left' : 'right'}`).toBe(true)
      }
    }
  }
  return seen
}

function checkLeaf(c: Case, n: NodeView, rows: readonly number[], where: string): void {
  // its values: the class shares or the mean of its rows
  const s = statsOf(c, rows)
  if (c.classes > 0) s.forEach((k, i) => expect(n.values[i], where).toBeCloseTo(k / rows.length, 14))
  else expect(n.values[0], where).toBeCloseTo(s[1]! / s[0]!, 10)
  // pure, or it could not be split further
  const stopped = isPure(c, rows) || rows.length < c.minSamplesSplit || rows.length < 2 * c.minSamplesLeaf || (c.maxDepth !== null && n.depth >= c.maxDepth)
  if (!stopped) expect(exactBest(c, rows), `${where} is impure, yet a leaf`).toBe(-Infinity)
}

// ---------------------------------------------------------------------------------------------------------------
// Data: few distinct values per feature, so that each value is a bin of its own and values tie across rows

/** A feature's values: 6 to 9 distinct, unevenly spaced, some negative. */
function valueSet(engine: MersenneTwister19937, f: number): number[] {
  const count = 6 + (f % 4)
  return Array.from({ length: count }, (_, i) => (i - 2) * (0.75 + 0.25 * f) + (i % 3) * 0.125).concat(integer(0, 1)(engine) ? [12.5] : [])
}

interface Options {
  rows: number
  seed: number
  classes: number
  criterion?: Criterion
  minSamplesSplit?: number
  minSamplesLeaf?: number
  maxDepth?: number | null
  /** Feature 1 is missing in this share of the rows. */
  missing?: number
}

function numericCase(o: Options): Case {
  const engine = MersenneTwister19937.seed(o.seed)
  const sets = [0, 1, 2, 3].map((f) => valueSet(engine, f))
  const X = Array.from({ length: o.rows }, () => sets.map((values) => values[integer(0, values.length - 1)(engine)]!))
  const y = X.map(([a, b, c]) => {
    const z = a! - 0.5 * b! + (c! > 1 ? 1.5 : 0) + real(-1.5, 1.5)(engine)
    if (o.classes === 0) return z
    if (o.classes === 2) return z > 0.5 ? 1 : 0
    return z < -0.5 ? 0 : z < 1.5 ? 1 : 2
  })
  if (o.missing) for (const row of X) if (real(0, 1)(engine) < o.missing) row[1] = Number.NaN
  return {
    X,
    y,
    kinds: sets.map(() => ({ categorical: false })),
    classes: o.classes,
    criterion: o.criterion ?? (o.classes > 0 ? 'gini' : 'squared_error'),
    minSamplesSplit: o.minSamplesSplit ?? 2,
    minSamplesLeaf: o.minSamplesLeaf ?? 1,
    maxDepth: o.maxDepth ?? null,
  }
}

/**
 * Two categorical features (5 and 6 categories, the second missing in `missing` of the rows) whose categories
 * shift the target out of their code order, and one numeric feature.
 */
function categoricalCase(o: Options): Case {
  const engine = MersenneTwister19937.seed(o.seed)
  const effectA = [0.8, -1.2, 1.9, 0, -0.4]
  const effectB = [-0.9, 1.4, 0.2, -1.8, 2.1, 0.6]
  const X = Array.from({ length: o.rows }, () => [integer(0, 4)(engine), integer(0, 5)(engine), integer(0, 6)(engine) * 0.5])
  const y = X.map(([a, b, x]) => {
    const z = effectA[a!]! + effectB[b!]! + 0.3 * x! + real(-1.5, 1.5)(engine)
    return o.classes === 0 ? z : z > 0.5 ? 1 : 0
  })
  if (o.missing) for (const row of X) if (real(0, 1)(engine) < o.missing) row[1] = Number.NaN
  return {
    X,
    y,
    kinds: [
      { categorical: true, categories: 5 },
      { categorical: true, categories: 6 },
      { categorical: false },
    ],
    classes: o.classes,
    criterion: o.criterion ?? (o.classes > 0 ? 'gini' : 'squared_error'),
    minSamplesSplit: o.minSamplesSplit ?? 2,
    minSamplesLeaf: o.minSamplesLeaf ?? 1,
    maxDepth: o.maxDepth ?? null,
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('forest trees are exact CART trees when every feature is tried and nothing is drawn', () => {
  const seeds = [1, 2, 3]
  const numeric: [string, Omit<Options, 'seed'>][] = [
    ['two classes, gini', { rows: 160, classes: 2 }],
    ['two classes, entropy', { rows: 160, classes: 2, criterion: 'entropy' }],
    ['three classes, gini', { rows: 180, classes: 3 }],
    ['three classes, entropy', { rows: 180, classes: 3, criterion: 'entropy' }],
    ['regression, squared error', { rows: 150, classes: 0 }],
    ['two classes with min_samples_leaf 4, min_samples_split 12, max_depth 5', { rows: 200, classes: 2, minSamplesLeaf: 4, minSamplesSplit: 12, maxDepth: 5 }],
    ['regression with min_samples_leaf 3', { rows: 150, classes: 0, minSamplesLeaf: 3 }],
  ]

  for (const [name, o] of numeric) {
    it(`grows the exact tree on numeric features: ${name}`, async () => {
      for (const seed of seeds) {
        const c = numericCase({ ...o, seed })
        const seen = checkForest(c, await grow(c, 2, seed))
        expect(seen.inner).toBeGreaterThan(10)
      }
    })
  }

  it('sends missing values to the better side, and tries them alone against the rest (two classes and regression)', async () => {
    let withMissing = 0
    let withoutMissing = 0
    for (const classes of [2, 3, 0]) {
      for (const seed of seeds) {
        const c = numericCase({ rows: 180, classes, seed, missing: 0.2 })
        const seen = checkForest(c, await grow(c, 2, seed))
        withMissing += seen.withMissing
        withoutMissing += seen.withoutMissing
      }
    }
    // both kinds of node occur, so both rules were checked
    expect(withMissing).toBeGreaterThan(10)
    expect(withoutMissing).toBeGreaterThan(10)
  })

  // min_samples_leaf 1 here: Breiman's theorem is about unconstrained splits. With a minimum, the best prefix of the
  // ordered categories may break it while another subset keeps it (categories of 3, 6 and 2 rows, means ordered
  // 3-row < 6-row < 2-row, min_samples_leaf 5: only {3-row, 2-row} vs {6-row} is allowed, and it is no prefix), and
  // the engine then finds no categorical split, as scikit-learn's HistGradientBoosting would not either.
  for (const [name, o] of [
    ['two classes, gini', { rows: 200, classes: 2 }],
    ['two classes, entropy', { rows: 200, classes: 2, criterion: 'entropy' }],
    ['regression (categories ordered by mean)', { rows: 200, classes: 0 }],
    ['two classes with a missing category', { rows: 200, classes: 2, missing: 0.15 }],
    ['regression with a missing category', { rows: 200, classes: 0, missing: 0.15 }],
  ] as [string, Omit<Options, 'seed'>][]) {
    it(`splits categories as well as the best of all their subsets (Breiman): ${name}`, async () => {
      let categorical = 0
      for (const seed of seeds) {
        const c = categoricalCase({ ...o, seed })
        categorical += checkForest(c, await grow(c, 2, seed)).categorical
      }
      expect(categorical).toBeGreaterThan(10)
    })
  }
})
