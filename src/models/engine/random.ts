// Seeded randomness for the engine: random-js's Mersenne Twister, one independent stream per purpose (the binning
// subsample, each tree, the validation split), so that what a tree draws never depends on which thread grows it or
// in which order trees finish.
import { MersenneTwister19937 } from 'random-js'

export interface Rng {
  /** The next 32 random bits, as a signed int32. */
  next(): number
}

/** Streams, so that two purposes never share draws. */
export const STREAM = { binning: 1, validation: 2, tree: 1000 } as const

/** The stream `stream` of `seed` (both whole numbers in [0, 2^32)). */
export function rngFor(seed: number, stream: number): Rng {
  return MersenneTwister19937.seedWithArray([seed >>> 0, stream >>> 0, 0x6d6c736b /* "mlsk" */])
}

/**
 * A whole number in [0, n), without modulo bias (rejection of the top partial range). random-js's own distributions
 * build a closure per call; this sits in the trees' inner loops.
 */
export function uniformInt(rng: Rng, n: number): number {
  if (n <= 1) return 0
  const limit = 0x100000000 - (0x100000000 % n)
  for (;;) {
    const x = rng.next() >>> 0
    if (x < limit) return x % n
  }
}

/** A uniform double in [0, 1), from 53 random bits. */
export function uniform01(rng: Rng): number {
  const hi = (rng.next() >>> 5) * 67108864 // 27 bits, shifted up by 26
  const lo = rng.next() >>> 6 // 26 bits
  return (hi + lo) / 9007199254740992
}

/** Shuffle in place (Fisher–Yates). */
export function shuffleInPlace(values: Int32Array | number[], rng: Rng): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = uniformInt(rng, i + 1)
    const t = values[i]!
    values[i] = values[j]!
    values[j] = t
  }
}

/** `k` of `values`, drawn without replacement, in ascending order of position in `values`. */
export function sampleWithoutReplacement(values: Int32Array, k: number, rng: Rng): Int32Array {
  const n = values.length
  if (k >= n) return values.slice()
  const positions = new Int32Array(n)
  for (let i = 0; i < n; i++) positions[i] = i
  for (let i = 0; i < k; i++) {
    const j = i + uniformInt(rng, n - i)
    const t = positions[i]!
    positions[i] = positions[j]!
    positions[j] = t
  }
  const chosen = positions.subarray(0, k).sort()
  const out = new Int32Array(k)
  for (let i = 0; i < k; i++) out[i] = values[chosen[i]!]!
  return out
}
