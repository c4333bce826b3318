// gradient_boosting: the model contract, and each hyper-parameter honoured.
import { MersenneTwister19937, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import { quote } from '../../errors/index.js'
import { canonicalJson } from '../../json/index.js'
import { mixed, runModelContract } from '../contract/test-contract.js'
import type { Dataset, Predictor, Signature } from '../contract/types.js'
import { nodesOf, rowsPerNode, shapes, treesOf } from '../engine/test-trees.js'
import type { TreeEnsemble } from '../engine/tree.js'
import { gradientBoostingParamsSchema, parseHyperParameters, trainGradientBoosting } from '../index.js'
import type { Task } from '../../params/index.js'
import { clusters, linear } from '../test-data.js'

runModelContract({ kind: 'gradient_boosting', uncheckedRows: true, train: (o) => trainGradientBoosting({ ...o, hyperParameters: { max_iter: 15, min_samples_leaf: 5, n_jobs: o.nJobs } }) })

// ---------------------------------------------------------------------------------------------------------------
// Data and helpers

/** What model.json holds, as far as these tests read it. */
interface ModelJson {
  hyper_parameters: Record<string, unknown>
  baseline: number[]
  trees_per_iteration: number
  iterations: number
  trees: { trees: number }
  training: { train_loss: number[]; validation_loss: number[] | null; early_stopped: boolean }
  warnings: string[]
}

type HyperParameters = Parameters<typeof trainGradientBoosting>[0]['hyperParameters']

function jsonOf(p: Predictor): ModelJson {
  return p.toJSON() as ModelJson
}

/** Train with one thread unless the test says otherwise (threads never change the model, but they cost time). */
function train(task: Task, set: { data: Dataset; signature: Signature }, hyperParameters: HyperParameters = {}, seed = 1): Promise<Predictor> {
  return trainGradientBoosting({ task, signature: set.signature, data: set.data, seed, hyperParameters: { n_jobs: 1, ...hyperParameters } })
}

function numericSignature(features: number, target: Signature['target']): Signature {
  return { features: Array.from({ length: features }, (_, i) => ({ name: `x${i}`, type: 'number' as const })), target }
}

/**
 * A bumpy regression target in 3 features (y = 3 sin x0 + x1² / 4 − x2 plus noise), with `missing` of x1 NaN: a
 * tree finds many useful splits in it, so the tree-shape limits are what stop its growth.
 */
function wave(rows = 600, seed = 3, missing = 0): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const u = real(0, 1)
  const X: number[][] = []
  const y: number[] = []
  for (let i = 0; i < rows; i++) {
    const row = [u(engine) * 6, u(engine) * 4 - 2, u(engine) * 2]
    y.push(3 * Math.sin(row[0]!) + row[1]! ** 2 / 4 - row[2]! + (u(engine) - 0.5) * 0.3)
    if (u(engine) < missing) row[1] = Number.NaN
    X.push(row)
  }
  return { data: { X, y }, signature: numericSignature(3, { name: 'y', type: 'number' }) }
}

/** A target that is pure noise, independent of the 2 features: nothing generalises, so validation loss stalls. */
function noise(rows: number, seed = 5): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const u = real(0, 1)
  const X = Array.from({ length: rows }, () => [u(engine), u(engine)])
  const y = X.map(() => u(engine))
  return { data: { X, y }, signature: numericSignature(2, { name: 'y', type: 'number' }) }
}

/**
 * Two classes, one row in `every` "yes" (so its share is known exactly), the "yes" rows shifted by `shift` in x0 and
 * x1 against uniform noise of width 4: the classes overlap, so an unweighted model favours "no".
 */
function imbalanced(rows: number, every: number, seed = 9, shift = 1.5): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const u = real(-2, 2)
  const X: number[][] = []
  const y: string[] = []
  for (let i = 0; i < rows; i++) {
    const yes = i % every === every - 1
    X.push([u(engine) + (yes ? shift : 0), u(engine) + (yes ? shift : 0), u(engine)])
    y.push(yes ? 'yes' : 'no')
  }
  return { data: { X, y }, signature: numericSignature(3, { name: 'label', type: 'category', classes: ['no', 'yes'] }) }
}

/** Two classes of clusters (a and b of test-data's three). */
function twoClusters(): { data: Dataset; signature: Signature } {
  const c = clusters(60)
  const keep = c.data.y.map((label, i) => (label === 'c' ? -1 : i)).filter((i) => i >= 0)
  return { data: { X: keep.map((i) => c.data.X[i]!), y: keep.map((i) => c.data.y[i]!) }, signature: { ...c.signature, target: { name: 'label', type: 'category', classes: ['a', 'b'] } } }
}

/** numpy's median: the mean of the two middle values of an even count. */
function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function leafValues(e: TreeEnsemble): number[] {
  return Array.from({ length: e.trees }, (_, t) => nodesOf(e, t).filter((n) => n.leaf).map((n) => n.values[0]!)).flat()
}

/** Per leaf of tree t: its value and the training rows (indexes of X) that reach it. */
function leavesWithRows(e: TreeEnsemble, t: number, X: readonly (readonly number[])[]): { value: number; rows: number[] }[] {
  const reached = rowsPerNode(e, t, X)
  return nodesOf(e, t)
    .filter((n) => n.leaf)
    .map((n) => ({ value: n.values[0]!, rows: reached.get(n.node) ?? [] }))
}

function recallOf(predicted: readonly (string | number)[], actual: readonly (string | number)[], label: string | number): number {
  const rows = actual.map((a, i) => (a === label ? i : -1)).filter((i) => i >= 0)
  return rows.filter((i) => predicted[i] === label).length / rows.length
}

function balancedAccuracyOf(predicted: readonly (string | number)[], actual: readonly (string | number)[]): number {
  const labels = [...new Set(actual)]
  return labels.reduce<number>((sum, label) => sum + recallOf(predicted, actual, label), 0) / labels.length
}

/** The mean loss a model's predictions give on a data set: half squared error, absolute error or log loss by `name`. */
function lossOf(name: string, model: Predictor, set: { data: Dataset; signature: Signature }): number {
  const { X, y } = set.data
  if (name === 'squared_error') return model.predict(X).reduce<number>((a, p, i) => a + (Number(p) - Number(y[i])) ** 2 / 2, 0) / X.length
  if (name === 'absolute_error') return model.predict(X).reduce<number>((a, p, i) => a + Math.abs(Number(p) - Number(y[i])), 0) / X.length
  const classes = (set.signature.target as { classes: (string | number)[] }).classes
  return model.predictProba!(X).reduce((a, p, i) => a - Math.log(p[classes.indexOf(y[i]!)]!), 0) / X.length
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (error) {
    return error as { code: string; message: string }
  }
  throw new Error('expected training to be refused')
}

/** The hyper-parameters this file proves honoured: a new one in the schema fails the first test until it has its own. */
const COVERED = ['loss', 'learning_rate', 'max_iter', 'max_leaf_nodes', 'max_depth', 'min_samples_leaf', 'l2_regularization', 'max_bins', 'early_stopping', 'validation_fraction', 'n_iter_no_change', 'tol', 'class_weight', 'n_jobs']

/** scikit-learn's early-stopping rule, written out again here so the engine's copy is checked, not trusted. */
function stalled(losses: readonly number[], n: number, tol: number): boolean {
  if (losses.length < n + 1) return false
  const reference = losses[losses.length - n - 1]!
  return losses.slice(-n).every((loss) => !(loss < reference - tol))
}

describe('gradient_boosting hyper-parameters', () => {
  const OFF = { early_stopping: false } as const

  it('covers every hyper-parameter of the schema, with scikit-learn\'s defaults, and records them resolved in model.json', async () => {
    expect(Object.keys(gradientBoostingParamsSchema.shape).sort()).toEqual([...COVERED].sort())
    expect(parseHyperParameters({ type: 'gradient_boosting' }).hyperParameters).toEqual({
      learning_rate: 0.1,
      max_iter: 100,
      max_leaf_nodes: 31,
      max_depth: null,
      min_samples_leaf: 20,
      l2_regularization: 0,
      max_bins: 255,
      early_stopping: 'auto',
      validation_fraction: 0.1,
      n_iter_no_change: 10,
      tol: 1e-7,
      class_weight: null,
      n_jobs: null,
    })
    const json = jsonOf(await train('regression', linear(100), { max_iter: 2 }))
    // loss and early_stopping as they were resolved for this task and size; n_jobs left out (the model is the same for any)
    expect(json.hyper_parameters).toMatchObject({ loss: 'squared_error', early_stopping: false, max_iter: 2 })
    expect(json.hyper_parameters).not.toHaveProperty('n_jobs')
  })

  describe('loss', () => {
    it('defaults to log_loss for classification and squared_error for regression, each starting from its intercept', async () => {
      const reg = linear(120)
      const regression = jsonOf(await train('regression', reg, { max_iter: 1, ...OFF }))
      expect(regression.hyper_parameters.loss).toBe('squared_error')
      const y = reg.data.y.map(Number)
      const mean = y.reduce((a, b) => a + b, 0) / y.length
      expect(regression.baseline[0]).toBeCloseTo(mean, 12)
      // half squared error at the mean: half the variance
      expect(regression.training.train_loss[0]).toBeCloseTo(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length / 2, 10)

      const binary = imbalanced(400, 4)
      const two = jsonOf(await train('classification', binary, { max_iter: 1, ...OFF }))
      expect(two.hyper_parameters.loss).toBe('log_loss')
      expect(two.trees_per_iteration).toBe(1)
      expect(two.baseline[0]).toBeCloseTo(Math.log(0.25 / 0.75), 12)

      // three classes of 30, 30 and 10 rows: a logit each, log(share) centred on their mean (scikit-learn's intercept)
      const c = clusters(30)
      const keep = c.data.y.map((_, i) => i).filter((i) => c.data.y[i] !== 'c' || i < 30)
      const uneven = { data: { X: keep.map((i) => c.data.X[i]!), y: keep.map((i) => c.data.y[i]!) }, signature: c.signature }
      const three = jsonOf(await train('classification', uneven, { max_iter: 1, ...OFF }))
      expect(three.hyper_parameters.loss).toBe('log_loss')
      expect(three.trees_per_iteration).toBe(3)
      const logs = [30, 30, 10].map((k) => Math.log(k / 70))
      const centre = logs.reduce((a, b) => a + b, 0) / 3
      three.baseline.forEach((b, k) => expect(b).toBeCloseTo(logs[k]! - centre, 12))
    })

    it('absolute_error starts from the median of y and sets each leaf to the shrunk median of its residuals (by hand)', async () => {
      // 8 rows: the sign gradients split x <= 3.5 best (gain 8 against 4.8 for the next), and one split is allowed
      const tiny = { data: { X: [0, 1, 2, 3, 4, 5, 6, 7].map((x) => [x]), y: [1, 2, 3, 10, 20, 21, 22, 100] }, signature: numericSignature(1, { name: 'y', type: 'number' }) }
      const model = await train('regression', tiny, { loss: 'absolute_error', max_iter: 1, learning_rate: 0.5, max_leaf_nodes: 2, min_samples_leaf: 2, ...OFF })
      const json = jsonOf(model)
      expect(json.hyper_parameters.loss).toBe('absolute_error')
      // median of y: (10 + 20) / 2, where the mean would be 22.375
      expect(json.baseline).toEqual([15])
      const nodes = nodesOf(treesOf(model), 0)
      expect(nodes.map((n) => (n.leaf ? n.values[0] : `x${n.feature} <= ${n.threshold}`))).toEqual([
        'x0 <= 3.5',
        // residuals −14, −13, −12, −5: median −12.5, shrunk by 0.5 (their mean, −11, would give −5.5)
        -6.25,
        // residuals 5, 6, 7, 85: median 6.5 (their mean, 25.75, is pulled up by the outlier)
        3.25,
      ])
      expect(model.predict([[0], [7]])).toEqual([8.75, 18.25])
      // mean |y − 15| = 147 / 8, then mean |y − prediction| = (21.5 + 90) / 8
      expect(json.training.train_loss).toEqual([18.375, 13.9375])
    })

    it('absolute_error\'s leaves are the shrunk medians of their rows\' residuals on a larger set too', async () => {
      const set = wave(300, 4, 0.1)
      const model = await train('regression', set, { loss: 'absolute_error', max_iter: 1, learning_rate: 0.5, min_samples_leaf: 10, ...OFF })
      const y = set.data.y.map(Number)
      const base = median(y)
      expect(jsonOf(model).baseline[0]).toBe(base)
      const leaves = leavesWithRows(treesOf(model), 0, set.data.X)
      expect(leaves.length).toBeGreaterThan(2)
      for (const leaf of leaves) expect(leaf.value).toBeCloseTo(0.5 * median(leaf.rows.map((r) => y[r]! - base)), 12)
    })

    it('refuses a classification loss for regression and a regression loss for classification, naming model.loss', async () => {
      const forRegression = await refusal(train('regression', linear(60), { loss: 'log_loss' }))
      expect(forRegression).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', message: expect.stringContaining('model.loss') })
      expect(forRegression.message).toContain('classification loss')
      for (const loss of ['squared_error', 'absolute_error'] as const) {
        const forClassification = await refusal(train('classification', clusters(10), { loss }))
        expect(forClassification).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', message: expect.stringContaining('model.loss') })
        expect(forClassification.message).toContain(`"${loss}"`)
      }
    })
  })

  it.each([
    ['squared_error', 'regression', () => wave(300)],
    ['absolute_error', 'regression', () => wave(300)],
    ['log_loss, two classes', 'classification', () => imbalanced(400, 4)],
    ['log_loss, three classes', 'classification', () => mixed(300)],
  ] as const)('learning_rate scales every leaf of a single iteration linearly (%s)', async (name, task, data) => {
    const set = data()
    const loss = name.startsWith('absolute') ? { loss: 'absolute_error' as const } : {}
    const slow = treesOf(await train(task, set, { ...loss, max_iter: 1, learning_rate: 0.1, min_samples_leaf: 10, ...OFF }))
    const fast = treesOf(await train(task, set, { ...loss, max_iter: 1, learning_rate: 0.3, min_samples_leaf: 10, ...OFF }))
    expect(fast.trees).toBe(slow.trees)
    for (let t = 0; t < slow.trees; t++) {
      const a = nodesOf(slow, t)
      const b = nodesOf(fast, t)
      // the first trees are fitted to the intercept's gradients, which the learning rate does not touch
      expect(b.map((n) => [n.feature, n.threshold, n.leaf])).toEqual(a.map((n) => [n.feature, n.threshold, n.leaf]))
      expect(a.filter((n) => n.leaf).length).toBeGreaterThan(1)
      a.forEach((n, i) => {
        if (n.leaf) expect(b[i]!.values[0]).toBeCloseTo(3 * n.values[0]!, 12)
      })
    }
  })

  it('max_iter: max_iter × trees_per_iteration trees when early stopping is off (1 per iteration for 2 classes, 3 for 3)', async () => {
    for (const maxIter of [1, 7]) {
      const binary = jsonOf(await train('classification', twoClusters(), { max_iter: maxIter, ...OFF }))
      expect([binary.trees_per_iteration, binary.iterations, binary.trees.trees]).toEqual([1, maxIter, maxIter])
      expect(binary.training.train_loss).toHaveLength(maxIter + 1)
      expect(binary.training.early_stopped).toBe(false)
      const three = jsonOf(await train('classification', clusters(20), { max_iter: maxIter, ...OFF }))
      expect([three.trees_per_iteration, three.iterations, three.trees.trees]).toEqual([3, maxIter, 3 * maxIter])
      const regression = jsonOf(await train('regression', linear(80), { max_iter: maxIter, ...OFF }))
      expect([regression.trees_per_iteration, regression.iterations, regression.trees.trees]).toEqual([1, maxIter, maxIter])
    }
  })

  describe('tree shape', () => {
    // 600 rows and 5 per leaf allow trees of up to 120 leaves: the limit under test is what stops them
    const set = wave(600)
    const grow = (h: HyperParameters) => train('regression', set, { max_iter: 5, min_samples_leaf: 5, ...OFF, ...h }).then((p) => shapes(treesOf(p)))

    it('max_leaf_nodes: no tree has more leaves, some tree reaches it, and null allows more than the default 31', async () => {
      for (const limit of [2, 4, 31]) {
        const leaves = (await grow(limit === 31 ? {} : { max_leaf_nodes: limit })).map((s) => s.leaves)
        expect(Math.max(...leaves)).toBe(limit)
      }
      const unbounded = (await grow({ max_leaf_nodes: null })).map((s) => s.leaves)
      expect(Math.max(...unbounded)).toBeGreaterThan(31)
    })

    it('max_depth: no leaf is deeper (the root is depth 0), some reaches it, and null goes deeper', async () => {
      for (const limit of [1, 3]) {
        const trees = await grow({ max_depth: limit, max_leaf_nodes: null })
        expect(Math.max(...trees.map((s) => s.depth))).toBe(limit)
        for (const s of trees) expect(s.leaves).toBeLessThanOrEqual(2 ** limit)
      }
      const unbounded = await grow({ max_depth: null, max_leaf_nodes: null })
      expect(Math.max(...unbounded.map((s) => s.depth))).toBeGreaterThan(3)
    })

    it.each([
      ['regression with missing values', 'regression', () => wave(600, 3, 0.15)],
      ['three classes with a categorical feature and missing values', 'classification', () => mixed(600, 13)],
    ] as const)('min_samples_leaf: every leaf holds at least that many training rows (%s)', async (_name, task, data) => {
      const set = data()
      for (const least of [3, 30]) {
        const e = treesOf(await train(task, set, { max_iter: 5, min_samples_leaf: least, max_leaf_nodes: null, ...OFF }))
        const sizes: number[] = []
        for (let t = 0; t < e.trees; t++) {
          const leaves = leavesWithRows(e, t, set.data.X)
          // every training row ends in one leaf: prediction routes them as training partitioned them
          expect(leaves.reduce((a, l) => a + l.rows.length, 0)).toBe(600)
          sizes.push(...leaves.map((l) => l.rows.length))
        }
        expect(Math.min(...sizes)).toBeGreaterThanOrEqual(least)
        // and the limit binds: the smaller one lets leaves below the larger
        if (least === 3) expect(Math.min(...sizes)).toBeLessThan(30)
      }
    })
  })

  describe('l2_regularization', () => {
    it('is the λ of a leaf\'s −G / (H + λ): squared error, one iteration, leaves checked against their rows', async () => {
      const set = wave(400)
      const y = set.data.y.map(Number)
      const mean = y.reduce((a, b) => a + b, 0) / y.length
      for (const l2 of [0, 10]) {
        const e = treesOf(await train('regression', set, { max_iter: 1, l2_regularization: l2, min_samples_leaf: 10, ...OFF }))
        // gradients are prediction − y, hessians 1: a leaf's value is lr × Σ(y − mean) / (rows + λ)
        for (const leaf of leavesWithRows(e, 0, set.data.X)) expect(leaf.value).toBeCloseTo((0.1 * leaf.rows.reduce((a, r) => a + y[r]! - mean, 0)) / (leaf.rows.length + l2), 12)
      }
    })

    it('is the λ of a leaf\'s −G / (H + λ): binary log loss, where the hessian is p (1 − p)', async () => {
      const set = imbalanced(400, 4)
      const p = 0.25 // the intercept's probability, the same for every row before the first tree
      const e = treesOf(await train('classification', set, { max_iter: 1, l2_regularization: 5, min_samples_leaf: 10, ...OFF }))
      const leaves = leavesWithRows(e, 0, set.data.X)
      expect(leaves.length).toBeGreaterThan(2)
      for (const leaf of leaves) {
        const G = leaf.rows.reduce((a, r) => a + p - (set.data.y[r] === 'yes' ? 1 : 0), 0)
        const H = leaf.rows.length * p * (1 - p)
        expect(leaf.value).toBeCloseTo((-0.1 * G) / (H + 5), 12)
      }
    })

    it('enters the gain too: a large λ moves the root split from a lone outlier to the larger, steadier cut', async () => {
      // gradients (mean − y) −5, then 2.2 five times, then −1 six times: cutting after the first row gains
      // 25·12/11 ≈ 27 against 36·12/36 = 12 after the sixth when λ = 0; with λ large each side's G² / (H + λ) makes
      // it about (G_L² + G_R²) / λ, 50 against 72, and the sixth wins
      const set = { data: { X: Array.from({ length: 12 }, (_, i) => [i]), y: [10, 2.8, 2.8, 2.8, 2.8, 2.8, 6, 6, 6, 6, 6, 6] }, signature: numericSignature(1, { name: 'y', type: 'number' }) }
      const rootThreshold = async (l2: number) => nodesOf(treesOf(await train('regression', set, { max_iter: 1, max_leaf_nodes: 2, min_samples_leaf: 1, l2_regularization: l2, ...OFF })), 0)[0]!.threshold
      expect(await rootThreshold(0)).toBe(0.5)
      expect(await rootThreshold(1000)).toBe(5.5)
    })

    it('shrinks the leaves as it grows: mean |leaf value| decreases, for regression and for three classes', async () => {
      for (const [task, set] of [
        ['regression', wave(400)],
        ['classification', mixed(300)],
      ] as const) {
        const sizes: number[] = []
        for (const l2 of [0, 1, 10, 100]) {
          const values = leafValues(treesOf(await train(task, set, { max_iter: 10, l2_regularization: l2, min_samples_leaf: 10, ...OFF })))
          sizes.push(values.reduce((a, v) => a + Math.abs(v), 0) / values.length)
        }
        for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThan(sizes[i - 1]!)
      }
    })
  })

  describe('max_bins', () => {
    it('with 3 bins, each numeric feature splits at no more than 2 distinct thresholds over all trees', async () => {
      const set = wave(600)
      const thresholds = async (h: HyperParameters) => {
        const e = treesOf(await train('regression', set, { max_iter: 10, min_samples_leaf: 5, ...OFF, ...h }))
        const per = [new Set<number>(), new Set<number>(), new Set<number>()]
        for (let t = 0; t < e.trees; t++) for (const n of nodesOf(e, t)) if (!n.leaf && !n.categorical) per[n.feature]!.add(n.threshold)
        return per.map((s) => s.size)
      }
      const coarse = await thresholds({ max_bins: 3 })
      for (const distinct of coarse) expect(distinct).toBeLessThanOrEqual(2)
      // every feature matters in this target, so each is split somewhere
      for (const distinct of coarse) expect(distinct).toBeGreaterThan(0)
      // the default 255 bins give the trees many more places to split
      expect(Math.max(...(await thresholds({})))).toBeGreaterThan(10)
    })

    it('bounds the categories a categorical feature may have', async () => {
      const m = mixed(120)
      const refused = await refusal(train('classification', m, { max_bins: 3 }))
      expect(refused).toMatchObject({ code: 'MLSKEL_DATA_TOO_MANY_CATEGORIES', message: expect.stringContaining('"colour"') })
      await expect(train('classification', m, { max_bins: 4, max_iter: 2 })).resolves.toBeDefined()
    })
  })

  describe('early_stopping', () => {
    const flat = noise(400)

    it('true stops before max_iter on a pure-noise target, at the first iteration scikit-learn\'s rule allows', async () => {
      const json = jsonOf(await train('regression', flat, { early_stopping: true, max_iter: 200, n_iter_no_change: 5 }))
      const validation = json.training.validation_loss!
      expect(json.iterations).toBeLessThan(200)
      expect(json.training.early_stopped).toBe(true)
      expect(json.trees.trees).toBe(json.iterations)
      // the intercept's loss, then one per iteration
      expect(validation).toHaveLength(json.iterations + 1)
      expect(json.training.train_loss).toHaveLength(json.iterations + 1)
      expect(stalled(validation, 5, 1e-7)).toBe(true)
      for (let i = 1; i < validation.length - 1; i++) expect(stalled(validation.slice(0, i + 1), 5, 1e-7)).toBe(false)
    })

    it('false runs exactly max_iter iterations, holding nothing out', async () => {
      const json = jsonOf(await train('regression', flat, { early_stopping: false, max_iter: 40, n_iter_no_change: 2 }))
      expect([json.iterations, json.trees.trees, json.training.early_stopped, json.training.validation_loss]).toEqual([40, 40, false, null])
    })

    it('auto is off up to 10,000 rows and on above', async () => {
      // with a huge tol, training that stops early stops after n_iter_no_change (1) iterations
      const h = { max_iter: 3, n_iter_no_change: 1, tol: 1e9, max_leaf_nodes: 4 } as const
      for (const [rows, on] of [
        [400, false],
        [10_000, false],
        [10_001, true],
      ] as const) {
        const json = jsonOf(await train('regression', noise(rows), h))
        expect(json.hyper_parameters.early_stopping).toBe(on)
        expect(json.iterations).toBe(on ? 1 : 3)
        expect(json.training.validation_loss === null).toBe(!on)
      }
    })
  })

  describe('validation_fraction', () => {
    it('null makes early stopping watch the training loss, which keeps improving where the validation loss stalls', async () => {
      const h = { early_stopping: true, max_iter: 60, n_iter_no_change: 5 } as const
      const watched = jsonOf(await train('regression', noise(400), { ...h, validation_fraction: null }))
      expect(watched.training.validation_loss).toBeNull()
      const heldOut = jsonOf(await train('regression', noise(400), h))
      expect(heldOut.training.validation_loss).not.toBeNull()
      expect(heldOut.iterations).toBeLessThan(watched.iterations)
      // a tree always lowers the loss of the rows it was fitted to
      expect(watched.iterations).toBe(60)
    })

    it('holds out that share of the rows: the root can split with min_samples_leaf of half the rest, not one more', async () => {
      // y = x on 200 distinct rows: a root with 2 × min_samples_leaf training rows splits (exactly in half), one with fewer cannot
      const set = { data: { X: Array.from({ length: 200 }, (_, i) => [i]), y: Array.from({ length: 200 }, (_, i) => i) }, signature: numericSignature(1, { name: 'y', type: 'number' }) }
      const rootLeaves = async (h: HyperParameters) => {
        const p = await train('regression', set, { max_iter: 1, max_leaf_nodes: 2, ...h })
        const json = jsonOf(p)
        if (h?.early_stopping) expect(json.training.validation_loss).toHaveLength(2)
        return shapes(treesOf(p))[0]!.leaves
      }
      for (const [fraction, kept] of [
        [0.1, 180],
        [0.25, 150],
        [0.33, 134], // ceil(0.33 × 200) = 66 held out
      ] as const) {
        expect(await rootLeaves({ early_stopping: true, validation_fraction: fraction, min_samples_leaf: kept / 2 })).toBe(2)
        expect(await rootLeaves({ early_stopping: true, validation_fraction: fraction, min_samples_leaf: kept / 2 + 1 })).toBe(1)
      }
      // without early stopping nothing is held out, whatever the fraction
      expect(await rootLeaves({ early_stopping: false, validation_fraction: 0.25, min_samples_leaf: 100 })).toBe(2)
    })

    it('holds out each class in proportion for classification: the training rows keep the shares, and so the intercept', async () => {
      // 100 "yes" of 400: a tenth held out is 10 "yes" and 30 "no", leaving 90 of 360, a quarter still
      for (const fraction of [0.1, 0.3]) {
        const json = jsonOf(await train('classification', imbalanced(400, 4), { early_stopping: true, validation_fraction: fraction, max_iter: 1 }))
        expect(json.baseline[0]).toBeCloseTo(Math.log(1 / 3), 12)
        // both parts a quarter "yes": the intercept's log loss on each is the entropy of a quarter
        const entropy = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75))
        expect(json.training.train_loss[0]).toBeCloseTo(entropy, 12)
        expect(json.training.validation_loss![0]).toBeCloseTo(entropy, 12)
        expect(json.training.validation_loss).toHaveLength(2)
      }
    })
  })

  describe('n_iter_no_change and tol', () => {
    it('with a huge tol, training stops after exactly n_iter_no_change iterations, on held-out or training loss', async () => {
      // scikit-learn's rule (boosting.ts shouldStop): stop once none of the last n losses is below the one n before
      // the last by more than tol. The losses start with the intercept's, so after n iterations there are n + 1 and
      // the rule can first be asked; no loss can drop by 1e9, so it then holds, whatever the data.
      const set = linear(300)
      for (const validationFraction of [0.1, null]) {
        for (const n of [1, 4, 9]) {
          const json = jsonOf(await train('regression', set, { early_stopping: true, validation_fraction: validationFraction, n_iter_no_change: n, tol: 1e9, max_iter: 50 }))
          expect(json.iterations).toBe(n)
          expect(json.training.early_stopped).toBe(true)
        }
      }
    })

    it('with tol 0 a learnable target trains to max_iter, and a long n_iter_no_change outlasts a short one on noise', async () => {
      const learnable = jsonOf(await train('regression', linear(300), { early_stopping: true, tol: 0, max_iter: 40 }))
      expect(learnable.iterations).toBe(40)
      const flat = noise(400)
      const short = jsonOf(await train('regression', flat, { early_stopping: true, n_iter_no_change: 2, max_iter: 200 }))
      const long = jsonOf(await train('regression', flat, { early_stopping: true, n_iter_no_change: 20, max_iter: 200 }))
      expect(short.iterations).toBeLessThan(long.iterations)
      // the long wait needs at least 20 iterations before it may stop
      expect(long.iterations).toBeGreaterThanOrEqual(20)
    })
  })

  describe('class_weight', () => {
    // one row in 22 "yes" (45 of 1,000: 4.5%), under the 5% at which the rare-class warning starts
    const trainSet = imbalanced(1000, 22)
    const testSet = imbalanced(2000, 22, 19)
    const h = { max_iter: 20, max_leaf_nodes: 4 } as const

    it('balanced raises the minority class\'s recall and the balanced accuracy on held-out rows, from an even intercept', async () => {
      const plain = await train('classification', trainSet, { ...h, class_weight: null })
      const balanced = await train('classification', trainSet, { ...h, class_weight: 'balanced' })
      expect(canonicalJson(balanced.toJSON())).not.toBe(canonicalJson(plain.toJSON()))
      expect(jsonOf(balanced).hyper_parameters.class_weight).toBe('balanced')
      // weighted, the two classes weigh the same: the intercept is logit(1/2)
      expect(jsonOf(balanced).baseline[0]).toBeCloseTo(0, 12)
      expect(jsonOf(plain).baseline[0]).toBeCloseTo(Math.log(45 / 955), 12)
      const a = plain.predict(testSet.data.X)
      const b = balanced.predict(testSet.data.X)
      expect(recallOf(b, testSet.data.y, 'yes')).toBeGreaterThan(recallOf(a, testSet.data.y, 'yes') + 0.2)
      expect(balancedAccuracyOf(b, testSet.data.y)).toBeGreaterThan(balancedAccuracyOf(a, testSet.data.y) + 0.05)
    })

    it('warns about a rare class left unweighted, not once it is weighted, and about a model that predicts one class', async () => {
      const plain = await train('classification', trainSet, h)
      expect(plain.warnings).toEqual([expect.stringContaining('class "yes" is 4.5% of the training rows and class_weight is not set')])
      expect(jsonOf(plain).warnings).toEqual(plain.warnings)
      const balanced = await train('classification', trainSet, { ...h, class_weight: 'balanced' })
      expect(balanced.warnings).toEqual([])
      // features that say nothing, a tenth "yes" and one small step from the intercept: "no" for every row
      const blind = await train('classification', imbalanced(400, 10, 4, 0), { max_iter: 1 })
      expect(blind.predict(imbalanced(400, 10, 4, 0).data.X).every((label) => label === 'no')).toBe(true)
      expect(blind.warnings).toEqual([expect.stringContaining('the model predicts a single class ("no")')])
    })

    it('is refused for regression, naming model.class_weight', async () => {
      const refused = await refusal(train('regression', linear(60), { class_weight: 'balanced' }))
      expect(refused).toMatchObject({ code: 'MLSKEL_PARAMS_INVALID', message: expect.stringContaining('model.class_weight') })
    })
  })

  describe('n_jobs', () => {
    it('1, 2, null and -1 give byte-identical models (3 classes, a categorical feature, missing values)', async () => {
      // 4,500 rows: two blocks of gradients (4,096 rows each) for two threads to share, and a validation set to predict
      const set = mixed(4500, 11)
      const h = { max_iter: 6, min_samples_leaf: 10, early_stopping: true } as const
      const models: Predictor[] = []
      for (const nJobs of [1, 2, null, -1] as const) models.push(await train('classification', set, { ...h, n_jobs: nJobs }))
      const texts = models.map((m) => canonicalJson(m.toJSON()))
      for (const text of texts.slice(1)) expect(text).toBe(texts[0])
      const json = jsonOf(models[0]!)
      expect(json.hyper_parameters).not.toHaveProperty('n_jobs')
      expect(json.trees.trees).toBe(18)
      expect(json.training.validation_loss).toHaveLength(7)
      // the categorical feature is split on and missing values sent both ways: the threads had those to agree on
      const e = treesOf(models[0]!)
      const nodes = Array.from({ length: e.trees }, (_, t) => nodesOf(e, t)).flat()
      expect(nodes.some((n) => n.categorical)).toBe(true)
      expect(nodes.some((n) => !n.leaf && n.missingLeft)).toBe(true)
      expect(nodes.some((n) => !n.leaf && !n.missingLeft)).toBe(true)
    })

    it('null on 20,000 rows or more (every core, where fewer rows get one thread) gives the model one thread gives', async () => {
      const set = mixed(20_000, 12)
      const h = { max_iter: 2, min_samples_leaf: 10, early_stopping: false } as const
      const one = canonicalJson((await train('classification', set, { ...h, n_jobs: 1 })).toJSON())
      expect(canonicalJson((await train('classification', set, { ...h, n_jobs: null })).toJSON())).toBe(one)
    })

    it('3 threads sharing out the partition of nodes of 65,536 rows or more give the model one thread gives', async () => {
      // 150,001 rows: the root and its larger children are partitioned in three uneven chunks, a categorical split among them
      const set = mixed(150_001, 14)
      const h = { max_iter: 2, max_leaf_nodes: 8, min_samples_leaf: 10, early_stopping: false } as const
      const one = await train('classification', set, { ...h, n_jobs: 1 })
      const three = await train('classification', set, { ...h, n_jobs: 3 })
      expect(canonicalJson(three.toJSON())).toBe(canonicalJson(one.toJSON()))
      expect(treesOf(one).trees).toBe(6)
    })
  })

  describe('bad values', () => {
    it.each([
      ['learning_rate', 0, />0/],
      ['max_iter', 0, />=1/],
      ['max_leaf_nodes', 1, />=2/],
      ['max_bins', 300, /<=255/],
      ['validation_fraction', 1, /<1/],
    ] as const)('%s: %s is refused, quoting the value and saying what it allows', async (key, value, allows) => {
      const refused = await refusal(train('regression', linear(40), { [key]: value }))
      expect(refused.code).toBe('MLSKEL_PARAMS_INVALID')
      expect(refused.message).toContain(`model.${key}`)
      expect(refused.message).toContain(`(got ${quote(value)})`)
      expect(refused.message).toMatch(allows)
    })

    // zod's own message for a failed union is only "Invalid input": the union says what it allows itself
    it('early_stopping: "yes" is refused, quoting the value and saying what it allows', async () => {
      const refused = await refusal(train('regression', linear(40), { early_stopping: 'yes' as never }))
      expect(refused.code).toBe('MLSKEL_PARAMS_INVALID')
      expect(refused.message).toContain('model.early_stopping')
      expect(refused.message).toContain('(got "yes")')
      expect(refused.message).toMatch(/"auto"/)
      expect(refused.message).toMatch(/true|boolean/)
    })

    it('n_jobs: 1.5 is refused, quoting the value and saying what it allows', async () => {
      const refused = await refusal(train('regression', linear(40), { n_jobs: 1.5 as never }))
      expect(refused.code).toBe('MLSKEL_PARAMS_INVALID')
      expect(refused.message).toContain('model.n_jobs')
      expect(refused.message).toContain('(got 1.5)')
      expect(refused.message).toMatch(/-1/)
      expect(refused.message).toMatch(/null/)
    })

    it('a misspelt key is refused with the key it probably means', async () => {
      const refused = await refusal(train('regression', linear(40), { learning_rat: 0.2 } as never))
      expect(refused.code).toBe('MLSKEL_PARAMS_INVALID')
      expect(refused.message).toContain('model.learning_rat')
      expect(refused.message).toContain('"learning_rat"')
      expect(refused.message).toContain('Did you mean "learning_rate"?')
    })
  })

  it.each([
    ['squared_error', 'regression', () => wave(400)],
    ['absolute_error', 'regression', () => wave(400)],
    ['log_loss, two classes', 'classification', () => imbalanced(400, 4)],
    ['log_loss, three classes', 'classification', () => mixed(300)],
  ] as const)('the training loss never increases from one iteration to the next (%s)', async (name, task, data) => {
    const loss = name.startsWith('absolute') ? { loss: 'absolute_error' as const } : {}
    const set = data()
    const model = await train(task, set, { ...loss, max_iter: 40, min_samples_leaf: 10, ...OFF })
    const trainLoss = jsonOf(model).training.train_loss
    expect(trainLoss).toHaveLength(41)
    for (let i = 1; i < trainLoss.length; i++) expect(trainLoss[i]).toBeLessThanOrEqual(trainLoss[i - 1]!)
    expect(trainLoss[40]).toBeLessThan(trainLoss[0]! * 0.9)
    // and the last is the loss of the finished model's own predictions on those rows
    expect(trainLoss[40]).toBeCloseTo(lossOf(name, model, set), 10)
  })
})
