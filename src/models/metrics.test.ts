import { describe, expect, it } from 'vitest'
import { MlskelError } from '../errors/index.js'
import { accuracy, combineScores, f1Macro, logLoss, meanAbsoluteError, meanSquaredError, r2, validateScores } from './index.js'

describe('metrics', () => {
  const yTrue = ['a', 'a', 'b', 'b', 'c']
  const yPred = ['a', 'b', 'b', 'b', 'a']

  it('computes accuracy as the share of right predictions', () => {
    expect(accuracy(yTrue, yPred)).toBeCloseTo(0.6, 12)
  })

  it('computes f1_macro as scikit-learn does, a class never predicted right scoring 0', () => {
    // a: tp 1, fp 1, fn 1 → 0.5; b: tp 2, fp 1, fn 0 → 0.8; c: tp 0 → 0
    expect(f1Macro(yTrue, yPred)).toBeCloseTo((0.5 + 0.8 + 0) / 3, 12)
    expect(f1Macro(['x', 'y'], ['x', 'y'])).toBe(1)
  })

  it('counts a label that is only predicted among the classes of f1_macro', () => {
    // a: tp 1, fp 0, fn 1 → 2/3; z (only predicted): tp 0, fp 1 → 0
    expect(f1Macro(['a', 'a'], ['a', 'z'])).toBeCloseTo(1 / 3, 12)
  })

  it('computes log_loss from the probability of the true class', () => {
    const value = logLoss(['a', 'b'], [[0.8, 0.2], [0.4, 0.6]], ['a', 'b'])
    expect(value).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12)
  })

  it('clips probabilities at 1e-15 so a confident mistake costs a finite loss', () => {
    expect(logLoss(['a'], [[0, 1]], ['a', 'b'])).toBeCloseTo(-Math.log(1e-15), 9)
    expect(logLoss(['b'], [[0, 1]], ['a', 'b'])).toBeCloseTo(-Math.log(1 - 1e-15), 12)
  })

  it('computes r2, mean squared and absolute error for a known case', () => {
    // scikit-learn's documented example: r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) == 0.948...
    const t = [3, -0.5, 2, 7]
    const p = [2.5, 0, 2, 8]
    expect(r2(t, p)).toBeCloseTo(0.9486081370449679, 12)
    expect(meanSquaredError(t, p)).toBeCloseTo(0.375, 12)
    expect(meanAbsoluteError(t, p)).toBeCloseTo(0.5, 12)
  })

  it('gives r2 of a constant target 1 when fitted exactly and 0 otherwise', () => {
    expect(r2([2, 2], [2, 2])).toBe(1)
    expect(r2([2, 2], [1, 3])).toBe(0)
  })
})

describe('scores', () => {
  it('combines per-split metrics into metric → split', () => {
    expect(combineScores({ cv: { accuracy: 0.9, f1_macro: 0.8 }, hold_out: { accuracy: 0.7 } })).toEqual({ accuracy: { cv: 0.9, hold_out: 0.7 }, f1_macro: { cv: 0.8 } })
  })

  it('accepts known metrics, custom metrics and custom splits', () => {
    expect(() => validateScores({ accuracy: { cv: 1, hold_out: 0.9 }, custom_lift: { custom_2024: 3 }, r2: { cv: -0.5 } })).not.toThrow()
  })

  it('rejects an unknown metric, quoting it and suggesting the closest name', () => {
    const error = catchError(() => validateScores({ acuracy: { cv: 1 } }))
    expect(error.code).toBe('MLSKEL_METRIC_UNKNOWN')
    expect(error.message).toContain('"acuracy"')
    expect(error.message).toContain('Did you mean "accuracy"?')
    expect(error.where?.field).toBe('scores.acuracy')
  })

  it('rejects an unknown split and a value that is not a finite number', () => {
    expect(catchError(() => validateScores({ accuracy: { test: 1 } })).message).toContain('"test"')
    expect(catchError(() => validateScores({ accuracy: { cv: Number.NaN } })).code).toBe('MLSKEL_METRIC_UNKNOWN')
  })
})

function catchError(fn: () => unknown): MlskelError {
  try {
    fn()
  } catch (error) {
    if (error instanceof MlskelError) return error
    throw error
  }
  throw new Error('expected an MlskelError')
}
