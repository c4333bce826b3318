// Proofs for boosting's split search: on small random nodes, the split found from histograms is the best one a
// brute-force search over every threshold and both sides for missing values finds, and a categorical split is the
// best of every subset of the categories (Fisher's theorem for the quadratic gain: sorting categories by G/H and
// cutting the order loses nothing); and the team of threads finds what one thread finds.
import { MersenneTwister19937, integer, real, type Engine } from 'random-js'
import { describe, expect, it } from 'vitest'
import { Arena } from './arena.js'
import { applyBins, fitBins, type FeatureKind } from './binning.js'
import { noCandidate, type Candidate, type GradientData, type SplitRules } from './gradient-shard.js'
import { LocalTeam } from './gradient-tree.js'
import { rngFor } from './random.js'

interface Node {
  data: GradientData
  arena: Arena
  columns: Float64Array[]
  bins: Uint8Array
  g: Float64Array
  h: Float64Array
  rows: number
}

function node(columns: Float64Array[], kinds: FeatureKind[], g: Float64Array, h: Float64Array): Node {
  const rows = g.length
  const all = Int32Array.from({ length: rows }, (_, i) => i)
  const mapper = fitBins(columns, kinds, all, 255, rngFor(1, 1))
  const F = columns.length
  const arena = Arena.create(rows * (F + 40) + 64 * F * 256 * 24)
  const bins = arena.u8(rows * F)
  applyBins(mapper, columns, bins.view)
  const grad = arena.f64(rows)
  const hess = arena.f64(rows)
  grad.view.set(g)
  hess.view.set(h)
  const index = arena.i32(rows)
  index.view.set(all)
  const scratch = arena.i32(rows)
  const table = arena.u8(256)
  const data: GradientData = {
    rows,
    features: F,
    missingBin: mapper.missingBin,
    nBins: Int32Array.from(mapper.features, (f) => f.bins),
    categorical: Uint8Array.from(kinds, (k) => (k.categorical ? 1 : 0)),
    constantHessian: h.every((v) => v === 1),
    memory: arena.memory,
    ptr: { bins: bins.ptr, gradients: grad.ptr, hessians: hess.ptr, index: index.ptr, scratch: scratch.ptr, table: table.ptr },
    bins: bins.view,
    gradients: grad.view,
    hessians: hess.view,
    index: index.view,
    scratch: scratch.view,
    table: table.view,
  }
  return { data, arena, columns, bins: bins.view, g, h, rows }
}

function gainOf(gl: number, hl: number, G: number, H: number, l2: number): number {
  const gr = G - gl
  const hr = H - hl
  return (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - (G * G) / (H + l2)
}

/** The best gain over every (feature, threshold bin, side for missing values), by summing the rows themselves. */
function bruteForceNumeric(n: Node, rules: SplitRules): number {
  const { data, g, h, rows } = n
  let G = 0
  let H = 0
  for (let r = 0; r < rows; r++) {
    G += g[r]!
    H += h[r]!
  }
  let best = -Infinity
  for (let f = 0; f < data.features; f++) {
    const column = n.bins.subarray(f * rows, (f + 1) * rows)
    for (let b = -1; b < data.nBins[f]!; b++) {
      for (const missingLeft of [false, true]) {
        let gl = 0
        let hl = 0
        let cl = 0
        for (let r = 0; r < rows; r++) {
          const bin = column[r]!
          if (bin === data.missingBin ? missingLeft : bin <= b) {
            gl += g[r]!
            hl += h[r]!
            cl++
          }
        }
        if (cl < rules.minSamplesLeaf || rows - cl < rules.minSamplesLeaf || hl < rules.minHessian || H - hl < rules.minHessian) continue
        const gain = gainOf(gl, hl, G, H, rules.l2)
        if (gain > 0) best = Math.max(best, gain)
      }
    }
  }
  return best
}

function rootSplit(n: Node, rules: SplitRules): Candidate {
  const team = new LocalTeam(n.data, n.arena.kernels, rules)
  const slot = n.arena.alloc(team.slotBytes())
  let G = 0
  let H = 0
  for (let r = 0; r < n.rows; r++) {
    G += n.g[r]!
    H += n.h[r]!
  }
  return team.root(0, slot, 0, n.rows, { gradient: G, hessian: H, count: n.rows })
}

function randomNumericNode(engine: Engine): Node {
  const rows = integer(8, 160)(engine)
  const features = integer(1, 4)(engine)
  const columns = Array.from({ length: features }, () => {
    const distinct = integer(1, 12)(engine)
    const missing = real(0, 1)(engine) < 0.5 ? real(0, 0.3)(engine) : 0
    return Float64Array.from({ length: rows }, () => (real(0, 1)(engine) < missing ? Number.NaN : integer(0, distinct - 1)(engine) * 0.5))
  })
  const g = Float64Array.from({ length: rows }, () => real(-1, 1)(engine))
  const h = Float64Array.from({ length: rows }, () => (real(0, 1)(engine) < 0.5 ? 1 : real(0.01, 0.25)(engine)))
  return node(columns, columns.map(() => ({ categorical: false })), g, h)
}

describe('the numeric split search', () => {
  it('finds the brute-force best gain on random nodes, missing values on either side included', () => {
    const engine = MersenneTwister19937.seed(2026)
    let compared = 0
    for (let i = 0; i < 400; i++) {
      const n = randomNumericNode(engine)
      const rules: SplitRules = { minSamplesLeaf: integer(1, 6)(engine), minHessian: 1e-3, l2: [0, 0.5, 3][i % 3]! }
      const expected = bruteForceNumeric(n, rules)
      const found = rootSplit(n, rules)
      if (expected === -Infinity) {
        // no split gains: the node stays a leaf (the grower splits only on a gain above 0)
        expect(found.gain, `node ${i}`).toBeLessThanOrEqual(0)
        continue
      }
      compared++
      expect(Math.abs(found.gain - expected) / Math.max(1e-12, Math.abs(expected)), `node ${i}`).toBeLessThan(1e-9)
    }
    expect(compared).toBeGreaterThan(300)
  })

  it('sends a node\'s missing values where they gain most, and without any to the larger child', () => {
    // y rises with x; the missing rows have the largest gradients: they belong with the low side... or the high
    const x = Float64Array.of(1, 2, 3, 4, Number.NaN, Number.NaN)
    const g = Float64Array.of(-1, -1, 1, 1, -1, -1)
    const h = Float64Array.from({ length: 6 }, () => 1)
    const split = rootSplit(node([x], [{ categorical: false }], g, h), { minSamplesLeaf: 1, minHessian: 1e-3, l2: 0 })
    expect(split.missingLeft).toBe(true) // with the rows of gradient −1
    expect(split.left.count).toBe(4)
    const none = rootSplit(node([Float64Array.of(1, 2, 3, 4, 5)], [{ categorical: false }], Float64Array.of(-1, 1, 1, 1, 1), Float64Array.of(1, 1, 1, 1, 1)), { minSamplesLeaf: 1, minHessian: 1e-3, l2: 0 })
    expect(none.left.count).toBe(1)
    expect(none.missingLeft).toBe(false) // the right child is larger
  })
})

describe('the categorical split search', () => {
  it('finds the best of every subset of categories, when each category has many rows', () => {
    const engine = MersenneTwister19937.seed(11)
    for (let i = 0; i < 60; i++) {
      const k = integer(2, 6)(engine)
      const means = Array.from({ length: k }, (_, c) => c * 0.37 + real(-0.1, 0.1)(engine))
      const perCategory = 1500 // hessians of 1500 per category make the smoothing of 10 negligible in the order
      const rows = k * perCategory
      const codes = Float64Array.from({ length: rows }, (_, r) => r % k)
      const g = Float64Array.from(codes, (c) => means[c]! + real(-0.5, 0.5)(engine))
      const h = Float64Array.from({ length: rows }, () => 1)
      const n = node([codes], [{ categorical: true, categories: k }], g, h)
      const rules: SplitRules = { minSamplesLeaf: 20, minHessian: 1e-3, l2: 0 }
      const found = rootSplit(n, rules)
      let G = 0
      for (const v of g) G += v
      const sums = Array.from({ length: k }, () => 0)
      codes.forEach((c, r) => (sums[c]! += g[r]!))
      let best = -Infinity
      for (let mask = 1; mask < (1 << k) - 1; mask++) {
        let gl = 0
        let hl = 0
        for (let c = 0; c < k; c++) {
          if (mask & (1 << c)) {
            gl += sums[c]!
            hl += perCategory
          }
        }
        best = Math.max(best, gainOf(gl, hl, G, rows, 0))
      }
      expect(found.categorical).toBe(true)
      expect(Math.abs(found.gain - best) / best, `case ${i} with ${k} categories`).toBeLessThan(1e-9)
    }
  })

  it('leaves categories with fewer than 10 rows out of the left side, and can split off the missing values', () => {
    const codes = Float64Array.from({ length: 60 }, (_, r) => (r < 25 ? 0 : r < 50 ? 1 : r < 55 ? 2 : Number.NaN))
    const g = Float64Array.from(codes, (c) => (c === 0 ? -1 : c === 1 ? 1 : c === 2 ? -3 : 2))
    const h = Float64Array.from({ length: 60 }, () => 1)
    const split = rootSplit(node([codes], [{ categorical: true, categories: 3 }], g, h), { minSamplesLeaf: 1, minHessian: 1e-3, l2: 0 })
    expect(split.categorical).toBe(true)
    // category 2 (5 rows) and the 5 missing rows are too few to take part: they go right
    expect((split.leftCategories![0]! >>> 2) & 1).toBe(0)
    expect(split.missingLeft).toBe(false)
    const best = noCandidate()
    expect(best.gain).toBe(-Infinity)
  })
})
