// Small data sets for the model tests, made from a seeded PRNG: separable clusters and a noisy linear target.
import { MersenneTwister19937, real } from 'random-js'
import type { Dataset, Signature } from './contract/types.js'

const noise = real(-1, 1)

/** Three well separated clusters of `perClass` rows in 4 features, labelled 'a', 'b', 'c'. */
export function clusters(perClass = 40, seed = 1): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const centres: [string, number[]][] = [
    ['a', [0, 0, 0, 0]],
    ['b', [6, 6, 0, 0]],
    ['c', [0, 6, 6, 6]],
  ]
  const X: number[][] = []
  const y: string[] = []
  for (let i = 0; i < perClass; i++) {
    for (const [label, centre] of centres) {
      X.push(centre.map((c) => c + noise(engine) * 1.5))
      y.push(label)
    }
  }
  return { data: { X, y }, signature: { features: ['f0', 'f1', 'f2', 'f3'].map((name) => ({ name, type: 'number' as const })), target: { name: 'label', type: 'category', classes: ['a', 'b', 'c'] } } }
}

/** y = 3·x0 + 2·x1 − x2 plus a little noise, x uniform in [0, 10). */
export function linear(rows = 150, seed = 2): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const X = Array.from({ length: rows }, () => [0, 1, 2].map(() => real(0, 10)(engine)))
  const y = X.map(([a, b, c]) => 3 * a! + 2 * b! - c! + noise(engine) * 0.5)
  return { data: { X, y }, signature: { features: ['x0', 'x1', 'x2'].map((name) => ({ name, type: 'number' as const })), target: { name: 'y', type: 'number' } } }
}

/** Every `k`-th row to the test split, the rest to train. */
export function split(data: Dataset, k = 4): { train: Dataset; test: Dataset } {
  const train: Dataset = { X: [], y: [] }
  const test: Dataset = { X: [], y: [] }
  data.X.forEach((row, i) => {
    const into = i % k === 0 ? test : train
    into.X.push(row)
    into.y.push(data.y[i]!)
  })
  return { train, test }
}
