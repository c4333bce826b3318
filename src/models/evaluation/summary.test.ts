import { describe, expect, it } from 'vitest'
import type { Predictor, Signature } from '../contract/types.js'
import { trainRandomForest } from '../index.js'
import { clusters, linear, split } from '../test-data.js'
import { summarizeFeatures, summarizeHoldOut, summarizeTarget } from './summary.js'

/** A predictor that answers what it is told, to check the summaries by hand. */
function fixed(signature: Signature, answers: (string | number)[]): Predictor {
  return { kind: 'fixed', signature, predict: () => answers, toJSON: () => ({}) }
}

const labels: Signature = { features: [{ name: 'x', type: 'number' }], target: { name: 'y', type: 'category', classes: ['a', 'b', 'c'] } }
const numbers: Signature = { features: [{ name: 'x', type: 'number' }], target: { name: 'y', type: 'number' } }

describe('summarizeHoldOut', () => {
  it('counts a confusion matrix, rows actual and columns predicted, in the class order', () => {
    const data = { X: [[0], [0], [0], [0], [0]], y: ['a', 'a', 'b', 'c', 'c'] }
    expect(summarizeHoldOut('classification', fixed(labels, ['a', 'b', 'b', 'c', 'a']), data)).toEqual({
      rows: 5,
      confusion_matrix: {
        labels: ['a', 'b', 'c'],
        matrix: [
          [1, 1, 0],
          [0, 1, 0],
          [1, 0, 1],
        ],
      },
      // a: 1 of 2 predicted a right (precision 1/2), 1 of 2 actual a found; b: 1 of 2, 1 of 1; c: 1 of 1, 1 of 2
      per_class: [
        { label: 'a', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
        { label: 'b', precision: 0.5, recall: 1, f1: 2 / 3, support: 1 },
        { label: 'c', precision: 1, recall: 0.5, f1: 2 / 3, support: 2 },
      ],
    })
  })

  it('adds labels outside the classes after them', () => {
    const summary = summarizeHoldOut('classification', fixed(labels, ['a', 'z']), { X: [[0], [0]], y: ['d', 'a'] })
    expect(summary).toMatchObject({ rows: 2, confusion_matrix: { labels: ['a', 'b', 'c', 'd', 'z'], matrix: [[0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]] } })
  })

  it('summarizes the residuals, actual minus predicted, with numpy\'s percentiles', () => {
    const y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    const predicted = y.map((v, i) => v - (i - 5)) // residuals -5..5
    const summary = summarizeHoldOut('regression', fixed(numbers, predicted), { X: y.map(() => [0]), y })
    expect(summary).toEqual({ rows: 11, residuals: { mean: 0, std: Math.sqrt(10), min: -5, max: 5, p05: -4.5, p50: 0, p95: 4.5, mean_absolute: 30 / 11 } })
  })

  it('works on a trained forest for both tasks', async () => {
    const c = clusters(20)
    const cs = split(c.data)
    const classifier = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed: 1, signature: c.signature, data: cs.train })
    const matrix = summarizeHoldOut('classification', classifier, cs.test)
    expect(matrix.rows).toBe(cs.test.y.length)
    expect('confusion_matrix' in matrix && matrix.confusion_matrix.matrix.flat().reduce((a, b) => a + b, 0)).toBe(cs.test.y.length)
    const l = linear(80)
    const ls = split(l.data)
    const regressor = await trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 5 }, seed: 1, signature: l.signature, data: ls.train })
    const residuals = summarizeHoldOut('regression', regressor, ls.test)
    expect('residuals' in residuals && residuals.residuals.p05 <= residuals.residuals.p95).toBe(true)
  })

  it('refuses an empty hold-out', () => {
    expect(() => summarizeHoldOut('regression', fixed(numbers, []), { X: [], y: [] })).toThrow(expect.objectContaining({ code: 'MLSKEL_DATA_TOO_FEW_ROWS' }))
  })
})

describe('summarizeFeatures and summarizeTarget', () => {
  const signature: Signature = { features: [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }], target: { name: 'y', type: 'category', classes: ['no', 'yes'] } }
  const data = { X: [[1, -2], [3, 0.5], [2, Number.NaN]], y: ['yes', 'yes', 'no'] }

  it('gives each feature\'s range and its missing values: those the raw data had plus any non-finite ones', () => {
    expect(summarizeFeatures(signature, data, { a: 4 })).toEqual([
      { name: 'a', type: 'number', min: 1, max: 3, missing: 4 },
      { name: 'b', type: 'number', min: -2, max: 0.5, missing: 1 },
    ])
  })

  it('refuses a feature with no value', () => {
    expect(() => summarizeFeatures(signature, { X: [[1, Number.NaN]], y: ['no'] })).toThrow(expect.objectContaining({ code: 'MLSKEL_DATA_INVALID_VALUE' }))
  })

  it('counts each class, those absent too, or gives a number\'s range and mean', () => {
    expect(summarizeTarget(signature, data)).toEqual({ name: 'y', type: 'category', classes: ['no', 'yes'], counts: { no: 1, yes: 2 } })
    expect(summarizeTarget(signature, { X: [[0, 0]], y: ['yes'] })).toMatchObject({ counts: { no: 0, yes: 1 } })
    expect(summarizeTarget(numbers, { X: [[0], [0], [0]], y: [2, 4, 9] })).toEqual({ name: 'y', type: 'number', min: 2, max: 9, mean: 5 })
  })
})
