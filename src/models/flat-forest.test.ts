import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MersenneTwister19937, integer, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import { compileForest, flatForestStats } from './flat-forest.js'
import { RANDOM_FOREST_CLASSIFIER, RANDOM_FOREST_REGRESSOR, loadRandomForest, trainRandomForest } from './random-forest.js'
import { clusters } from './test-data.js'
import type { Dataset, ModelManifest, Predictor, Signature } from './types.js'

const manifest = { id: '0123456789abcdef' } as ModelManifest

/** The same model.json loaded twice: with the flat form (the default) and with ml.js's own predict. */
function both(trained: Predictor): { flat: Predictor; library: Predictor } {
  const json = trained.toJSON()
  return { flat: loadRandomForest(trained.kind)(json, manifest), library: loadRandomForest(trained.kind, { flat: false })(json, manifest) }
}

/** Indexes of the values that differ (Object.is: -0 is not 0), for a readable failure. */
function differences(a: readonly unknown[], b: readonly unknown[]): number[] {
  expect(a).toHaveLength(b.length)
  const out: number[] = []
  for (let i = 0; i < a.length; i++) {
    const x = a[i]
    const y = b[i]
    const same = Array.isArray(x) && Array.isArray(y) ? x.length === y.length && x.every((v, j) => Object.is(v, y[j])) : Object.is(x, y)
    if (!same) out.push(i)
  }
  return out
}

function expectIdentical(flat: Predictor, library: Predictor, X: number[][]): void {
  const before = flatForestStats.rows
  expect(differences(flat.predict(X), library.predict(X))).toEqual([])
  if (library.predictProba) expect(differences(flat.predictProba!(X), library.predictProba(X))).toEqual([])
  expect(flatForestStats.rows - before).toBe(library.predictProba ? 2 * X.length : X.length) // the flat form ran
}

function iris(): { data: Dataset; signature: Signature } {
  const lines = readFileSync(join(import.meta.dirname, '..', '..', 'template', 'data', 'raw', 'iris.csv'), 'utf8').trim().split('\n')
  const header = lines[0]!.split(',')
  const rows = lines.slice(1).map((line) => line.split(','))
  const classes = [...new Set(rows.map((r) => r[4]!))]
  return {
    data: { X: rows.map((r) => r.slice(0, 4).map(Number)), y: rows.map((r) => r[4]!) },
    signature: { features: header.slice(0, 4).map((name) => ({ name, type: 'number' as const })), target: { name: 'species', type: 'category', classes } },
  }
}

/** `features` columns: two thirds continuous, a third with few distinct values (ties at thresholds). */
function synthetic(task: 'classification' | 'regression', rows: number, features: number, seed: number, classes = ['low', 'mid', 'high']): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => Array.from({ length: features }, (_, j) => (j % 3 === 2 ? integer(0, 4)(engine) : real(-5, 5)(engine))))
  const score = (row: number[]) => row[0]! * 1.5 - row[1]! + row[2]! * row[3]! * 0.3 + row[features - 1]! - row[4]! * 0.5 + real(-2, 2)(engine)
  const signature: Signature = {
    features: Array.from({ length: features }, (_, j) => ({ name: `f${j}`, type: 'number' as const })),
    target: task === 'regression' ? { name: 'y', type: 'number' } : { name: 'y', type: 'category', classes },
  }
  const y = X.map((row) => {
    const s = score(row)
    if (task === 'regression') return s
    return classes[Math.min(classes.length - 1, Math.max(0, Math.floor((s + 6) / (12 / classes.length))))]!
  })
  return { data: { X, y }, signature }
}

/** Rows to predict: fresh random ones, far outside the training range, and rows sitting exactly on split values. */
function probeRows(predictor: Predictor, n: number, features: number, seed: number): number[][] {
  const engine = MersenneTwister19937.seed(seed)
  const thresholds: number[] = []
  const walk = (node: { splitValue?: number; left?: object; right?: object }) => {
    if (node.splitValue !== undefined) thresholds.push(node.splitValue)
    if (node.left) walk(node.left)
    if (node.right) walk(node.right)
  }
  const json = predictor.toJSON() as { forest: { baseModel: { estimators: { root: object }[] } } }
  for (const e of json.forest.baseModel.estimators) walk(e.root)
  const pick = integer(0, thresholds.length - 1)
  const rows: number[][] = []
  for (let i = 0; i < n; i++) {
    const kind = i % 4
    rows.push(
      Array.from({ length: features }, () =>
        kind === 0 ? real(-6, 6)(engine) : kind === 1 ? real(-1e6, 1e6)(engine) : kind === 2 ? thresholds[pick(engine)]! : [0, -0, 2, 1e-300, -1e308, 1e308][integer(0, 5)(engine)]!,
      ),
    )
  }
  return rows
}

describe('flat forest', () => {
  it('predicts iris (100 trees, as the template trains it) exactly as ml.js does, classes and probabilities', () => {
    const { data, signature } = iris()
    const trained = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 100 }, seed: 42, signature, data })
    const { flat, library } = both(trained)
    expectIdentical(flat, library, data.X)
    expectIdentical(flat, library, probeRows(trained, 3000, 4, 1))
    // the predictor that training returns uses the flat form too
    expectIdentical(trained, library, data.X)
  })

  it('is identical on 30 features with feature subsets, for classifiers of 1 to 60 trees, on thousands of rows', () => {
    for (const [trees, maxFeatures, seed] of [
      [1, 1.0, 1],
      [7, 0.3, 2],
      [60, 0.5, 3],
    ] as const) {
      const { data, signature } = synthetic('classification', 600, 30, seed)
      const trained = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: trees, max_features: maxFeatures }, seed, signature, data })
      const { flat, library } = both(trained)
      expectIdentical(flat, library, data.X)
      expectIdentical(flat, library, probeRows(trained, 2000, 30, seed + 100))
    }
  })

  it('resolves ties in votes as ml.js-based predict does: the class listed first', () => {
    // 2 or 4 trees over noisy labels: many rows get equal votes for two classes
    for (const trees of [2, 4]) {
      const { data, signature } = synthetic('classification', 300, 6, 10 + trees, ['x', 'y', 'z', 'w'])
      const trained = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: trees, max_depth: 3 }, seed: 5, signature, data })
      const { flat, library } = both(trained)
      const X = probeRows(trained, 2000, 6, trees)
      const ties = library.predictProba!(X).filter((p) => p.filter((v) => v === Math.max(...p)).length > 1).length
      expect(ties).toBeGreaterThan(50)
      expectIdentical(flat, library, X)
    }
  })

  it('is identical for regression (mean of the trees in tree order), with bootstrap and feature subsets', () => {
    for (const [trees, maxFeatures, seed] of [
      [1, 1.0, 4],
      [30, 0.4, 5],
    ] as const) {
      const { data, signature } = synthetic('regression', 500, 30, seed)
      const trained = trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: trees, max_features: maxFeatures }, seed, signature, data })
      expect(trained.kind).toBe(RANDOM_FOREST_REGRESSOR)
      const { flat, library } = both(trained)
      expectIdentical(flat, library, data.X)
      expectIdentical(flat, library, probeRows(trained, 3000, 30, seed))
    }
  })

  it('keeps toJSON (and so model.json and the model id) and input validation unchanged', () => {
    const { data, signature } = clusters()
    const trained = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed: 3, signature, data })
    const { flat, library } = both(trained)
    expect(JSON.stringify(flat.toJSON())).toBe(JSON.stringify(library.toJSON()))
    expect(JSON.stringify(flat.toJSON())).toBe(JSON.stringify(trained.toJSON()))
    expect(flat.predict([])).toEqual([])
    expect(flat.predictProba!([])).toEqual([])
    for (const bad of [[[1, 2, 3]], [[1, 2, 3, Number.NaN]], [[1, 2, 3, Number.POSITIVE_INFINITY]]]) {
      expect(() => flat.predict(bad)).toThrow(expect.objectContaining({ code: expect.any(String) }) as Error)
      let libraryError: unknown
      try {
        library.predict(bad)
      } catch (error) {
        libraryError = error
      }
      expect(() => flat.predict(bad)).toThrow((libraryError as Error).message)
    }
  })

  it('steps aside for forests it does not reproduce exactly (median selection, odd shapes), leaving ml.js to predict', () => {
    const { data, signature } = synthetic('regression', 100, 6, 9)
    const trained = trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 3 }, seed: 1, signature, data })
    const json = trained.toJSON() as { forest: { selectionMethod: string; baseModel: { nEstimators: number; indexes: number[][] } } }
    expect(compileForest(json.forest, { task: 'regression', features: 6 }).ok).toBe(true)
    const median = structuredClone(json)
    median.forest.selectionMethod = 'median'
    expect(compileForest(median.forest, { task: 'regression', features: 6 })).toEqual({ ok: false, reason: 'selection method median (only mean is compiled)' })
    // a median forest still loads and predicts (with ml.js) exactly like the library-only loader
    const X = data.X.slice(0, 50)
    const rows = flatForestStats.rows
    expect(loadRandomForest(RANDOM_FOREST_REGRESSOR)(median, manifest).predict(X)).toEqual(loadRandomForest(RANDOM_FOREST_REGRESSOR, { flat: false })(median, manifest).predict(X))
    expect(flatForestStats.rows).toBe(rows)
    const wrongCount = structuredClone(json)
    wrongCount.forest.baseModel.nEstimators = 4
    expect(compileForest(wrongCount.forest, { task: 'regression', features: 6 }).ok).toBe(false)
    const wrongColumn = structuredClone(json)
    wrongColumn.forest.baseModel.indexes[0]![0] = 6
    expect(compileForest(wrongColumn.forest, { task: 'regression', features: 6 }).ok).toBe(false)
    expect(compileForest(json.forest, { task: 'classification', features: 6, classes: 2 }).ok).toBe(false)

    const c = clusters()
    const classifier = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 2 }, seed: 1, signature: c.signature, data: c.data })
    const forest = (classifier.toJSON() as { forest: unknown }).forest
    expect(compileForest(forest, { task: 'classification', features: 4, classes: 3 }).ok).toBe(true)
    // a leaf voting for a class the signature does not list
    expect(compileForest(forest, { task: 'classification', features: 4, classes: 1 }).ok).toBe(false)
    expect(RANDOM_FOREST_CLASSIFIER).toBe(classifier.kind)
  })
})
