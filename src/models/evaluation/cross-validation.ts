// k-fold cross-validation: folds shuffled with a seeded PRNG, stratified by class for classification.
import { MersenneTwister19937, shuffle } from 'random-js'
import { MlskelError } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import type { Dataset, Predictor } from '../contract/types.js'
import { evaluate } from './evaluate.js'

/**
 * The rows of each of `folds` test folds, as sorted row indexes. Rows are shuffled with `seed`; for
 * classification each class is shuffled on its own and dealt round the folds in turn, so every fold holds
 * each class in about its overall share and folds differ in size by at most one.
 */
export function splitFolds(o: { task: Task; folds: number; seed: number; y: readonly (string | number)[] }): number[][] {
  const { folds, y } = o
  if (!Number.isInteger(folds) || folds < 2) {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `cross-validation needs at least 2 folds, got ${folds}`, { where: { file: 'params.yaml', field: 'split.cv_folds' } })
  }
  if (y.length < folds) {
    throw new MlskelError('MLSKEL_DATA_TOO_FEW_ROWS', `${folds}-fold cross-validation needs at least ${folds} rows, got ${y.length}`)
  }
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

/**
 * Train on all folds but one and score on that one, for each fold; the mean of each metric over the folds (a
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
}): Promise<Record<string, number>> {
  const testFolds = splitFolds({ task: o.task, folds: o.folds, seed: o.seed, y: o.data.y })
  const sums: Record<string, { sum: number; folds: number }> = {}
  for (const [fold, test] of testFolds.entries()) {
    o.onFold?.(fold + 1, testFolds.length)
    const inTest = new Set(test)
    const trainRows = o.data.y.map((_, i) => i).filter((i) => !inTest.has(i))
    const predictor = await o.train(pick(o.data, trainRows), fold + 1)
    const scores = evaluate(o.task, predictor, pick(o.data, test))
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
