// k-fold cross-validation: folds shuffled with a seeded PRNG, stratified by class for classification; or, when the
// split keeps time or groups apart, forward-chained folds in time order, or whole groups per fold.
import { MersenneTwister19937, shuffle } from 'random-js'
import { MlskelError } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import type { Dataset, Predictor } from '../contract/types.js'
import { evaluateOnce } from './evaluate.js'

/**
 * The rows of each of `folds` test folds, as sorted row indexes. Rows are shuffled with `seed`; for
 * classification each class is shuffled on its own and dealt round the folds in turn, so every fold holds
 * each class in about its overall share and folds differ in size by at most one.
 */
export function splitFolds(o: { task: Task; folds: number; seed: number; y: readonly (string | number)[] }): number[][] {
  const { folds, y } = o
  checkFolds(folds, y.length, folds)
  const engine = MersenneTwister19937.seed(o.seed)
  let order: number[]
  if (o.task === 'classification') {
    const byClass = new Map<string | number, number[]>()
    y.forEach((label, i) => {
      const rows = byClass.get(label)
      if (rows) rows.push(i)
      else byClass.set(label, [i])
    })
    // Classes in a fixed order (by first appearance), each shuffled, then dealt as one sequence.
    order = [...byClass.values()].flatMap((rows) => shuffle(engine, rows))
  } else {
    order = shuffle(engine, y.map((_, i) => i))
  }
  const result = Array.from({ length: folds }, () => [] as number[])
  order.forEach((row, i) => result[i % folds]!.push(row))
  return result.map((rows) => rows.sort((a, b) => a - b))
}

/** How the folds keep rows apart: by class (stratified, classification) or not (random); in time; by group. */
export type FoldStrategy = { kind: 'random' | 'stratified' } | { kind: 'time'; time: readonly number[] } | { kind: 'group'; groups: readonly (string | number | null)[] }

/** One fold: the rows to train on and to score on, as sorted row indexes. */
export interface Fold {
  train: number[]
  test: number[]
}

/**
 * The folds of a cross-validation. random and stratified: each fold scores on one of splitFolds' folds and trains on
 * the others. time (`time[i]`: row i's time, NaN first): rows in time order cut into folds + 1 blocks, fold k
 * training on blocks 0..k and scoring on block k + 1 (scikit-learn's TimeSeriesSplit), so no fold learns from its
 * future. group: whole groups dealt to folds (shuffled with `seed`, then each to the fold with the fewest rows, as
 * GroupKFold balances them), so a group's rows are never on both sides.
 */
export function foldsOf(o: { task: Task; folds: number; seed: number; y: readonly (string | number)[]; strategy?: FoldStrategy }): Fold[] {
  const { folds, y } = o
  const strategy = o.strategy ?? { kind: o.task === 'classification' ? 'stratified' : 'random' }
  const all = y.map((_, i) => i)
  const complement = (test: readonly number[]) => {
    const inTest = new Set(test)
    return all.filter((i) => !inTest.has(i))
  }
  if (strategy.kind === 'time') {
    checkFolds(folds, y.length, folds + 1)
    const order = [...all].sort((a, b) => timeKey(strategy.time[a]!) - timeKey(strategy.time[b]!) || a - b)
    const blocks = Array.from({ length: folds + 1 }, (_, k) => order.slice(Math.floor((k * order.length) / (folds + 1)), Math.floor(((k + 1) * order.length) / (folds + 1))))
    return Array.from({ length: folds }, (_, k) => ({ train: blocks.slice(0, k + 1).flat().sort((a, b) => a - b), test: [...blocks[k + 1]!].sort((a, b) => a - b) }))
  }
  if (strategy.kind === 'group') {
    const byGroup = new Map<string, number[]>()
    strategy.groups.forEach((g, i) => {
      const key = g === null ? '\u0000missing' : `${typeof g}:${g}`
      const rows = byGroup.get(key)
      if (rows) rows.push(i)
      else byGroup.set(key, [i])
    })
    if (byGroup.size < folds) {
      throw new MlskelError('MLSKEL_DATA_TOO_FEW_ROWS', `${folds}-fold cross-validation by group needs at least ${folds} groups in the training rows, got ${byGroup.size}`, {
        where: { file: 'params.yaml', field: 'split.cv_folds' },
      })
    }
    const groups = shuffle(MersenneTwister19937.seed(o.seed), [...byGroup.values()])
    const tests = Array.from({ length: folds }, () => [] as number[])
    for (const rows of groups) tests.reduce((small, fold) => (fold.length < small.length ? fold : small)).push(...rows)
    return tests.map((test) => ({ train: complement(test), test: test.sort((a, b) => a - b) }))
  }
  const task = strategy.kind === 'stratified' ? o.task : 'regression'
  return splitFolds({ task, folds, seed: o.seed, y }).map((test) => ({ train: complement(test), test }))
}

const timeKey = (t: number) => (Number.isNaN(t) ? -Infinity : t)

function checkFolds(folds: number, rows: number, needed: number): void {
  if (!Number.isInteger(folds) || folds < 2) {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `cross-validation needs at least 2 folds, got ${folds}`, { where: { file: 'params.yaml', field: 'split.cv_folds' } })
  }
  if (rows < needed) throw new MlskelError('MLSKEL_DATA_TOO_FEW_ROWS', `${folds}-fold cross-validation needs at least ${needed} rows, got ${rows}`)
}

/**
 * Train on all folds but one and score on that one, for each fold (or, by `strategy`, on the folds foldsOf makes); the mean of each metric over the folds (a
 * metric undefined on a fold, such as roc_auc on a fold without one of the classes, is left out of that fold's mean).
 * `onFold` hears when each fold starts, for progress.
 */
export async function crossValidate(o: {
  task: Task
  folds: number
  seed: number
  data: Dataset
  train: (data: Dataset, fold: number) => Predictor | Promise<Predictor>
  onFold?: (fold: number, of: number) => void
  /** How folds keep rows apart; default: stratified for classification, random for regression. */
  strategy?: FoldStrategy
}): Promise<Record<string, number>> {
  const folds = foldsOf({ task: o.task, folds: o.folds, seed: o.seed, y: o.data.y, ...(o.strategy ? { strategy: o.strategy } : {}) })
  const sums: Record<string, { sum: number; folds: number }> = {}
  for (const [fold, { train: trainRows, test }] of folds.entries()) {
    o.onFold?.(fold + 1, folds.length)
    const predictor = await o.train(pick(o.data, trainRows), fold + 1)
    const scores = await evaluateOnce(o.task, predictor, pick(o.data, test))
    for (const [metric, value] of Object.entries(scores)) {
      if (!Number.isFinite(value)) continue
      const entry = (sums[metric] ??= { sum: 0, folds: 0 })
      entry.sum += value
      entry.folds++
    }
  }
  return Object.fromEntries(Object.entries(sums).map(([metric, { sum, folds }]) => [metric, sum / folds]))
}

function pick(data: Dataset, rows: readonly number[]): Dataset {
  return { X: rows.map((i) => data.X[i]!), y: rows.map((i) => data.y[i]!) }
}
