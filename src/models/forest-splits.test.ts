// forestSplitCounts: the split nodes per feature that the delivery report shows for random forests.
import { describe, expect, it } from 'vitest'
import { forestSplitCounts } from './forest-splits.js'
import { trainRandomForest } from './random-forest.js'
import { clusters, linear } from './test-data.js'
import type { Predictor } from './types.js'

describe('forestSplitCounts', () => {
  it('counts the split nodes per feature of a classifier and of a regressor', () => {
    for (const { data, signature, task } of [{ ...clusters(), task: 'classification' as const }, { ...linear(), task: 'regression' as const }]) {
      const predictor = trainRandomForest({ task, hyperParameters: { n_estimators: 5 }, seed: 1, signature, data })
      const counts = forestSplitCounts(predictor)!
      expect(counts).toHaveLength(signature.features.length)
      expect(counts.every((c) => Number.isInteger(c) && c >= 0)).toBe(true)
      expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
    }
  })

  it('gives null for a model that is not a forest', () => {
    const { signature } = clusters()
    const constant: Predictor = { kind: 'constant', signature, predict: (X) => X.map(() => 'a'), toJSON: () => ({ value: 'a' }) }
    expect(forestSplitCounts(constant)).toBeNull()
  })
})
