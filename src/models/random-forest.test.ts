import { RandomForestClassifier } from 'ml-random-forest'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../json/index.js'
import { RANDOM_FOREST_CLASSIFIER, RANDOM_FOREST_REGRESSOR, crossValidate, evaluate, splitFolds, trainRandomForest } from './index.js'
import { clusters, linear, split } from './test-data.js'

interface ForestJson {
  forest: { baseModel: { n: number; indexes: number[][]; nEstimators: number } }
}

describe('trainRandomForest', () => {
  it('trains a classifier that separates separable clusters', () => {
    const { data, signature } = clusters()
    const { train, test } = split(data)
    const predictor = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 25 }, seed: 7, signature, data: train })
    expect(predictor.kind).toBe(RANDOM_FOREST_CLASSIFIER)
    const scores = evaluate('classification', predictor, test)
    expect(scores.accuracy).toBeGreaterThan(0.9)
    expect(scores.f1_macro).toBeGreaterThan(0.9)
    expect(scores.log_loss).toBeLessThan(0.5)
    expect(new Set(predictor.predict(test.X))).toEqual(new Set(['a', 'b', 'c']))
  })

  it('gives per-row class probabilities that sum to 1, in the order of the classes', () => {
    const { data, signature } = clusters()
    const predictor = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 10 }, seed: 1, signature, data })
    const proba = predictor.predictProba!(data.X.slice(0, 6))
    for (const row of proba) {
      expect(row).toHaveLength(3)
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    }
    const predicted = predictor.predict(data.X.slice(0, 6))
    proba.forEach((row, i) => expect(predicted[i]).toBe(['a', 'b', 'c'][row.indexOf(Math.max(...row))]))
  })

  it('counts votes for probabilities because ml.js\'s predictProbability is off (its reduce starts from the first vote)', () => {
    const X = [[0], [0.1], [0.2], [1], [1.1], [1.2]]
    const forest = new RandomForestClassifier({ nEstimators: 10, seed: 1, maxFeatures: 1.0, noOOB: true })
    forest.train(X, [0, 0, 0, 1, 1, 1])
    expect(forest.predictionValues([[0.05]]).to2DArray()).toEqual([Array(10).fill(0)])
    // Every tree votes 0, yet ml.js says 0.9. If this starts failing, ml.js was fixed.
    expect(forest.predictProbability([[0.05]], 0)).toEqual([0.9])
    const signature = { features: [{ name: 'x', type: 'number' as const }], target: { name: 'y', type: 'category' as const, classes: [0, 1] } }
    const ours = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 10 }, seed: 1, signature, data: { X, y: [0, 0, 0, 1, 1, 1] } })
    expect(ours.predictProba!([[0.05], [1.15]])).toEqual([[1, 0], [0, 1]])
  })

  it('trains a regressor that fits a linear target', () => {
    const { data, signature } = linear()
    const { train, test } = split(data)
    const predictor = trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 25 }, seed: 7, signature, data: train })
    expect(predictor.kind).toBe(RANDOM_FOREST_REGRESSOR)
    expect(predictor.predictProba).toBeUndefined()
    const scores = evaluate('regression', predictor, test)
    expect(scores.r2).toBeGreaterThan(0.8)
    expect(scores.mean_absolute_error).toBeLessThan(4)
  })

  it('gives byte-identical model JSON for the same data, params and seed, and another for another seed', () => {
    for (const [task, { data, signature }] of [['classification', clusters()], ['regression', linear()]] as const) {
      const train = (seed: number) => canonicalJson(trainRandomForest({ task, hyperParameters: { n_estimators: 8, max_features: 0.5 }, seed, signature, data }).toJSON())
      expect(train(3)).toBe(train(3))
      expect(train(3)).not.toBe(train(4))
    }
  })

  it('reads max_features 1.0 (and 1) as every feature, a fraction as a share, and a whole count as that many', () => {
    const { data, signature } = clusters(10)
    const perTree = (max_features: number) => {
      const json = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5, max_features }, seed: 1, signature, data }).toJSON() as ForestJson
      for (const used of json.forest.baseModel.indexes) expect(new Set(used).size).toBe(used.length)
      return json.forest.baseModel.indexes.map((used) => used.length)
    }
    expect(perTree(1.0)).toEqual([4, 4, 4, 4, 4])
    expect(perTree(0.5)).toEqual([2, 2, 2, 2, 2])
    expect(perTree(0.1)).toEqual([1, 1, 1, 1, 1])
    expect(perTree(3)).toEqual([3, 3, 3, 3, 3])
  })

  it('refuses more features per tree than the data has, naming the parameter', () => {
    const { data, signature } = clusters(5)
    expect(() => trainRandomForest({ task: 'classification', hyperParameters: { max_features: 9 }, seed: 1, signature, data })).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_INVALID', where: expect.objectContaining({ field: 'model.max_features' }) }))
    expect(() => trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 0 }, seed: 1, signature, data })).toThrow(expect.objectContaining({ code: 'MLSKEL_PARAMS_INVALID', where: expect.objectContaining({ field: 'model.n_estimators' }) }))
  })

  it('honours max_depth: depth 1 trees are stumps', () => {
    const { data, signature } = clusters(10)
    const json = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 3, max_depth: 1 }, seed: 1, signature, data }).toJSON() as { forest: { baseModel: { estimators: { root: { left?: { left?: unknown } } }[] } } }
    for (const tree of json.forest.baseModel.estimators) {
      expect(tree.root.left).toBeDefined()
      expect(tree.root.left!.left).toBeUndefined()
    }
  })

  it('rejects a label that is not among the classes of the signature, and rows of the wrong width', () => {
    const { data, signature } = clusters(5)
    expect(() => trainRandomForest({ task: 'classification', hyperParameters: {}, seed: 1, signature, data: { X: data.X, y: data.y.map((l, i) => (i === 3 ? 'zz' : l)) } })).toThrow(
      expect.objectContaining({ code: 'MLSKEL_DATA_INVALID_VALUE', message: expect.stringContaining('"zz"') }),
    )
    const predictor = trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 2 }, seed: 1, signature, data })
    expect(() => predictor.predict([[1, 2, 3]])).toThrow(expect.objectContaining({ code: 'MLSKEL_DATA_MISSING_COLUMNS' }))
    expect(predictor.predict([])).toEqual([])
  })
})

describe('cross-validation', () => {
  it('makes stratified folds: each fold holds each class in its share', () => {
    const y = [...Array(20).fill('a'), ...Array(10).fill('b')] as string[]
    const folds = splitFolds({ task: 'classification', folds: 5, seed: 1, y })
    expect(folds.flat().sort((a, b) => a - b)).toEqual(y.map((_, i) => i))
    for (const fold of folds) {
      expect(fold.filter((i) => y[i] === 'a')).toHaveLength(4)
      expect(fold.filter((i) => y[i] === 'b')).toHaveLength(2)
    }
  })

  it('shuffles the folds the same way for a seed, and differently for another', () => {
    const y = Array.from({ length: 30 }, (_, i) => i * 1.5)
    const a = splitFolds({ task: 'regression', folds: 3, seed: 11, y })
    expect(splitFolds({ task: 'regression', folds: 3, seed: 11, y })).toEqual(a)
    expect(splitFolds({ task: 'regression', folds: 3, seed: 12, y })).not.toEqual(a)
    expect(a.map((f) => f.length)).toEqual([10, 10, 10])
  })

  it('refuses more folds than rows', () => {
    expect(() => splitFolds({ task: 'regression', folds: 5, seed: 1, y: [1, 2, 3] })).toThrow(expect.objectContaining({ code: 'MLSKEL_DATA_TOO_FEW_ROWS' }))
  })

  it('averages each metric over the folds, training once per fold on the other folds', () => {
    const { data, signature } = clusters(15)
    const sizes: number[] = []
    const scores = crossValidate({
      task: 'classification',
      folds: 3,
      seed: 5,
      data,
      train: (fold) => {
        sizes.push(fold.X.length)
        return trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 10 }, seed: 5, signature, data: fold })
      },
    })
    expect(sizes).toEqual([30, 30, 30])
    expect(Object.keys(scores).sort()).toEqual(['accuracy', 'f1_macro', 'log_loss'])
    expect(scores.accuracy).toBeGreaterThan(0.9)
  })
})
