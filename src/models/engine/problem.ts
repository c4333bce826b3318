// What the engine learns from: feature columns (NaN = missing; a categorical feature holds category codes), a target
// per row (a class index, or a value), optional row weights; and the helpers both learners share.
import type { FeatureKind } from './binning.js'
import { bitsetWords } from './tree.js'
import { shuffleInPlace, type Rng } from './random.js'

export interface TrainingProblem {
  rows: number
  features: number
  /** Per feature, a value per row. */
  columns: readonly Float64Array[]
  kinds: readonly FeatureKind[]
  /** Classification: the class index (0 … classes − 1); regression: the value. */
  target: Float64Array
  /** Per row, or null for all 1. */
  weights: Float64Array | null
}

export interface Progress {
  done: number
  total: number
  unit: 'iterations' | 'trees'
  elapsedMs: number
}

export interface KnownCategories {
  /** Per feature: its categories (0 for numeric). */
  categories: Int32Array
  /** Per categorical feature, at offsets[f]: a bitset of the categories the rows hold. */
  bitsets: Uint32Array
  offsets: Int32Array
}

/** The categories each categorical feature takes in `rows`: the others are "never seen in training". */
export function knownCategories(columns: readonly Float64Array[], kinds: readonly FeatureKind[], rows: Int32Array): KnownCategories {
  const categories = Int32Array.from(kinds, (k) => (k.categorical ? k.categories : 0))
  const offsets = new Int32Array(kinds.length).fill(-1)
  let words = 0
  kinds.forEach((k, f) => {
    if (k.categorical) {
      offsets[f] = words
      words += bitsetWords(k.categories)
    }
  })
  const bitsets = new Uint32Array(words)
  kinds.forEach((k, f) => {
    if (!k.categorical) return
    const column = columns[f]!
    const base = offsets[f]!
    for (let i = 0; i < rows.length; i++) {
      const v = column[rows[i]!]!
      if (v >= 0 && v < k.categories && Number.isInteger(v)) bitsets[base + (v >>> 5)]! |= 1 << (v & 31)
    }
  })
  return { categories, bitsets, offsets }
}

/**
 * Hold out ceil(fraction × rows) of `rows` for validation: for classification (`classes` given) each class in
 * proportion (largest remainders get the rounding), shuffled with `rng`. Both parts in ascending order.
 */
export function validationSplit(rows: Int32Array, fraction: number, classes: Float64Array | null, rng: Rng): { train: Int32Array; validation: Int32Array } {
  const n = rows.length
  const wanted = Math.min(n - 1, Math.max(1, Math.ceil(fraction * n)))
  const groups = new Map<number, number[]>()
  for (let i = 0; i < n; i++) {
    const key = classes ? classes[rows[i]!]! : 0
    const group = groups.get(key)
    if (group) group.push(rows[i]!)
    else groups.set(key, [rows[i]!])
  }
  const keys = [...groups.keys()].sort((a, b) => a - b)
  const exact = keys.map((key) => (groups.get(key)!.length * wanted) / n)
  const take = exact.map(Math.floor)
  let left = wanted - take.reduce((a, b) => a + b, 0)
  const byRemainder = keys.map((_, i) => i).sort((a, b) => exact[b]! - take[b]! - (exact[a]! - take[a]!) || a - b)
  for (const i of byRemainder) {
    if (left <= 0) break
    take[i]!++
    left--
  }
  const validation: number[] = []
  keys.forEach((key, i) => {
    const group = groups.get(key)!
    shuffleInPlace(group, rng)
    validation.push(...group.slice(0, take[i]))
  })
  validation.sort((a, b) => a - b)
  const held = new Set(validation)
  const train = rows.filter((r) => !held.has(r))
  return { train, validation: Int32Array.from(validation) }
}
