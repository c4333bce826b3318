// The losses: gradients and hessians are the loss's derivatives, intercepts minimise the loss, and block sums
// add up the same whoever computed each block.
import { describe, expect, it } from 'vitest'
import { binaryLogLoss, BLOCK, multinomialLogLoss, partialsStride, squaredError, totals, weightedMedian, absoluteError, type Loss } from './losses.js'
import { shouldStop } from './boosting.js'

const rows = (n: number) => Int32Array.from({ length: n }, (_, i) => i)

function gradientsOf(loss: Loss, y: Float64Array, raw: Float64Array, n: number) {
  const K = loss.outputs
  const g = new Float64Array(K * n)
  const h = new Float64Array(K * n)
  const partials = new Float64Array(Math.ceil(n / BLOCK) * partialsStride(K))
  loss.gradients(y, null, rows(n), 0, n, raw, n, g, h, partials)
  return { g, h, totals: totals(partials, Math.ceil(n / BLOCK), K) }
}

describe('gradients and hessians', () => {
  it('are the first and second derivatives of the loss (finite differences), for every loss', () => {
    const eps = 1e-5
    const cases: [Loss, Float64Array, Float64Array][] = [
      [binaryLogLoss, Float64Array.of(0, 1, 1), Float64Array.of(-0.3, 0.2, 2)],
      [squaredError, Float64Array.of(1.5, -2, 0), Float64Array.of(0.5, 1, -1)],
      [multinomialLogLoss(3), Float64Array.of(0, 2, 1), Float64Array.of(0.1, -0.2, 0.3, 1, 0, -1, 0.5, 0.5, 2)],
    ]
    for (const [loss, y, raw] of cases) {
      const n = y.length
      const { g, h } = gradientsOf(loss, y, raw, n)
      for (let i = 0; i < raw.length; i++) {
        const r = i % n
        // the loss of row r alone, at raw with entry i moved by d
        const at = (d: number) => {
          const moved = raw.slice()
          moved[i]! += d
          const K = loss.outputs
          const gathered = Float64Array.from({ length: K }, (_, k) => moved[k * n + r]!)
          return loss.mean(y, null, Int32Array.of(r), gathered)
        }
        expect(g[i]!, `${loss.name} gradient ${i}`).toBeCloseTo((at(eps) - at(-eps)) / (2 * eps), 6)
        // the hessian of the diagonal, as scikit-learn uses it
        expect(h[i]!, `${loss.name} hessian ${i}`).toBeCloseTo((at(eps) - 2 * at(0) + at(-eps)) / (eps * eps), 3)
      }
    }
  })

  it('add up by blocks: the same totals whether one call or several computed the blocks', () => {
    const n = BLOCK * 3 + 17
    const y = Float64Array.from({ length: n }, (_, i) => i % 3)
    const raw = Float64Array.from({ length: 3 * n }, (_, i) => Math.sin(i))
    const loss = multinomialLogLoss(3)
    const whole = gradientsOf(loss, y, raw, n).totals
    const partials = new Float64Array(4 * partialsStride(3))
    const g = new Float64Array(3 * n)
    const h = new Float64Array(3 * n)
    loss.gradients(y, null, rows(n), BLOCK * 2, n, raw, n, g, h, partials)
    loss.gradients(y, null, rows(n), 0, BLOCK * 2, raw, n, g, h, partials)
    const split = totals(partials, 4, 3)
    expect(split.loss).toBe(whole.loss)
    expect(Array.from(split.gradient)).toEqual(Array.from(whole.gradient))
  })
})

describe('baselines', () => {
  it('are the intercepts scikit-learn starts from', () => {
    const y = Float64Array.of(0, 0, 1, 2, 2, 2)
    expect(binaryLogLoss.baseline(Float64Array.of(0, 1, 1, 1), null, rows(4))[0]).toBeCloseTo(Math.log(3), 12)
    const multi = multinomialLogLoss(3).baseline(y, null, rows(6))
    const logs = [Math.log(2 / 6), Math.log(1 / 6), Math.log(3 / 6)]
    const mean = (logs[0]! + logs[1]! + logs[2]!) / 3
    expect(Array.from(multi)).toEqual(logs.map((l) => l - mean))
    expect(squaredError.baseline(Float64Array.of(1, 2, 6), null, rows(3))[0]).toBe(3)
    expect(absoluteError.baseline(Float64Array.of(1, 2, 6, 10), null, rows(4))[0]).toBe(4)
  })

  it('take a weighted median as scikit-learn\'s _weighted_percentile does', () => {
    expect(weightedMedian(Float64Array.of(1, 2, 3), Float64Array.of(1, 1, 5))).toBe(3)
    expect(weightedMedian(Float64Array.of(5, 1), null)).toBe(3)
  })
})

describe('shouldStop', () => {
  it('stops when none of the last n losses improved on the one before them by more than tol', () => {
    expect(shouldStop([1, 0.9, 0.8], 2, 0)).toBe(false)
    expect(shouldStop([1, 0.9, 0.9, 0.9], 2, 0)).toBe(true)
    expect(shouldStop([1, 0.9, 0.89, 0.9], 2, 0.05)).toBe(true)
    expect(shouldStop([1, 0.9], 2, 0)).toBe(false)
  })
})
