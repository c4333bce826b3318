// Binning: per-feature bin edges fitted on the training rows, and the rows mapped to one byte per value.
//
// As scikit-learn's HistGradientBoosting (and LightGBM) do: a numeric feature with at most `maxBins` distinct values
// gets a bin per value, edges at the midpoints between neighbours; one with more gets `maxBins` bins of about
// equal counts, edges at the quantile midpoints of (a subsample of) the training values. A categorical feature's
// bin is its category code. Missing values (NaN) get a bin of their own, `maxBins`, whatever the feature.
//
// Binned data is column-major (feature f's rows at [f * rows, (f + 1) * rows)), a byte per value, written where the
// caller says (boosting: into its WebAssembly arena, which worker threads share).
import { sampleWithoutReplacement, type Rng } from './random.js'

/** Non-missing values' bins are 0 … maxBins − 1; the missing bin is maxBins, so a bin always fits in a byte. */
export const MAX_BINS_LIMIT = 255

/** Above this many training rows, numeric edges come from a random subsample of them (scikit-learn's 2e5). */
export const QUANTILE_SUBSAMPLE = 200_000

/** Edges are clipped here so that +Infinity always falls in the last bin (scikit-learn's ALMOST_INF). */
const ALMOST_INF = 1e300

export type FeatureKind = { categorical: false } | { categorical: true; categories: number }

export interface FeatureBins {
  categorical: boolean
  /**
   * Numeric: ascending upper edges; a value v is in the first bin b with v <= edges[b], or in bin edges.length when
   * above them all. Categorical: empty.
   */
  edges: Float64Array
  /** Bins non-missing values use: edges.length + 1 (numeric), or the number of categories (categorical). */
  bins: number
  /**
   * Numeric features with at most maxBins distinct values: the value of each bin (so that a split between two bins
   * can sit halfway between the values, as an exact search puts it). Null otherwise.
   */
  values: Float64Array | null
  /** Whether the training rows had a missing value in this feature. */
  hasMissing: boolean
}

export interface BinMapper {
  maxBins: number
  /** The missing values' bin (= maxBins). */
  missingBin: number
  features: FeatureBins[]
}

export interface BinnedData {
  /** Rows of the source columns (all of them, also those left out of the fit). */
  rows: number
  features: number
  /** Column-major bins: feature f, row r at f * rows + r. */
  bins: Uint8Array
}

/**
 * Fit bin edges for each feature on `trainRows` of `columns` (NaN = missing). Deterministic: the same values, rows
 * and `rng` state give the same edges. Categorical features take their codes as bins: a code must be a whole number
 * in [0, categories), which the caller has checked.
 */
export function fitBins(columns: readonly Float64Array[], kinds: readonly FeatureKind[], trainRows: Int32Array, maxBins: number, rng: Rng): BinMapper {
  checkMaxBins(maxBins)
  const sample = quantileSample(trainRows, rng)
  return { maxBins, missingBin: maxBins, features: columns.map((column, f) => fitFeature(column, kinds[f]!, trainRows, sample, maxBins)) }
}

export function checkMaxBins(maxBins: number): void {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS_LIMIT) throw new RangeError(`maxBins must be a whole number in [2, ${MAX_BINS_LIMIT}], got ${maxBins}`)
}

/** The rows numeric edges are fitted on: all training rows, or one subsample of them for every feature (as scikit-learn draws it). */
export function quantileSample(trainRows: Int32Array, rng: Rng): Int32Array {
  return trainRows.length > QUANTILE_SUBSAMPLE ? sampleWithoutReplacement(trainRows, QUANTILE_SUBSAMPLE, rng) : trainRows
}

/** One feature's bins: from the training rows (missing values) and the quantile sample (edges). */
export function fitFeature(column: Float64Array, kind: FeatureKind, trainRows: Int32Array, sample: Int32Array, maxBins: number): FeatureBins {
  const hasMissing = anyMissing(column, trainRows)
  if (kind.categorical) return { categorical: true, edges: new Float64Array(0), bins: kind.categories, hasMissing, values: null }
  const { edges, values } = numericEdges(column, sample, maxBins)
  return { categorical: false, edges, bins: edges.length + 1, hasMissing, values }
}

function anyMissing(column: Float64Array, rows: Int32Array): boolean {
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i]!]!
    if (v !== v) return true
  }
  return false
}

/**
 * Upper edges of a numeric feature's bins, from the non-missing values of `rows`; and, when those values are at
 * most maxBins distinct ones, the value of each bin.
 */
export function numericEdges(column: Float64Array, rows: Int32Array, maxBins: number): { edges: Float64Array; values: Float64Array | null } {
  const values = new Float64Array(rows.length)
  let n = 0
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i]!]!
    if (v === v) values[n++] = v === 0 ? 0 : v // -0 and 0 are one value
  }
  const sorted = values.subarray(0, n).sort()
  const distinct: number[] = []
  for (let i = 0; i < n && distinct.length <= maxBins; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!)
  if (distinct.length <= maxBins) {
    const edges = new Float64Array(Math.max(0, distinct.length - 1))
    for (let i = 0; i + 1 < distinct.length; i++) {
      const a = distinct[i]!
      const b = distinct[i + 1]!
      const mid = midpoint(a, b)
      // Between two adjacent doubles the midpoint rounds to one of them; it must stay below b so b is in the next bin.
      edges[i] = Math.min(mid < b ? mid : a, ALMOST_INF)
    }
    return { edges, values: Float64Array.from(distinct) }
  }
  // Too many distinct values: the quantile midpoints (numpy's percentile with method="midpoint").
  const raw: number[] = []
  for (let i = 1; i < maxBins; i++) {
    const k = (i / maxBins) * (n - 1)
    const edge = Math.min(midpoint(sorted[Math.floor(k)]!, sorted[Math.ceil(k)]!), ALMOST_INF)
    // equal quantiles give empty bins: keep one edge of each value
    if (raw.length === 0 || edge > raw[raw.length - 1]!) raw.push(edge)
  }
  return { edges: Float64Array.from(raw), values: null }
}

/** (a + b) / 2 without overflowing for values near ±Number.MAX_VALUE. */
function midpoint(a: number, b: number): number {
  const mid = (a + b) / 2
  return Number.isFinite(mid) ? mid : a / 2 + b / 2
}

/** The bin of a numeric value: the first b with v <= edges[b] (binary search), edges.length above them all. */
export function numericBin(edges: Float64Array, v: number): number {
  let lo = 0
  let hi = edges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (v <= edges[mid]!) hi = mid
    else lo = mid + 1
  }
  return lo
}

/**
 * Map every row of `columns` to its bins, into `out` (rows × features bytes; a fresh array when absent). A
 * categorical code outside the mapper's categories (never the case for checked training data) is binned as missing.
 */
export function applyBins(mapper: BinMapper, columns: readonly Float64Array[], out?: Uint8Array): BinnedData {
  const rows = columns[0]?.length ?? 0
  const features = columns.length
  const bins = out ?? new Uint8Array(rows * features)
  if (bins.length !== rows * features) throw new RangeError(`binned data needs ${rows * features} bytes, got ${bins.length}`)
  for (let f = 0; f < features; f++) binFeature(columns[f]!, mapper.features[f]!, mapper.missingBin, bins.subarray(f * rows, (f + 1) * rows))
  return { rows, features, bins }
}

/** One feature's values as bins, into `into` (a byte per row). */
export function binFeature(column: Float64Array, info: FeatureBins, missing: number, into: Uint8Array): void {
  const rows = column.length
  if (info.categorical) {
    const k = info.bins
    for (let r = 0; r < rows; r++) {
      const v = column[r]!
      into[r] = v >= 0 && v < k && Number.isInteger(v) ? v : missing
    }
    return
  }
  // a branch-free search over the edges padded to 256 with +∞: eight steps whose direction the CPU need not
  // guess (2.4× faster than a binary search with branches, whose every step is a coin toss on real data)
  const pad = new Float64Array(256).fill(Infinity)
  pad.set(info.edges)
  for (let r = 0; r < rows; r++) {
    const v = column[r]!
    if (v !== v) {
      into[r] = missing
      continue
    }
    let b = +(pad[127]! < v) << 7
    b += +(pad[b + 63]! < v) << 6
    b += +(pad[b + 31]! < v) << 5
    b += +(pad[b + 15]! < v) << 4
    b += +(pad[b + 7]! < v) << 3
    b += +(pad[b + 3]! < v) << 2
    b += +(pad[b + 1]! < v) << 1
    b += +(pad[b]! < v)
    into[r] = b
  }
}
