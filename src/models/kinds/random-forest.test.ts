// random_forest: the model contract, and each hyper-parameter honoured: an effect seen in the trees or predictions.
import { MersenneTwister19937, integer, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import { MlskelError } from '../../errors/index.js'
import { canonicalJson } from '../../json/index.js'
import { runModelContract } from '../contract/test-contract.js'
import { nodesOf, rowsPerNode, shapes, treesOf } from '../engine/test-trees.js'
import type { TreeEnsemble } from '../engine/tree.js'
import { featuresPerSplit, trainRandomForest, type Dataset, type Predictor, type Signature } from '../index.js'
import { linear } from '../test-data.js'

runModelContract({ kind: 'random_forest', uncheckedRows: true, train: (o) => trainRandomForest({ ...o, hyperParameters: { n_estimators: 10, n_jobs: o.nJobs } }) })

// ---------------------------------------------------------------------------------------------------------------
// Data and helpers

interface LabelledSet {
  data: Dataset
  signature: Signature
}

type Hyper = NonNullable<Parameters<typeof trainRandomForest>[0]['hyperParameters']>

function numericSignature(features: number, classes: string[] | null): Signature {
  return {
    features: Array.from({ length: features }, (_, f) => ({ name: `x${f}`, type: 'number' as const })),
    target: classes ? { name: 'label', type: 'category', classes } : { name: 'y', type: 'number' },
  }
}

/** Uniform features in [0, 1); the label is x0 > 0.5 exactly, so x0 decides it and the others are noise. */
function decided(rows: number, features: number, seed: number): LabelledSet {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => Array.from({ length: features }, () => real(0, 1)(engine)))
  return { data: { X, y: X.map((row) => (row[0]! > 0.5 ? 'yes' : 'no')) }, signature: numericSignature(features, ['no', 'yes']) }
}

/** Two overlapping classes in 4 features (x0 + x1 plus noise): trees grow deep, with small nodes. */
function overlapping(rows: number, seed: number): LabelledSet {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => [0, 1, 2, 3].map(() => real(0, 1)(engine)))
  const y = X.map(([a, b]) => (a! + b! + real(-0.5, 0.5)(engine) > 1 ? 'b' : 'a'))
  return { data: { X, y }, signature: numericSignature(4, ['a', 'b']) }
}

/** About a tenth of the rows 'rare', likelier as x0 grows: the classes overlap everywhere. */
function imbalanced(rows: number, seed: number): LabelledSet {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => [real(0, 1)(engine), real(0, 1)(engine)])
  const y = X.map(([a]) => (real(0, 1)(engine) < 0.02 + 0.16 * a! ? 'rare' : 'common'))
  return { data: { X, y }, signature: numericSignature(2, ['common', 'rare']) }
}

/** Three classes from 3 numeric features and a 5-category colour; a tenth of x0 and of the colour missing (NaN). */
function gapped(rows: number, seed: number): LabelledSet {
  const engine = MersenneTwister19937.seed(seed)
  const X: number[][] = []
  const y: string[] = []
  for (let i = 0; i < rows; i++) {
    const colour = integer(0, 4)(engine)
    const row = [real(0, 3)(engine), real(0, 1)(engine), real(0, 1)(engine), colour]
    const score = row[0]! + (colour === 1 || colour === 3 ? 1.5 : 0) + real(-0.7, 0.7)(engine)
    if (integer(0, 9)(engine) === 0) row[0] = Number.NaN
    if (integer(0, 9)(engine) === 0) row[3] = Number.NaN
    X.push(row)
    y.push(score < 1.5 ? 'low' : score < 3 ? 'mid' : 'high')
  }
  const signature: Signature = {
    features: [
      { name: 'x0', type: 'number' },
      { name: 'x1', type: 'number' },
      { name: 'x2', type: 'number' },
      { name: 'colour', type: 'category', categories: ['red', 'green', 'blue', 'cyan', 'violet'] },
    ],
    target: { name: 'label', type: 'category', classes: ['low', 'mid', 'high'] },
  }
  return { data: { X, y }, signature }
}

function train(set: LabelledSet, hyperParameters: Hyper = {}, seed = 1): Promise<Predictor> {
  const task = set.signature.target.type === 'category' ? 'classification' : 'regression'
  return trainRandomForest({ task, signature: set.signature, data: set.data, seed, hyperParameters: { n_jobs: 1, ...hyperParameters } })
}

function resolved(p: Predictor): Record<string, unknown> {
  return (p.toJSON() as { hyper_parameters: Record<string, unknown> }).hyper_parameters
}

async function refusal(training: Promise<unknown>): Promise<MlskelError> {
  try {
    await training
  } catch (error) {
    if (error instanceof MlskelError) return error
    throw error
  }
  throw new Error('expected training to be refused')
}

/** Per tree: the training rows (of X) each node holds, as prediction routes them. */
function rowCounts(e: TreeEnsemble, X: readonly (readonly number[])[]): { leaves: number[]; inner: number[] } {
  const leaves: number[] = []
  const inner: number[] = []
  for (let t = 0; t < e.trees; t++) {
    const reached = rowsPerNode(e, t, X)
    for (const n of nodesOf(e, t)) (n.leaf ? leaves : inner).push(reached.get(n.node)?.length ?? 0)
  }
  return { leaves, inner }
}

/** The values of the leaf each row of X reaches in tree t. */
function leafValues(e: TreeEnsemble, t: number, X: readonly (readonly number[])[]): number[][] {
  const nodes = new Map(nodesOf(e, t).map((n) => [n.node, n]))
  const out: number[][] = new Array<number[]>(X.length)
  for (const [node, rows] of rowsPerNode(e, t, X)) {
    const view = nodes.get(node)!
    if (view.leaf) for (const r of rows) out[r] = view.values
  }
  return out
}

/** A tree's nodes with indexes relative to its root, so two trees of one ensemble compare as values. */
function layout(e: TreeEnsemble, t: number): unknown[] {
  const nodes = nodesOf(e, t)
  const base = nodes[0]!.node
  return nodes.map((n) => [n.depth, n.feature, n.threshold, n.missingLeft, n.leftCategories, n.values, n.leaf ? -1 : n.right - base])
}

function gini(counts: readonly number[]): number {
  const w = counts.reduce((a, b) => a + b, 0)
  return w > 0 ? 1 - counts.reduce((a, c) => a + (c / w) ** 2, 0) : 0
}

// ---------------------------------------------------------------------------------------------------------------

describe('random_forest hyper-parameters', () => {
  describe('n_estimators', () => {
    it('grows n_estimators trees, 100 by default', async () => {
      const set = overlapping(60, 1)
      for (const n of [1, 7]) {
        const p = await train(set, { n_estimators: n })
        expect(treesOf(p).trees).toBe(n)
        expect(resolved(p).n_estimators).toBe(n)
      }
      const byDefault = await train(set)
      expect(treesOf(byDefault).trees).toBe(100)
      expect(resolved(byDefault).n_estimators).toBe(100)
    })
  })

  describe('criterion', () => {
    it('defaults to gini for classification and squared_error for regression, and records it', async () => {
      expect(resolved(await train(overlapping(60, 1), { n_estimators: 2 })).criterion).toBe('gini')
      expect(resolved(await train(linear(60), { n_estimators: 2 })).criterion).toBe('squared_error')
    })

    it('grows different forests with gini and entropy, and log_loss is entropy by another name', async () => {
      const set = overlapping(300, 4)
      const trees = async (criterion: 'gini' | 'entropy' | 'log_loss') => {
        const p = await train(set, { n_estimators: 5, criterion })
        return { json: canonicalJson((p.toJSON() as { trees: unknown }).trees), recorded: resolved(p).criterion }
      }
      const gini = await trees('gini')
      const entropy = await trees('entropy')
      const logLoss = await trees('log_loss')
      expect(entropy.json).not.toBe(gini.json)
      expect(logLoss.json).toBe(entropy.json)
      expect(logLoss.recorded).toBe('entropy')
    })

    it('refuses a criterion of the other task, naming model.criterion', async () => {
      const forClassifier = await refusal(train(overlapping(60, 1), { criterion: 'squared_error' }))
      expect(forClassifier).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.criterion' } })
      expect(forClassifier.message).toContain('model.criterion')
      expect(forClassifier.message).toContain('gini or entropy')
      for (const criterion of ['gini', 'entropy'] as const) {
        const forRegressor = await refusal(train(linear(60), { criterion }))
        expect(forRegressor).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.criterion' } })
        expect(forRegressor.message).toContain(`"${criterion}"`)
        expect(forRegressor.message).toContain('squared_error')
      }
    })
  })

  describe('max_depth', () => {
    it('grows no tree deeper than max_depth, some to it exactly, and deeper without it', async () => {
      const set = overlapping(200, 2)
      for (const depth of [1, 3]) {
        const p = await train(set, { n_estimators: 6, max_depth: depth })
        const depths = shapes(treesOf(p)).map((s) => s.depth)
        expect(Math.max(...depths)).toBe(depth)
        expect(resolved(p).max_depth).toBe(depth)
      }
      const unlimited = await train(set, { n_estimators: 6 })
      expect(Math.max(...shapes(treesOf(unlimited)).map((s) => s.depth))).toBeGreaterThan(3)
      expect(resolved(unlimited).max_depth).toBeNull()
    })
  })

  describe('min_samples_split', () => {
    it('splits only nodes holding at least min_samples_split training rows, a fraction resolving to ceil(f × rows)', async () => {
      const set = overlapping(150, 3)
      const X = set.data.X
      const loose = rowCounts(treesOf(await train(set, { n_estimators: 5, bootstrap: false })), X)
      // the data has inner nodes below 20 rows when nothing stops them, so the bound below is a real effect
      expect(Math.min(...loose.inner)).toBeLessThan(20)
      for (const [given, rows] of [
        [20, 20],
        [0.13, 20], // ceil(0.13 × 150) = ceil(19.5)
        [0.1, 15],
      ] as const) {
        const p = await train(set, { n_estimators: 5, bootstrap: false, min_samples_split: given })
        expect(resolved(p).min_samples_split).toBe(rows)
        const counts = rowCounts(treesOf(p), X)
        expect(Math.min(...counts.inner)).toBeGreaterThanOrEqual(rows)
        // the bound is on the node that splits, not on its children (that is min_samples_leaf): leaves may hold fewer
        expect(counts.leaves.some((m) => m < rows)).toBe(true)
      }
    })

    it('takes 1 as the fraction 1.0 (YAML writes 1.0 as 1): all rows, so only the root splits', async () => {
      const set = overlapping(150, 3)
      const p = await train(set, { n_estimators: 3, bootstrap: false, min_samples_split: 1 })
      expect(resolved(p).min_samples_split).toBe(150)
      expect(shapes(treesOf(p)).map((s) => s.depth)).toEqual([1, 1, 1])
    })
  })

  describe('min_samples_leaf', () => {
    it('keeps at least min_samples_leaf training rows in every leaf, a fraction resolving to ceil(f × rows)', async () => {
      const set = overlapping(150, 3)
      const X = set.data.X
      expect(Math.min(...rowCounts(treesOf(await train(set, { n_estimators: 5, bootstrap: false })), X).leaves)).toBeLessThan(7)
      for (const [given, rows] of [
        [7, 7],
        [0.05, 8], // ceil(0.05 × 150) = ceil(7.5)
      ] as const) {
        const p = await train(set, { n_estimators: 5, bootstrap: false, min_samples_leaf: given })
        expect(resolved(p).min_samples_leaf).toBe(rows)
        expect(Math.min(...rowCounts(treesOf(p), X).leaves)).toBeGreaterThanOrEqual(rows)
      }
    })
  })

  describe('max_features', () => {
    it('resolves as scikit-learn does: sqrt, log2, a fraction (floored, at least 1), a count, null for all', () => {
      const cases: [Parameters<typeof featuresPerSplit>[0], 'classification' | 'regression', number, number][] = [
        ['sqrt', 'classification', 10, 3],
        ['sqrt', 'regression', 16, 4],
        ['sqrt', 'classification', 2, 1],
        ['log2', 'classification', 10, 3],
        ['log2', 'classification', 3, 1],
        ['log2', 'classification', 1, 1], // log2(1) = 0, raised to 1
        [0.5, 'classification', 10, 5],
        [0.25, 'classification', 10, 2], // floor(2.5)
        [0.01, 'classification', 10, 1],
        [1, 'classification', 10, 10], // 1 is 1.0: YAML writes 1.0 as 1
        [4, 'classification', 10, 4],
        [10, 'classification', 10, 10],
        [null, 'classification', 10, 10],
        [undefined, 'classification', 10, 3], // absent: sqrt
        [undefined, 'regression', 10, 10], // absent: all
      ]
      for (const [given, task, features, expected] of cases) expect(featuresPerSplit(given, task, features), `${String(given)} of ${features} (${task})`).toBe(expected)
    })

    it('records the resolved count in the trained model', async () => {
      const set = decided(60, 10, 1)
      const regression: LabelledSet = { data: { X: set.data.X, y: set.data.X.map((row) => row[0]!) }, signature: numericSignature(10, null) }
      for (const [given, expected] of [
        ['sqrt', 3],
        ['log2', 3],
        [0.25, 2],
        [4, 4],
        [null, 10],
        [undefined, 3],
      ] as const) {
        const p = await train(set, { n_estimators: 2, ...(given === undefined ? {} : { max_features: given }) })
        expect(resolved(p).max_features, String(given)).toBe(expected)
      }
      expect(resolved(await train(regression, { n_estimators: 2 })).max_features).toBe(10)
    })

    it('tries them all with null: every root splits on the deciding feature; with one, some roots split on noise', async () => {
      const set = decided(200, 5, 2)
      const roots = (p: Predictor) => {
        const e = treesOf(p)
        return Array.from({ length: e.trees }, (_, t) => nodesOf(e, t)[0]!.feature)
      }
      const all = await train(set, { n_estimators: 20, bootstrap: false, max_features: null })
      expect(roots(all)).toEqual(new Array(20).fill(0))
      const one = await train(set, { n_estimators: 20, bootstrap: false, max_features: 0.2 })
      expect(resolved(one).max_features).toBe(1)
      expect(roots(one).filter((f) => f !== 0).length).toBeGreaterThan(0)
    })

    it('refuses a count above the features, or a count that is not whole, naming model.max_features', async () => {
      const set = decided(60, 4, 1)
      const above = await refusal(train(set, { max_features: 5 }))
      expect(above).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.max_features' } })
      expect(above.message).toContain('5 is more than the 4 features')
      expect(above.fix).toContain('at most 4')
      const fractional = await refusal(train(set, { max_features: 2.5 }))
      expect(fractional).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.max_features' } })
      expect(fractional.message).toContain('2.5')
    })
  })

  describe('bootstrap', () => {
    it('grows identical trees without it (every feature tried), and different ones with it', async () => {
      // Ties between features are broken by each tree's own feature order, as in scikit-learn; a continuous target
      // and leaves of at least 5 rows leave no ties here, so any difference would come from the rows drawn.
      const set = linear(150, 5)
      const fresh = linear(40, 6).data.X
      const X = [...set.data.X, ...fresh]
      const without = treesOf(await train(set, { n_estimators: 4, bootstrap: false, max_features: null, min_samples_leaf: 5 }))
      const first = leafValues(without, 0, X)
      for (let t = 1; t < without.trees; t++) {
        expect(leafValues(without, t, X)).toEqual(first)
        expect(layout(without, t)).toEqual(layout(without, 0))
      }
      const withIt = treesOf(await train(set, { n_estimators: 4, bootstrap: true, max_features: null, min_samples_leaf: 5 }))
      const predictions = Array.from({ length: withIt.trees }, (_, t) => canonicalJson(leafValues(withIt, t, X)))
      expect(new Set(predictions).size).toBe(withIt.trees)
    })
  })

  describe('max_samples', () => {
    it('draws max_samples rows per tree: no tree has more leaves than rows drawn, and fewer draws give smaller trees', async () => {
      const set = overlapping(300, 7)
      const leavesOf = (p: Predictor) => shapes(treesOf(p)).map((s) => s.leaves)
      const all = await train(set, { n_estimators: 6 })
      expect(resolved(all).max_samples).toBe(300)
      const tenth = await train(set, { n_estimators: 6, max_samples: 0.1 })
      expect(resolved(tenth).max_samples).toBe(30)
      const fifty = await train(set, { n_estimators: 6, max_samples: 50 })
      expect(resolved(fifty).max_samples).toBe(50)
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
      expect(Math.max(...leavesOf(tenth))).toBeLessThanOrEqual(30)
      expect(Math.max(...leavesOf(fifty))).toBeLessThanOrEqual(50)
      expect(Math.max(...leavesOf(all))).toBeGreaterThan(50)
      expect(sum(leavesOf(tenth))).toBeLessThan(sum(leavesOf(fifty)))
      expect(sum(leavesOf(fifty))).toBeLessThan(sum(leavesOf(all)))
    })

    it('rounds a fraction of the rows as Python does, halves to even (scikit-learn: round(0.5 × 5) = 2)', async () => {
      const set = overlapping(300, 7)
      const five = { data: { X: set.data.X.slice(0, 5), y: set.data.y.slice(0, 5) }, signature: set.signature }
      expect(resolved(await train(five, { n_estimators: 1, max_samples: 0.5 })).max_samples).toBe(2)
      expect(resolved(await train(five, { n_estimators: 1, max_samples: 0.7 })).max_samples).toBe(4)
    })

    it('is refused without bootstrap, or above the rows, naming model.max_samples', async () => {
      const set = overlapping(60, 1)
      const without = await refusal(train(set, { bootstrap: false, max_samples: 0.5 }))
      expect(without).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.max_samples' } })
      expect(without.message).toContain('bootstrap is false')
      const above = await refusal(train(set, { max_samples: 61 }))
      expect(above).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.max_samples' } })
      expect(above.message).toContain('61')
      expect(resolved(await train(set, { n_estimators: 1, bootstrap: false })).max_samples).toBeNull()
    })
  })

  describe('class_weight', () => {
    it('raises the minority class\'s predicted probabilities when balanced', async () => {
      const set = imbalanced(400, 8)
      const rare = set.data.y.filter((label) => label === 'rare').length
      expect(rare / 400).toBeGreaterThan(0.05)
      expect(rare / 400).toBeLessThan(0.15)
      const meanRare = (p: Predictor) => p.predictProba!(set.data.X).reduce((a, row) => a + row[1]!, 0) / set.data.X.length
      const plain = await train(set, { n_estimators: 10, min_samples_leaf: 10 })
      const balanced = await train(set, { n_estimators: 10, min_samples_leaf: 10, class_weight: 'balanced' })
      expect(resolved(balanced).class_weight).toBe('balanced')
      expect(meanRare(balanced)).toBeGreaterThan(2 * meanRare(plain))
    })

    it('weighs each class by rows / (classes × its rows) in the leaves\' distributions', async () => {
      const set = imbalanced(400, 8)
      const { X, y } = set.data
      const counts = { common: y.filter((label) => label === 'common').length, rare: y.filter((label) => label === 'rare').length }
      const weight = [400 / (2 * counts.common), 400 / (2 * counts.rare)]
      for (const classWeight of [null, 'balanced'] as const) {
        const e = treesOf(await train(set, { n_estimators: 1, bootstrap: false, max_depth: 2, max_features: null, class_weight: classWeight }))
        const reached = rowsPerNode(e, 0, X)
        for (const leaf of nodesOf(e, 0).filter((n) => n.leaf)) {
          const rows = reached.get(leaf.node)!
          const c = [0, 1].map((k) => rows.filter((r) => y[r] === ['common', 'rare'][k]).length * (classWeight ? weight[k]! : 1))
          const w = c[0]! + c[1]!
          // 12 digits, not 15: the engine's leaf weights carry the residues of the bug shown below
          expect(leaf.values[0]).toBeCloseTo(c[0]! / w, 12)
          expect(leaf.values[1]).toBeCloseTo(c[1]! / w, 12)
        }
      }
    })

    // A child's statistics are summed from its own rows (forest-tree.ts): taken as parent − left, weights that are not
    // whole numbers left ~1e-14 of classes a node does not hold, which gave probabilities just outside [0, 1] and
    // split nodes whose rows were all one class. These two failed before that fix.
    it('gives probabilities within [0, 1] with class_weight balanced', async () => {
      const set = imbalanced(400, 8)
      const p = await train(set, { n_estimators: 10, bootstrap: false, max_features: null, class_weight: 'balanced' })
      for (const value of p.predictProba!(set.data.X).flat()) {
        expect(value).toBeGreaterThanOrEqual(0)
        expect(value).toBeLessThanOrEqual(1)
      }
    })

    it('never splits a node whose training rows are all one class, with class_weight balanced', async () => {
      const engine = MersenneTwister19937.seed(2)
      const X = Array.from({ length: 600 }, () => [integer(0, 5)(engine), integer(0, 5)(engine), integer(0, 3)(engine)])
      const y = X.map(([a, b]) => {
        const u = real(0, 1)(engine)
        return u < 0.05 + 0.02 * a! ? 'r' : u < 0.3 + 0.05 * b! ? 'm' : 'c'
      })
      const set: LabelledSet = { data: { X, y }, signature: numericSignature(3, ['c', 'm', 'r']) }
      const e = treesOf(await train(set, { n_estimators: 10, bootstrap: false, class_weight: 'balanced' }, 2))
      for (let t = 0; t < e.trees; t++) {
        const reached = rowsPerNode(e, t, X)
        for (const n of nodesOf(e, t).filter((node) => !node.leaf)) expect(new Set(reached.get(n.node)!.map((r) => y[r])).size, `tree ${t} node ${n.node}`).toBeGreaterThan(1)
      }
    })

    it('is refused for regression, naming model.class_weight', async () => {
      const error = await refusal(train(linear(60), { class_weight: 'balanced' }))
      expect(error).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.class_weight' } })
    })
  })

  describe('max_bins', () => {
    /** Per feature: the distinct thresholds of the forest's splits on it, and the split nodes with their rows. */
    function thresholds(e: TreeEnsemble, X: readonly (readonly number[])[]): { values: Set<number>[]; splits: { feature: number; threshold: number; rows: number[] }[] } {
      const values = Array.from({ length: e.features }, () => new Set<number>())
      const splits: { feature: number; threshold: number; rows: number[] }[] = []
      for (let t = 0; t < e.trees; t++) {
        const reached = rowsPerNode(e, t, X)
        for (const n of nodesOf(e, t)) {
          if (n.leaf) continue
          values[n.feature]!.add(n.threshold)
          splits.push({ feature: n.feature, threshold: n.threshold, rows: reached.get(n.node)! })
        }
      }
      return { values, splits }
    }

    /** The 2 edges of 3 bins of about equal counts: numpy's percentile (method "midpoint") at 1/3 and 2/3. */
    function edgesOf3(column: number[]): [number, number] {
      const sorted = [...column].sort((a, b) => a - b)
      const at = (q: number) => {
        const k = q * (sorted.length - 1)
        return (sorted[Math.floor(k)]! + sorted[Math.ceil(k)]!) / 2
      }
      return [at(1 / 3), at(2 / 3)]
    }

    it('with max_bins 3, splits each numeric feature only at its 2 bin edges, or halfway between them where the node left the middle bin empty', async () => {
      // Not "at most 2 distinct thresholds": a node with rows in the outer bins only puts its split in the middle
      // of the empty bin, as it puts one between two values (forest-tree.ts, threshold()). What max_bins promises is
      // that rows sharing a bin are never told apart: thresholds come from the 2 edges, and the halfway one only
      // where no row of the node is in between. x1 = |x0 − 5| makes such nodes: cut on x1, a node may hold x0's
      // outer bins only.
      const engine = MersenneTwister19937.seed(5)
      const X = Array.from({ length: 300 }, () => {
        const a = real(0, 10)(engine)
        return [a, Math.abs(a - 5) + real(-0.5, 0.5)(engine)]
      })
      const set: LabelledSet = { data: { X, y: X.map(([a]) => (a! < 2 ? 'p' : a! > 8 ? 'q' : 'n')) }, signature: numericSignature(2, ['n', 'p', 'q']) }
      const fine = thresholds(treesOf(await train(set, { n_estimators: 10 })), X)
      expect(Math.min(...fine.values.map((s) => s.size))).toBeGreaterThan(3)
      // no bootstrap, so that the rows routed to a node are the rows it was grown on
      const p = await train(set, { n_estimators: 20, max_bins: 3, bootstrap: false, max_features: null })
      expect(resolved(p).max_bins).toBe(3)
      const coarse = thresholds(treesOf(p), X)
      let halfway = 0
      coarse.values.forEach((s, f) => {
        const [lo, hi] = edgesOf3(X.map((row) => row[f]!))
        const mid = lo / 2 + hi / 2
        for (const th of s) expect([lo, hi, mid], `feature x${f}`).toContain(th)
        for (const split of coarse.splits.filter((sp) => sp.feature === f && sp.threshold === mid)) {
          halfway++
          expect(split.rows.filter((r) => X[r]![f]! > lo && X[r]![f]! <= hi)).toEqual([])
        }
      })
      // the data has such nodes, so the halfway case is covered, not assumed
      expect(halfway).toBeGreaterThan(0)
    })
  })

  describe('n_jobs', () => {
    it('gives byte-identical models with 1, 2 or the default threads, categories and missing values included', async () => {
      // 8 trees for 2 threads, so that both grow some (threadsOf caps n_jobs at the machine's cores: on one core,
      // 2 is 1)
      const set = gapped(2000, 10)
      const models = await Promise.all([1, 2, null].map((n) => train(set, { n_estimators: 8, n_jobs: n })))
      const [one, two, byDefault] = models.map((p) => canonicalJson(p.toJSON()))
      expect(two).toBe(one)
      expect(byDefault).toBe(one)
      // the forest really holds what the threads had to agree on
      const e = treesOf(models[0]!)
      const nodes = Array.from({ length: e.trees }, (_, t) => nodesOf(e, t)).flat()
      expect(nodes.some((n) => n.categorical)).toBe(true)
      expect(nodes.some((n) => !n.leaf && n.feature === 0 && n.missingLeft)).toBe(true)
      expect(resolved(models[0]!)).not.toHaveProperty('n_jobs')
    })
  })

  describe('bad values', () => {
    const set = overlapping(60, 1)
    it.each([
      { key: 'n_estimators', value: 0, quoted: '(got 0)', allowed: '>=1' },
      { key: 'min_samples_split', value: 1.5, quoted: '1.5', allowed: 'a whole number of at least 2 nor a fraction of the rows in (0, 1]' },
      { key: 'max_bins', value: 1, quoted: '(got 1)', allowed: '>=2' },
    ])('refuses $key: $value with MLSKEL_PARAMS_INVALID, naming the key, quoting the value, saying what is allowed', async ({ key, value, quoted, allowed }) => {
      const error = await refusal(train(set, { [key]: value } as Hyper))
      expect(error).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: `model.${key}` } })
      expect(error.message).toContain(`model.${key}`)
      expect(error.message).toContain(quoted)
      expect(error.message).toContain(allowed)
    })

    it('refuses a misspelt key, naming it and suggesting the right one', async () => {
      const error = await refusal(train(set, { n_estimator: 5 } as Hyper))
      expect(error).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.n_estimator' } })
      expect(error.message).toContain('model.n_estimator')
      expect(error.message).toContain('"n_estimator"')
      expect(error.message).toContain('Did you mean "n_estimators"?')
    })

    it('refuses max_features: cbrt, saying it takes sqrt, log2, a fraction, a count or null', async () => {
      const error = await refusal(train(set, { max_features: 'cbrt' } as unknown as Hyper))
      expect(error).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', where: { field: 'model.max_features' } })
      expect(error.message).toContain('model.max_features')
      expect(error.message).toContain('"cbrt"')
      expect(error.message).toContain('sqrt')
      expect(error.message).toContain('log2')
    })
  })
})

describe('random_forest predictions', () => {
  it('gives probabilities that are the mean of the trees\' leaf class distributions', async () => {
    const set = gapped(300, 11)
    const p = await train(set, { n_estimators: 7, min_samples_leaf: 4 })
    const e = treesOf(p)
    const X = [...set.data.X.slice(0, 15), ...gapped(15, 12).data.X]
    const perTree = Array.from({ length: e.trees }, (_, t) => leafValues(e, t, X))
    // impure leaves, so that a mean of distributions differs from a share of votes
    expect(perTree.flat().some((values) => Math.max(...values) < 1)).toBe(true)
    p.predictProba!(X).forEach((row, r) => {
      const expected = [0, 1, 2].map((k) => perTree.reduce((a, tree) => a + tree[r]![k]!, 0) / e.trees)
      row.forEach((value, k) => expect(value).toBeCloseTo(expected[k]!, 14))
    })
  })

  it('keeps in each leaf the class shares of its training rows (without bootstrap), and regresses to the mean of leaf means', async () => {
    const set = gapped(300, 13)
    const { X, y } = set.data
    const e = treesOf(await train(set, { n_estimators: 3, bootstrap: false, min_samples_leaf: 6 }))
    for (let t = 0; t < e.trees; t++) {
      const reached = rowsPerNode(e, t, X)
      for (const leaf of nodesOf(e, t).filter((n) => n.leaf)) {
        const rows = reached.get(leaf.node)!
        ;['low', 'mid', 'high'].forEach((label, k) => expect(leaf.values[k]).toBeCloseTo(rows.filter((r) => y[r] === label).length / rows.length, 14))
      }
    }
    const reg = linear(120, 14)
    const regressor = await train(reg, { n_estimators: 4, bootstrap: false, max_features: 0.5, min_samples_leaf: 5 })
    const r = treesOf(regressor)
    const means = Array.from({ length: r.trees }, (_, t) => leafValues(r, t, reg.data.X))
    for (let t = 0; t < r.trees; t++) {
      const reached = rowsPerNode(r, t, reg.data.X)
      for (const leaf of nodesOf(r, t).filter((n) => n.leaf)) {
        const rows = reached.get(leaf.node)!
        expect(leaf.values[0]).toBeCloseTo(rows.reduce((a, i) => a + Number(reg.data.y[i]), 0) / rows.length, 10)
      }
    }
    regressor.predict(reg.data.X).forEach((value, i) => expect(value).toBeCloseTo(means.reduce((a, tree) => a + tree[i]![0]!, 0) / r.trees, 12))
  })
})

describe('random_forest importances', () => {
  it('gives gain shares summing to 1, split counts of the split nodes, and the largest share to the deciding feature', async () => {
    const set = decided(200, 5, 15)
    const p = await train(set, { n_estimators: 10 })
    const importances = p.importances!()
    expect(importances.map((i) => i.feature)).toEqual(['x0', 'x1', 'x2', 'x3', 'x4'])
    expect(importances.reduce((a, i) => a + i.gain, 0)).toBeCloseTo(1, 12)
    const e = treesOf(p)
    const splits = new Array<number>(5).fill(0)
    for (let t = 0; t < e.trees; t++) for (const n of nodesOf(e, t)) if (!n.leaf) splits[n.feature]!++
    expect(importances.map((i) => i.splits)).toEqual(splits)
    const largest = importances.reduce((best, i) => (i.gain > best.gain ? i : best))
    expect(largest.feature).toBe('x0')
    expect((p.toJSON() as { importances: unknown }).importances).toEqual(importances)
  })

  it('are scikit-learn\'s: each tree\'s weighted gini decreases normalized, averaged over trees, normalized', async () => {
    const set = overlapping(200, 16)
    const { X, y } = set.data
    const p = await train(set, { n_estimators: 4, bootstrap: false, max_features: 0.5, min_samples_leaf: 3 })
    const e = treesOf(p)
    const countsOf = (rows: number[]) => ['a', 'b'].map((label) => rows.filter((r) => y[r] === label).length)
    const total = new Array<number>(4).fill(0)
    for (let t = 0; t < e.trees; t++) {
      const reached = rowsPerNode(e, t, X)
      const gain = new Array<number>(4).fill(0)
      for (const n of nodesOf(e, t)) {
        if (n.leaf) continue
        const [node, left, right] = [n.node, n.left, n.right].map((i) => reached.get(i)!)
        gain[n.feature]! += node!.length * gini(countsOf(node!)) - left!.length * gini(countsOf(left!)) - right!.length * gini(countsOf(right!))
      }
      const sum = gain.reduce((a, b) => a + b, 0)
      gain.forEach((g, f) => (total[f]! += g / sum))
    }
    const sum = total.reduce((a, b) => a + b, 0)
    p.importances!().forEach((i, f) => expect(i.gain).toBeCloseTo(total[f]! / sum, 12))
  })
})
