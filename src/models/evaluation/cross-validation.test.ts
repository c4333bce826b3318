import { describe, expect, it } from 'vitest'
import { foldsOf, splitFolds } from './cross-validation.js'

const rows = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('foldsOf', () => {
  it('stratifies classification folds by class, and each fold trains on all the other rows', () => {
    const y = rows(30).map((i) => (i % 3 === 0 ? 'a' : 'b'))
    const folds = foldsOf({ task: 'classification', folds: 5, seed: 1, y })
    expect(folds).toHaveLength(5)
    for (const { train, test } of folds) {
      expect(test.filter((i) => y[i] === 'a')).toHaveLength(2)
      expect([...train, ...test].sort((a, b) => a - b)).toEqual(rows(30))
    }
    expect(folds.map((f) => f.test)).toEqual(splitFolds({ task: 'classification', folds: 5, seed: 1, y }))
  })

  it('chains time folds forward: every fold trains only on rows before the ones it scores', () => {
    // rows in shuffled time order, one without a time (the earliest)
    const time = [50, 10, 40, NaN, 30, 20, 90, 70, 60, 80, 0, 100]
    const folds = foldsOf({ task: 'regression', folds: 3, seed: 1, y: time.map(() => 0), strategy: { kind: 'time', time } })
    expect(folds).toHaveLength(3)
    const at = (i: number) => (Number.isNaN(time[i]!) ? -Infinity : time[i]!)
    for (const { train, test } of folds) {
      expect(Math.max(...train.map(at))).toBeLessThan(Math.min(...test.map(at)))
      expect(test).toHaveLength(3)
    }
    expect(folds[0]!.train.map(at).sort((a, b) => a - b)).toEqual([-Infinity, 0, 10])
    expect(folds[2]!.train).toHaveLength(9)
  })

  it('keeps every group on one side of each fold, dealing groups so folds are about the same size', () => {
    const groups = rows(40).map((i) => `customer-${i % 10}`)
    const folds = foldsOf({ task: 'classification', folds: 4, seed: 7, y: groups.map((_, i) => i % 2), strategy: { kind: 'group', groups } })
    const seen = new Set<string>()
    for (const { train, test } of folds) {
      const inTest = new Set(test.map((i) => groups[i]))
      expect(train.some((i) => inTest.has(groups[i]!))).toBe(false)
      for (const g of inTest) {
        expect(seen.has(g!)).toBe(false)
        seen.add(g!)
      }
      expect(test.length).toBeGreaterThanOrEqual(8)
      expect(test.length).toBeLessThanOrEqual(12)
    }
    expect(seen.size).toBe(10)
  })

  it('refuses fewer groups than folds', () => {
    expect(() => foldsOf({ task: 'regression', folds: 5, seed: 1, y: [1, 2, 3, 4, 5, 6], strategy: { kind: 'group', groups: ['a', 'a', 'b', 'b', 'c', null] } })).toThrow(expect.objectContaining({ code: 'MLSKEL_DATA_TOO_FEW_ROWS', message: expect.stringContaining('at least 5 groups in the training rows, got 4') }))
  })
})
