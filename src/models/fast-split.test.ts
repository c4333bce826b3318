import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest'
import { MersenneTwister19937, integer, real, type Engine } from 'random-js'
import { afterEach, describe, expect, it } from 'vitest'
import {
  fastBestSplit,
  fastSplitStats,
  fastSplitStatus,
  installFastSplit,
  originalBestSplit,
  treeNodePrototype,
  uninstallFastSplit,
  type MatrixLike,
  type SplitResult,
  type TreeNodeLike,
} from './fast-split.js'
import { trainRandomForest } from './random-forest.js'
import type { Dataset, Signature } from './types.js'

installFastSplit()
afterEach(() => {
  installFastSplit()
})

type Kind = 'classifier' | 'regression'

function node(kind: Kind): TreeNodeLike {
  const n = Object.create(treeNodePrototype()) as TreeNodeLike
  Object.assign(n, { kind, gainFunction: kind === 'classifier' ? 'gini' : 'regression', splitFunction: 'mean' })
  return n
}

/** Features as rows, as TreeNode.train hands them over (X.transpose()); getRow gives a fresh copy like ml-matrix. */
function transposed(columns: number[][]): MatrixLike {
  return { rows: columns.length, getRow: (i) => columns[i]!.slice() }
}

type FeatureStyle = 'continuous' | 'ties' | 'binary' | 'constant' | 'large' | 'zeros'

function feature(engine: Engine, style: FeatureStyle, n: number): number[] {
  const unit = real(0, 1)
  switch (style) {
    case 'continuous':
      return Array.from({ length: n }, () => unit(engine) * 20 - 10)
    case 'ties':
      return Array.from({ length: n }, () => integer(0, 4)(engine) * 0.1)
    case 'binary':
      return Array.from({ length: n }, () => integer(0, 1)(engine))
    case 'constant':
      return Array.from({ length: n }, () => 3)
    case 'large':
      return Array.from({ length: n }, () => 1e9 + integer(0, 3)(engine) * 1e-6)
    case 'zeros':
      // −0 and 0 compare equal: they must keep row order like equal values do.
      return Array.from({ length: n }, () => [-0, 0, 0.5][integer(0, 2)(engine)]!)
  }
}

const STYLES: FeatureStyle[] = ['continuous', 'ties', 'binary', 'constant', 'large', 'zeros']

interface Case {
  kind: Kind
  columns: number[][]
  y: number[]
  label: string
}

function randomCase(engine: Engine, index: number): Case {
  const kinds: (Kind | 2 | 3 | 4)[] = [2, 3, 4, 'regression']
  const pick = kinds[index % kinds.length]!
  const sizes = [2, 3, 5, 8, 13, 30, 60, 120, 200]
  const n = sizes[integer(0, sizes.length - 1)(engine)]!
  const nFeatures = integer(1, 5)(engine)
  const styles = Array.from({ length: nFeatures }, () => STYLES[integer(0, STYLES.length - 1)(engine)]!)
  const columns = styles.map((style) => feature(engine, style, n))
  let y: number[]
  let kind: Kind
  if (typeof pick === 'number') {
    kind = 'classifier'
    // Labels partly driven by the first feature, partly random; sometimes a class index is skipped.
    y = Array.from({ length: n }, (_, i) => (real(0, 1)(engine) < 0.5 ? integer(0, pick - 1)(engine) : Math.abs(Math.floor(columns[0]![i]! * 7)) % pick))
  } else {
    kind = 'regression'
    const target = integer(0, 3)(engine)
    y = Array.from({ length: n }, (_, i) => {
      const x = columns[0]![i]!
      if (target === 0) return x * 2 + real(-1, 1)(engine) // continuous
      if (target === 1) return integer(0, 3)(engine) // heavy ties in y
      if (target === 2) return 1e6 + real(0, 1e-3)(engine) // tiny spread beside a large mean
      return (i % 2) * 5 // symmetric: many exactly tied errors
    })
  }
  return { kind, columns, y, label: `${kind} n=${n} features=${styles.join(',')} y=${y.slice(0, 6).join(',')}` }
}

function sameSplit(fast: SplitResult, original: SplitResult, label: string) {
  expect(fast.maxColumn, label).toBe(original.maxColumn)
  expect(fast.maxValue, label).toBe(original.maxValue)
  expect(fast.numberSamples, label).toBe(original.numberSamples)
  const scale = Math.max(Math.abs(original.maxGain), Number.MIN_VALUE)
  if (Number.isFinite(original.maxGain)) expect(Math.abs(fast.maxGain - original.maxGain) / scale, label).toBeLessThanOrEqual(1e-9)
  // In fact the same to the bit: the winner's gain is recomputed with the original's arithmetic.
  expect(Object.is(fast.maxGain, original.maxGain), label).toBe(true)
}

describe('fastBestSplit', () => {
  it('finds the split ml-cart finds, on random nodes with continuous and tied features', () => {
    const engine = MersenneTwister19937.seed(20240611)
    const original = originalBestSplit()
    const before = { ...fastSplitStats }
    for (let index = 0; index < 2000; index++) {
      const c = randomCase(engine, index)
      const n = node(c.kind)
      const expected = original.call(n, transposed(c.columns), c.y.slice())
      const fast = fastBestSplit(n, transposed(c.columns), c.y.slice())
      expect(fast, c.label).toBeDefined()
      sameSplit(fast!, expected, c.label)
      // and through the patched prototype method
      sameSplit(n.bestSplit(transposed(c.columns), c.y.slice()), expected, c.label)
    }
    // The near-tie path was exercised (tied features make many equal gains), and nothing fell back.
    expect(fastSplitStats.exactEvaluations - before.exactEvaluations).toBeGreaterThan(100)
    expect(fastSplitStats.fallbacks - before.fallbacks).toBe(0)
  })

  it('sends rows equal to the split value to the greater side, as ml-cart does', () => {
    // Neighbours 1 and 1 with different labels give the candidate 1: rows with x = 1 are not "lesser".
    const n = node('classifier')
    const columns = [[0, 1, 1, 1, 2]]
    const y = [0, 0, 1, 0, 1]
    sameSplit(fastBestSplit(n, transposed(columns), y)!, originalBestSplit().call(n, transposed(columns), y), 'equal neighbours')
    // Adjacent floats: the midpoint rounds to one of them.
    const a = 1
    const b = 1 + Number.EPSILON
    const columns2 = [[a, a, b, b]]
    const y2 = [0, 1, 1, 0]
    sameSplit(fastBestSplit(n, transposed(columns2), y2)!, originalBestSplit().call(n, transposed(columns2), y2), 'adjacent floats')
  })

  it('returns what ml-cart returns when no split exists', () => {
    for (const kind of ['classifier', 'regression'] as const) {
      const n = node(kind)
      const columns = [[1, 2, 3]]
      const y = [1, 1, 1]
      expect(fastBestSplit(n, transposed(columns), y)).toEqual(originalBestSplit().call(n, transposed(columns), y))
    }
  })

  it('leaves inputs it cannot reproduce exactly to the original', () => {
    expect(fastBestSplit(node('classifier'), transposed([[1, Number.NaN, 3]]), [0, 1, 0])).toBeUndefined()
    expect(fastBestSplit(node('classifier'), transposed([[1, 2, 3]]), [0, 0.5, 1])).toBeUndefined()
    expect(fastBestSplit(node('regression'), transposed([[1, 2, 3]]), [0, Infinity, 1])).toBeUndefined()
    const other = Object.assign(node('classifier'), { gainFunction: 'entropy' })
    expect(fastBestSplit(other, transposed([[1, 2, 3]]), [0, 1, 0])).toBeUndefined()
  })
})

function irisLike(seed: number, perClass = 50): { data: Dataset; signature: Signature } {
  // Iris-shaped: 3 classes × 4 features, overlapping, measured to one decimal (so many equal values).
  const engine = MersenneTwister19937.seed(seed)
  const centres = [
    [5.0, 3.4, 1.5, 0.2],
    [5.9, 2.8, 4.3, 1.3],
    [6.6, 3.0, 5.6, 2.0],
  ]
  const spread = [0.4, 0.35, 0.4, 0.25]
  const X: number[][] = []
  const y: string[] = []
  for (let i = 0; i < perClass; i++) {
    centres.forEach((centre, c) => {
      X.push(centre.map((m, j) => Math.round((m + real(-1, 1)(engine) * spread[j]! * 1.7) * 10) / 10))
      y.push(['setosa', 'versicolor', 'virginica'][c]!)
    })
  }
  const signature: Signature = {
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, type: 'number' as const })),
    target: { name: 'species', type: 'category', classes: ['setosa', 'versicolor', 'virginica'] },
  }
  return { data: { X, y }, signature }
}

function regressionData(seed: number, rows: number): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => [real(0, 10)(engine), integer(0, 4)(engine), Math.round(real(0, 3)(engine) * 2) / 2])
  const y = X.map(([a, b, c]) => Math.round((a! * 1.5 - b! * 2 + c! + real(-1, 1)(engine)) * 4) / 4)
  return { data: { X, y }, signature: { features: ['a', 'b', 'c'].map((name) => ({ name, type: 'number' as const })), target: { name: 'y', type: 'number' } } }
}

function bothWays<T>(train: () => T): { fast: T; original: T } {
  installFastSplit()
  const fast = train()
  uninstallFastSplit()
  try {
    expect(fastSplitStatus().active).toBe(false)
    return { fast, original: train() }
  } finally {
    installFastSplit()
  }
}

describe('forests trained with the fast split', () => {
  it('are identical to ml-cart\'s (model JSON and predictions): classification, iris-like data', () => {
    const { data, signature } = irisLike(11)
    for (const hyperParameters of [{ n_estimators: 15 }, { n_estimators: 10, max_features: 0.5, max_depth: 3 }, { n_estimators: 5, bootstrap: false }]) {
      const { fast, original } = bothWays(() => trainRandomForest({ task: 'classification', hyperParameters, seed: 3, signature, data }))
      // Same splits chosen and the same gain values to the bit, so the JSON is the same, not merely the predictions.
      expect(JSON.stringify(fast.toJSON())).toBe(JSON.stringify(original.toJSON()))
      expect(fast.predict(data.X)).toEqual(original.predict(data.X))
      expect(fast.predictProba!(data.X)).toEqual(original.predictProba!(data.X))
    }
  })

  it('are identical to ml-cart\'s: regression with tied features and targets', () => {
    const { data, signature } = regressionData(5, 300)
    const { fast, original } = bothWays(() => trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 10 }, seed: 9, signature, data }))
    expect(JSON.stringify(fast.toJSON())).toBe(JSON.stringify(original.toJSON()))
    expect(fast.predict(data.X)).toEqual(original.predict(data.X))
  })
})

describe('installFastSplit', () => {
  it('is idempotent', () => {
    expect(installFastSplit()).toEqual({ installed: true })
    const first = treeNodePrototype().bestSplit
    expect(installFastSplit()).toEqual({ installed: true })
    expect(treeNodePrototype().bestSplit).toBe(first)
    const original = originalBestSplit()
    expect(original).not.toBe(first)
    expect(fastSplitStatus()).toEqual({ active: true, lastInstall: { installed: true } })
    uninstallFastSplit()
    expect(treeNodePrototype().bestSplit).toBe(original)
    installFastSplit()
    // Re-installed over the original, never over itself: the saved original is still ml-cart's.
    expect(fastSplitStatus().active).toBe(true)
    expect(originalBestSplit()).toBe(original)
  })

  it('patches the TreeNode that ml-random-forest\'s trees use', () => {
    const { data } = irisLike(2, 20)
    const y = data.y.map((label) => ['setosa', 'versicolor', 'virginica'].indexOf(label as string))
    const calls = fastSplitStats.calls
    const classifier = new RandomForestClassifier({ nEstimators: 3, seed: 1, noOOB: true })
    classifier.train(data.X, y)
    const regressor = new RandomForestRegression({ nEstimators: 3, seed: 1, noOOB: true })
    regressor.train(data.X, data.X.map((row) => row[0]! * 2))
    const patched = treeNodePrototype().bestSplit
    for (const forest of [classifier, regressor]) {
      const estimators = (forest as unknown as { estimators: { root: object }[] }).estimators
      for (const tree of estimators) expect((Object.getPrototypeOf(tree.root) as { bestSplit: unknown }).bestSplit).toBe(patched)
    }
    expect(fastSplitStats.calls).toBeGreaterThan(calls)
  })
})
