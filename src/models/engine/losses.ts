// The losses gradient boosting minimises, as scikit-learn's HistGradientBoosting defines them: their starting
// prediction, their per-row gradient and hessian, and their mean (weighted) value. Raw predictions are logits for
// log loss (one per class for more than two classes, the positive class's for two) and values for regression.

export type LossName = 'log_loss' | 'squared_error' | 'absolute_error'

export interface Loss {
  name: LossName
  /** Raw predictions per row: 1, or the number of classes for multinomial log loss. */
  outputs: number
  /** Whether every hessian is 1 (histograms could skip them; the leaf step uses counts). */
  constantHessian: boolean
  /** The constant raw prediction that minimises the loss on the rows (an intercept-only model). */
  baseline(y: Float64Array, w: Float64Array | null, rows: Int32Array): Float64Array
  /**
   * Gradients and hessians at `raw` for rows[from, to), written at [k * n + row] for output k, and per block of
   * BLOCK rows (from and to are block-aligned, the last block may be short) its sums into `partials`: see PARTIALS.
   */
  gradients(y: Float64Array, w: Float64Array | null, rows: Int32Array, from: number, to: number, raw: Float64Array, n: number, g: Float64Array, h: Float64Array, partials: Float64Array): void
  /** Mean loss of raw predictions `raw` (laid out [k * m + i] for the i-th of `rows`). */
  mean(y: Float64Array, w: Float64Array | null, rows: Int32Array, raw: Float64Array): number
}

const EPS = 2.220446049250313e-16

/**
 * Rows per block of partial sums. Sums over the training rows are added block by block in block order, so they are
 * the same whether one thread or several computed the blocks.
 */
export const BLOCK = 4096

/** Per block in `partials`, at block * partialsStride(outputs): weighted loss, weight, then G per output, H per output. */
export function partialsStride(outputs: number): number {
  return 2 + 2 * outputs
}

export interface GradientTotals {
  /** Mean (weighted) loss at the raw predictions the gradients were taken at. */
  loss: number
  /** Per output: the sums of gradients and of hessians over the rows. */
  gradient: Float64Array
  hessian: Float64Array
}

/** Add up the blocks' partial sums, in block order. */
export function totals(partials: Float64Array, blocks: number, outputs: number): GradientTotals {
  const stride = partialsStride(outputs)
  let loss = 0
  let weight = 0
  const gradient = new Float64Array(outputs)
  const hessian = new Float64Array(outputs)
  for (let b = 0; b < blocks; b++) {
    const o = b * stride
    loss += partials[o]!
    weight += partials[o + 1]!
    for (let k = 0; k < outputs; k++) {
      gradient[k]! += partials[o + 2 + k]!
      hessian[k]! += partials[o + 2 + outputs + k]!
    }
  }
  return { loss: weight > 0 ? loss / weight : 0, gradient, hessian }
}

function weightedMean(values: (i: number) => number, w: Float64Array | null, rows: Int32Array): number {
  let sum = 0
  let total = 0
  for (let i = 0; i < rows.length; i++) {
    const wi = w ? w[rows[i]!]! : 1
    sum += wi * values(i)
    total += wi
  }
  return total > 0 ? sum / total : 0
}

/** log(1 + e^x) without overflow. */
function log1pExp(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

/** Binary log loss on the positive class's logit (y is 0 or 1). */
export const binaryLogLoss: Loss = {
  name: 'log_loss',
  outputs: 1,
  constantHessian: false,
  baseline(y, w, rows) {
    let p = weightedMean((i) => y[rows[i]!]!, w, rows)
    p = Math.min(Math.max(p, 10 * EPS), 1 - 10 * EPS)
    return Float64Array.of(Math.log(p / (1 - p)))
  },
  gradients(y, w, rows, from, to, raw, _n, g, h, partials) {
    for (let start = from; start < to; start += BLOCK) {
      const end = Math.min(start + BLOCK, to)
      let loss = 0
      let total = 0
      let G = 0
      let H = 0
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        const x = raw[r]!
        const yi = y[r]!
        const p = sigmoid(x)
        const wi = w ? w[r]! : 1
        const gi = wi * (p - yi)
        const hi = wi * p * (1 - p)
        g[r] = gi
        h[r] = hi
        G += gi
        H += hi
        loss += wi * (log1pExp(x) - yi * x)
        total += wi
      }
      const o = (start / BLOCK) * 4
      partials[o] = loss
      partials[o + 1] = total
      partials[o + 2] = G
      partials[o + 3] = H
    }
  },
  mean(y, w, rows, raw) {
    return weightedMean((i) => log1pExp(raw[i]!) - y[rows[i]!]! * raw[i]!, w, rows)
  },
}

/** Multinomial log loss (cross-entropy of the softmax) over `classes` logits; y is the class index. */
export function multinomialLogLoss(classes: number): Loss {
  const p = new Float64Array(classes)
  return {
    name: 'log_loss',
    outputs: classes,
    constantHessian: false,
    baseline(y, w, rows) {
      const share = new Float64Array(classes)
      let total = 0
      for (let i = 0; i < rows.length; i++) {
        const wi = w ? w[rows[i]!]! : 1
        share[y[rows[i]!]!]! += wi
        total += wi
      }
      // scikit-learn's intercept: the log of each class's share (clipped), centred on their mean
      let mean = 0
      for (let k = 0; k < classes; k++) {
        share[k] = Math.log(Math.min(Math.max(total > 0 ? share[k]! / total : 0, EPS), 1 - EPS))
        mean += share[k]!
      }
      mean /= classes
      for (let k = 0; k < classes; k++) share[k]! -= mean
      return share
    },
    gradients(y, w, rows, from, to, raw, n, g, h, partials) {
      const stride = partialsStride(classes)
      const sums = new Float64Array(2 * classes)
      for (let start = from; start < to; start += BLOCK) {
        const end = Math.min(start + BLOCK, to)
        let loss = 0
        let total = 0
        sums.fill(0)
        for (let i = start; i < end; i++) {
          const r = rows[i]!
          let max = -Infinity
          for (let k = 0; k < classes; k++) max = Math.max(max, raw[k * n + r]!)
          let sum = 0
          for (let k = 0; k < classes; k++) {
            const e = Math.exp(raw[k * n + r]! - max)
            p[k] = e
            sum += e
          }
          const yi = y[r]!
          const wi = w ? w[r]! : 1
          for (let k = 0; k < classes; k++) {
            const pk = p[k]! / sum
            const gi = wi * (pk - (k === yi ? 1 : 0))
            const hi = wi * pk * (1 - pk)
            g[k * n + r] = gi
            h[k * n + r] = hi
            sums[k]! += gi
            sums[classes + k]! += hi
          }
          loss += wi * (Math.log(sum) + max - raw[yi * n + r]!)
          total += wi
        }
        const o = (start / BLOCK) * stride
        partials[o] = loss
        partials[o + 1] = total
        partials.set(sums, o + 2)
      }
    },
    mean(y, w, rows, raw) {
      const m = rows.length
      return weightedMean(
        (i) => {
          let max = -Infinity
          for (let k = 0; k < classes; k++) max = Math.max(max, raw[k * m + i]!)
          let sum = 0
          for (let k = 0; k < classes; k++) sum += Math.exp(raw[k * m + i]! - max)
          return Math.log(sum) + max - raw[y[rows[i]!]! * m + i]!
        },
        w,
        rows,
      )
    },
  }
}

/** Half squared error, (raw − y)² / 2: gradient raw − y, hessian 1. */
export const squaredError: Loss = {
  name: 'squared_error',
  outputs: 1,
  constantHessian: true,
  baseline(y, w, rows) {
    return Float64Array.of(weightedMean((i) => y[rows[i]!]!, w, rows))
  },
  gradients(y, w, rows, from, to, raw, _n, g, h, partials) {
    for (let start = from; start < to; start += BLOCK) {
      const end = Math.min(start + BLOCK, to)
      let loss = 0
      let total = 0
      let G = 0
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        const d = raw[r]! - y[r]!
        const wi = w ? w[r]! : 1
        g[r] = wi * d
        h[r] = wi
        G += wi * d
        loss += (wi * d * d) / 2
        total += wi
      }
      const o = (start / BLOCK) * 4
      partials[o] = loss
      partials[o + 1] = total
      partials[o + 2] = G
      partials[o + 3] = total
    }
  },
  mean(y, w, rows, raw) {
    return weightedMean((i) => (raw[i]! - y[rows[i]!]!) ** 2 / 2, w, rows)
  },
}

/**
 * Absolute error |raw − y|: gradient sign(raw − y), hessian 1. Its Newton step is meaningless, so after each tree the
 * leaves are set to the median residual of their rows (medianLeafValue), as scikit-learn does.
 */
export const absoluteError: Loss = {
  name: 'absolute_error',
  outputs: 1,
  constantHessian: true,
  baseline(y, w, rows) {
    const values = new Float64Array(rows.length)
    for (let i = 0; i < rows.length; i++) values[i] = y[rows[i]!]!
    return Float64Array.of(weightedMedian(values, w ? Float64Array.from(rows, (r) => w[r]!) : null))
  },
  gradients(y, w, rows, from, to, raw, _n, g, h, partials) {
    for (let start = from; start < to; start += BLOCK) {
      const end = Math.min(start + BLOCK, to)
      let loss = 0
      let total = 0
      let G = 0
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        const d = raw[r]! - y[r]!
        const wi = w ? w[r]! : 1
        const gi = wi * (d > 0 ? 1 : d < 0 ? -1 : 0)
        g[r] = gi
        h[r] = wi
        G += gi
        loss += wi * Math.abs(d)
        total += wi
      }
      const o = (start / BLOCK) * 4
      partials[o] = loss
      partials[o + 1] = total
      partials[o + 2] = G
      partials[o + 3] = total
    }
  },
  mean(y, w, rows, raw) {
    return weightedMean((i) => Math.abs(raw[i]! - y[rows[i]!]!), w, rows)
  },
}

/**
 * The median of `values` (numpy's: the mean of the two middle values of an even count), or with weights the
 * weighted 50th percentile (scikit-learn's _weighted_percentile: the smallest value whose cumulative weight reaches
 * half the total).
 */
export function weightedMedian(values: Float64Array, w: Float64Array | null): number {
  const n = values.length
  if (n === 0) return 0
  if (!w) {
    const sorted = values.slice().sort()
    return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b)
  let total = 0
  for (let i = 0; i < n; i++) total += w[i]!
  let cumulative = 0
  for (const i of order) {
    cumulative += w[i]!
    if (cumulative >= total / 2) return values[i]!
  }
  return values[order[n - 1]!]!
}

export function lossFor(name: LossName, classes: number): Loss {
  if (name === 'log_loss') return classes > 2 ? multinomialLogLoss(classes) : binaryLogLoss
  return name === 'squared_error' ? squaredError : absoluteError
}
