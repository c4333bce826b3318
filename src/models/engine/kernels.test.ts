// The WebAssembly kernels: the committed module is what kernels.wat assembles to, and each kernel computes what
// its plain JavaScript definition does, to the bit.
import { readFileSync } from 'node:fs'
import { MersenneTwister19937, integer, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import { Arena } from './arena.js'
import { assembleKernels } from './test-kernels.js'

describe('kernels-wasm.ts', () => {
  it('is what `npm run kernels` makes of kernels.wat (run it after editing the .wat)', async () => {
    const source = readFileSync(new URL('./kernels.wat', import.meta.url), 'utf8')
    const committed = readFileSync(new URL('./kernels-wasm.ts', import.meta.url), 'utf8')
    expect(committed).toBe(await assembleKernels(source))
  })
})

/** An arena with random bins (some missing), gradients, hessians and a shuffled row subset. */
function setup(rows: number, features: number, seed: number) {
  const engine = MersenneTwister19937.seed(seed)
  const arena = Arena.create(rows * features + rows * 40 + features * 256 * 24 * 3)
  const bins = arena.u8(rows * features)
  for (let i = 0; i < bins.view.length; i++) bins.view[i] = integer(0, 9)(engine) === 0 ? 255 : integer(0, 254)(engine)
  const g = arena.f64(rows)
  const h = arena.f64(rows)
  for (let r = 0; r < rows; r++) {
    g.view[r] = real(-1, 1)(engine)
    h.view[r] = real(0, 0.25)(engine)
  }
  const index = arena.i32(rows)
  const chosen = Array.from({ length: rows }, (_, r) => r).filter(() => integer(0, 2)(engine) > 0)
  index.view.set(chosen)
  return { arena, bins, g, h, index, count: chosen.length }
}

describe('build', () => {
  it('sums gradients, hessians and rows per bin as a plain loop does, for blocks of 4 features and the rest', () => {
    for (const features of [1, 3, 4, 7, 9]) {
      const rows = 997
      const { arena, bins, g, h, index, count } = setup(rows, features, features)
      const width = 256 * 24
      const lo = features > 4 ? 1 : 0 // a shard that does not start at feature 0
      const hist = arena.f64(((features - lo) * width) / 8)
      arena.kernels.build(bins.ptr, rows, index.ptr, 5, count, g.ptr, h.ptr, hist.ptr, lo, features, width)
      const expected = new Float64Array(hist.view.length)
      for (let f = lo; f < features; f++) {
        for (let i = 5; i < count; i++) {
          const r = index.view[i]!
          const k = (f - lo) * 768 + bins.view[f * rows + r]! * 3
          expected[k]! += g.view[r]!
          expected[k + 1]! += h.view[r]!
          expected[k + 2]!++
        }
      }
      expect(Array.from(hist.view)).toEqual(Array.from(expected))
    }
  })
})

describe('build_constant', () => {
  it('sums gradients and rows as build does, and leaves the hessian slots alone (the rows stand for them)', () => {
    const rows = 700
    const { arena, bins, g, h, index, count } = setup(rows, 6, 9)
    const width = 256 * 24
    const full = arena.f64((6 * width) / 8)
    const constant = arena.f64((6 * width) / 8)
    arena.kernels.build(bins.ptr, rows, index.ptr, 0, count, g.ptr, h.ptr, full.ptr, 0, 6, width)
    arena.kernels.build_constant(bins.ptr, rows, index.ptr, 0, count, g.ptr, h.ptr, constant.ptr, 0, 6, width)
    for (let i = 0; i < full.view.length; i++) expect(constant.view[i], `slot ${i}`).toBe(i % 3 === 1 ? 0 : full.view[i])
  })
})

describe('subtract and zero', () => {
  it('subtracts element by element, an odd count included, and zeroes', () => {
    const arena = Arena.create(4096)
    for (const count of [0, 1, 2, 7, 768]) {
      const a = arena.f64(count)
      const b = arena.f64(count)
      for (let i = 0; i < count; i++) {
        a.view[i] = i * 1.5 + 0.1
        b.view[i] = i * 0.25
      }
      const expected = Array.from(a.view, (v, i) => v - b.view[i]!)
      arena.kernels.subtract(a.ptr, b.ptr, count)
      expect(Array.from(a.view)).toEqual(expected)
      arena.kernels.zero(a.ptr, count * 8)
      expect(a.view.every((v) => v === 0)).toBe(true)
    }
  })
})

describe('partition', () => {
  it('puts the rows whose bin the table marks first, each side in its order, and returns the boundary', () => {
    const { arena, bins, index, count } = setup(500, 2, 3)
    const table = arena.u8(256)
    for (let b = 0; b < 256; b++) table.view[b] = b % 3 === 0 || b === 255 ? 1 : 0
    const scratch = arena.i32(500)
    const before = Array.from(index.view.subarray(10, count))
    const column = bins.view.subarray(500, 1000) // feature 1
    const mid = arena.kernels.partition(index.ptr, 10, count, bins.ptr + 500, table.ptr, scratch.ptr)
    const left = before.filter((r) => table.view[column[r]!] === 1)
    const right = before.filter((r) => table.view[column[r]!] === 0)
    expect(mid).toBe(10 + left.length)
    expect(Array.from(index.view.subarray(10, count))).toEqual([...left, ...right])
  })
})

describe('add_leaf', () => {
  it('adds the value to raw[row] for the rows index[start, end) holds, and to no other', () => {
    const { arena, g, index, count } = setup(400, 1, 5)
    const expected = Float64Array.from(g.view)
    const rows = index.view.subarray(7, count - 3)
    for (const r of rows) expected[r]! += 0.1
    arena.kernels.add_leaf(index.ptr, 7, count - 3, g.ptr, 0.1)
    expect(Array.from(g.view)).toEqual(Array.from(expected))
    expect(rows.length).toBeGreaterThan(200)
  })
})

describe('Arena', () => {
  it('grows when an allocation does not fit, keeping what was there and the views made before', () => {
    const arena = Arena.create(1000)
    const first = arena.f64(10)
    first.view.fill(7)
    const big = arena.u8(4 * 65536)
    big.view[big.view.length - 1] = 1
    expect(first.view.every((v) => v === 7)).toBe(true)
    expect(new Uint8Array(arena.memory.buffer)[big.ptr + big.view.length - 1]).toBe(1)
    expect(big.ptr % 16).toBe(0)
  })
})
