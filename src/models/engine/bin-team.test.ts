// Binning on several threads gives the edges and bins of one thread.
import { MersenneTwister19937, integer, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import { binInParallel } from './bin-team.js'
import { applyBins, fitBins, type FeatureKind } from './binning.js'
import { rngFor } from './random.js'

describe('binInParallel', () => {
  it('fits and bins as fitBins and applyBins do, on one thread or two', async () => {
    const engine = MersenneTwister19937.seed(5)
    const rows = 60_000 // 1,200,000 values: enough to share out
    const kinds: FeatureKind[] = Array.from({ length: 20 }, (_, f) => (f % 5 === 4 ? { categorical: true, categories: 7 } : { categorical: false }))
    const columns = kinds.map((kind, f) =>
      Float64Array.from({ length: rows }, () => (integer(0, 19)(engine) === 0 ? Number.NaN : kind.categorical ? integer(0, 6)(engine) : f % 2 ? integer(0, 9)(engine) : real(-5, 5)(engine))),
    )
    const train = Int32Array.from({ length: rows - 1000 }, (_, i) => i)
    const expected = fitBins(columns, kinds, train, 255, rngFor(9, 1))
    const expectedBins = applyBins(expected, columns).bins
    for (const threads of [1, 2]) {
      const buffer = new SharedArrayBuffer(rows * 20 + 64)
      const mapper = await binInParallel(columns, kinds, train, 255, rngFor(9, 1), threads, { buffer, offset: 64 })
      expect(mapper).toEqual(expected)
      expect(Buffer.from(new Uint8Array(buffer, 64)).equals(Buffer.from(expectedBins))).toBe(true)
    }
  })
})
