// Binning: edges from distinct values or quantile midpoints, a bin of its own for missing values, categories as
// their codes, and the same edges for the same rows and seed.
import { describe, expect, it } from 'vitest'
import { applyBins, fitBins, numericBin, numericEdges, QUANTILE_SUBSAMPLE, type FeatureKind } from './binning.js'
import { rngFor } from './random.js'

const numeric: FeatureKind = { categorical: false }
const rows = (n: number) => Int32Array.from({ length: n }, (_, i) => i)

describe('numericEdges', () => {
  it('puts an edge halfway between each pair of neighbouring distinct values when they are few', () => {
    const { edges, values } = numericEdges(Float64Array.of(3, 1, 2, 2, 1, 3, -0, 0), rows(8), 255)
    expect(Array.from(edges)).toEqual([0.5, 1.5, 2.5])
    expect(Array.from(values!)).toEqual([0, 1, 2, 3])
  })

  it('keeps the next value out of the bin below when the midpoint of two adjacent doubles rounds up to it', () => {
    const a = 1
    const b = 1 + Number.EPSILON
    const { edges } = numericEdges(Float64Array.of(a, b), rows(2), 255)
    expect(numericBin(edges, a)).toBe(0)
    expect(numericBin(edges, b)).toBe(1)
  })

  it('takes quantile midpoints (numpy\'s method="midpoint") when there are more distinct values than bins', () => {
    const column = Float64Array.from({ length: 1000 }, (_, i) => i)
    const { edges, values } = numericEdges(column, rows(1000), 4)
    // numpy.percentile(range(1000), [25, 50, 75], method="midpoint") = 249.5, 499.5, 749.5
    expect(Array.from(edges)).toEqual([249.5, 499.5, 749.5])
    expect(values).toBeNull()
  })

  it('leaves missing values out, and keeps one edge of repeated quantiles', () => {
    const column = Float64Array.from({ length: 100 }, (_, i) => (i < 90 ? 5 : i % 7 === 0 ? Number.NaN : i))
    const { edges } = numericEdges(column, rows(100), 3)
    expect(new Set(edges).size).toBe(edges.length)
    for (const edge of edges) expect(Number.isNaN(edge)).toBe(false)
  })

  it('sends +Infinity to the last bin and -Infinity to the first', () => {
    const { edges } = numericEdges(Float64Array.of(-Infinity, 1, 2, Infinity), rows(4), 255)
    expect(numericBin(edges, Infinity)).toBe(edges.length)
    expect(numericBin(edges, -Infinity)).toBe(0)
    expect(edges.every((e) => Number.isFinite(e) || e === -Infinity)).toBe(true)
  })
})

describe('fitBins and applyBins', () => {
  it('bins each value where v <= edge sends it, missing values to the missing bin, categories as their codes', () => {
    const columns = [Float64Array.of(1, 2, Number.NaN, 3), Float64Array.of(0, 2, 1, Number.NaN)]
    const kinds: FeatureKind[] = [numeric, { categorical: true, categories: 3 }]
    const mapper = fitBins(columns, kinds, rows(4), 255, rngFor(1, 1))
    expect(mapper.missingBin).toBe(255)
    expect(mapper.features.map((f) => [f.categorical, f.bins, f.hasMissing])).toEqual([
      [false, 3, true],
      [true, 3, true],
    ])
    const { bins } = applyBins(mapper, columns)
    expect(Array.from(bins)).toEqual([0, 1, 255, 2, 0, 2, 1, 255])
  })

  it('fits on the training rows only, but bins every row', () => {
    const columns = [Float64Array.of(1, 2, 3, 100)]
    const mapper = fitBins(columns, [numeric], Int32Array.of(0, 1, 2), 255, rngFor(1, 1))
    expect(Array.from(mapper.features[0]!.edges)).toEqual([1.5, 2.5])
    expect(Array.from(applyBins(mapper, columns).bins)).toEqual([0, 1, 2, 2])
  })

  it('subsamples rows above QUANTILE_SUBSAMPLE the same way for the same seed, and differently for another', () => {
    const n = QUANTILE_SUBSAMPLE + 5000
    const column = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1000)
    const edges = (seed: number) => Array.from(fitBins([column], [numeric], rows(n), 255, rngFor(seed, 1)).features[0]!.edges)
    expect(edges(3)).toEqual(edges(3))
    expect(edges(3)).not.toEqual(edges(4))
    expect(edges(3)).toHaveLength(254)
  })

  it('bins every value as the plain binary search does, whatever the number of edges', () => {
    for (const distinct of [1, 2, 3, 17, 200, 254, 255, 256, 5000]) {
      const column = Float64Array.from({ length: 6000 }, (_, i) => (i % 97 === 0 ? Number.NaN : i % 89 === 0 ? (i % 2 ? Infinity : -Infinity) : Math.floor(Math.sin(i * 7.1) * distinct) / 3))
      const mapper = fitBins([column], [numeric], rows(6000), 255, rngFor(1, 1))
      const { bins } = applyBins(mapper, [column])
      const edges = mapper.features[0]!.edges
      column.forEach((v, r) => expect(bins[r], `${distinct} distinct, row ${r}`).toBe(Number.isNaN(v) ? 255 : numericBin(edges, v)))
    }
  })

  it('refuses a bin count a byte cannot hold', () => {
    expect(() => fitBins([Float64Array.of(1)], [numeric], rows(1), 256, rngFor(1, 1))).toThrow(RangeError)
  })
})
