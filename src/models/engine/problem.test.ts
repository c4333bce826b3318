// The engine's shared helpers: the held-out rows of early stopping, and the categories training saw.
import { describe, expect, it } from 'vitest'
import { knownCategories, validationSplit } from './problem.js'
import { rngFor } from './random.js'

describe('validationSplit', () => {
  const rows = Int32Array.from({ length: 1000 }, (_, i) => i)
  const classes = Float64Array.from(rows, (r) => (r % 10 === 0 ? 2 : r % 2))

  it('holds out ceil(fraction × rows), each class in its share, both parts ascending and disjoint', () => {
    const { train, validation } = validationSplit(rows, 0.15, classes, rngFor(4, 2))
    expect(validation.length).toBe(150)
    expect(train.length + validation.length).toBe(1000)
    const held = new Set(validation)
    expect(train.every((r) => !held.has(r))).toBe(true)
    expect([...validation]).toEqual([...validation].sort((a, b) => a - b))
    const share = (set: Int32Array, c: number) => set.filter((r) => classes[r] === c).length
    expect(share(validation, 2)).toBe(15) // 100 rows of class 2, 15% of them
    expect(share(validation, 0) + share(validation, 1)).toBe(135)
  })

  it('draws the same rows for the same seed and others for another', () => {
    const a = validationSplit(rows, 0.1, null, rngFor(4, 2)).validation
    expect(validationSplit(rows, 0.1, null, rngFor(4, 2)).validation).toEqual(a)
    expect(validationSplit(rows, 0.1, null, rngFor(5, 2)).validation).not.toEqual(a)
  })
})

describe('knownCategories', () => {
  it('marks the codes the given rows hold, per categorical feature', () => {
    const columns = [Float64Array.of(0.5, 1), Float64Array.of(0, 33, Number.NaN, 1).subarray(0, 2), Float64Array.of(2, 2)]
    const known = knownCategories(columns, [{ categorical: false }, { categorical: true, categories: 40 }, { categorical: true, categories: 3 }], Int32Array.of(0, 1))
    expect(Array.from(known.categories)).toEqual([0, 40, 3])
    expect(Array.from(known.offsets)).toEqual([-1, 0, 2])
    expect(Array.from(known.bitsets)).toEqual([1, 2, 4])
  })
})
