// Scores of a predictor on labelled data, with scikit-learn's semantics, and the ancestor's rule for how scores
// are named in a metadata record.
import { ConfusionMatrix } from 'ml-confusion-matrix'
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import type { Task } from '../params/index.js'
import type { Dataset, Predictor } from './types.js'

/** Metric names a record may hold (beyond custom_*), as scikit-learn names them. */
export const KNOWN_METRICS = [
  'accuracy',
  'balanced_accuracy',
  'precision_macro',
  'recall_macro',
  'f1_macro',
  'f1_weighted',
  'log_loss',
  'roc_auc',
  'r2',
  'explained_variance',
  'mean_squared_error',
  'root_mean_squared_error',
  'mean_absolute_error',
  'median_absolute_error',
  'mean_absolute_percentage_error',
  'max_error',
] as const

export const KNOWN_SPLITS = ['cv', 'hold_out'] as const

/** A metric name: a known one or custom_*. The metadata schema uses it too. */
export const METRIC_NAME_PATTERN = new RegExp(`^(${KNOWN_METRICS.join('|')}|custom_[A-Za-z0-9_]+)$`)
export const SPLIT_NAME_PATTERN = new RegExp(`^(${KNOWN_SPLITS.join('|')}|custom_[A-Za-z0-9_]+)$`)

/** { metric: { split: value } }, e.g. { accuracy: { cv: 0.95, hold_out: 0.93 } }. */
export type Scores = Record<string, Record<string, number>>

/** Probabilities are clipped to [EPS, 1 - EPS] before the log, as scikit-learn did (eps=1e-15). */
const EPS = 1e-15

export function accuracy(yTrue: readonly (string | number)[], yPred: readonly (string | number)[]): number {
  sameLength(yTrue, yPred)
  return ConfusionMatrix.fromLabels([...yTrue], [...yPred]).getAccuracy()
}

/**
 * Unweighted mean of per-class F1 over the labels seen in either yTrue or yPred (scikit-learn's
 * f1_score(average='macro')); a class with no true or predicted member scores 0.
 */
export function f1Macro(yTrue: readonly (string | number)[], yPred: readonly (string | number)[]): number {
  sameLength(yTrue, yPred)
  const matrix = ConfusionMatrix.fromLabels([...yTrue], [...yPred])
  const labels = matrix.getLabels()
  if (labels.length === 0) return 0
  let sum = 0
  for (const label of labels) {
    const tp = matrix.getTruePositiveCount(label)
    const denominator = 2 * tp + matrix.getFalsePositiveCount(label) + matrix.getFalseNegativeCount(label)
    sum += denominator === 0 ? 0 : (2 * tp) / denominator
  }
  return sum / labels.length
}

/** Mean negative log-likelihood of the true class; `proba` rows are in `classes` order. */
export function logLoss(yTrue: readonly (string | number)[], proba: readonly (readonly number[])[], classes: readonly (string | number)[]): number {
  sameLength(yTrue, proba)
  if (yTrue.length === 0) return 0
  const index = new Map(classes.map((c, i) => [c, i]))
  let sum = 0
  yTrue.forEach((label, row) => {
    const i = index.get(label)
    // A label the model never knew gets the smallest probability, as a clipped zero would.
    const p = i === undefined ? 0 : (proba[row]![i] ?? 0)
    sum -= Math.log(Math.min(1 - EPS, Math.max(EPS, p)))
  })
  return sum / yTrue.length
}

/** Coefficient of determination; as scikit-learn, 1 for a perfect fit of a constant target, 0 otherwise. */
export function r2(yTrue: readonly number[], yPred: readonly number[]): number {
  sameLength(yTrue, yPred)
  const mean = yTrue.reduce((a, b) => a + b, 0) / yTrue.length
  let residual = 0
  let total = 0
  yTrue.forEach((y, i) => {
    residual += (y - yPred[i]!) ** 2
    total += (y - mean) ** 2
  })
  if (total === 0) return residual === 0 ? 1 : 0
  return 1 - residual / total
}

export function meanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  sameLength(yTrue, yPred)
  return yTrue.reduce((sum, y, i) => sum + (y - yPred[i]!) ** 2, 0) / yTrue.length
}

export function meanAbsoluteError(yTrue: readonly number[], yPred: readonly number[]): number {
  sameLength(yTrue, yPred)
  return yTrue.reduce((sum, y, i) => sum + Math.abs(y - yPred[i]!), 0) / yTrue.length
}

/**
 * The task's standard metrics of `predictor` on `data`. Classification: accuracy, f1_macro and log_loss (when
 * the predictor gives probabilities); regression: r2, mean_squared_error, mean_absolute_error.
 */
export function evaluate(task: Task, predictor: Predictor, data: Dataset): Record<string, number> {
  const predicted = predictor.predict(data.X)
  if (task === 'classification') {
    const scores: Record<string, number> = { accuracy: accuracy(data.y, predicted), f1_macro: f1Macro(data.y, predicted) }
    const target = predictor.signature.target
    if (predictor.predictProba && target.type === 'category') scores.log_loss = logLoss(data.y, predictor.predictProba(data.X), target.classes)
    return scores
  }
  const yTrue = data.y.map(Number)
  const yPred = predicted.map(Number)
  return { r2: r2(yTrue, yPred), mean_squared_error: meanSquaredError(yTrue, yPred), mean_absolute_error: meanAbsoluteError(yTrue, yPred) }
}

/** { cv: { accuracy: .9 }, hold_out: { accuracy: .8 } } → { accuracy: { cv: .9, hold_out: .8 } }. */
export function combineScores(splits: Record<string, Record<string, number>>): Scores {
  const scores: Scores = {}
  for (const [split, metrics] of Object.entries(splits)) {
    for (const [metric, value] of Object.entries(metrics)) (scores[metric] ??= {})[split] = value
  }
  return scores
}

/** The ancestor's rule: known metric names or custom_*, splits cv, hold_out or custom_*; numbers only. */
export function validateScores(scores: Scores): void {
  if (typeof scores !== 'object' || scores === null || Array.isArray(scores)) {
    throw new MlskelError('MLSKEL_METRIC_UNKNOWN', `scores must be an object of { metric: { split: number } }, got ${quote(scores)}`, { where: { field: 'scores' } })
  }
  for (const [metric, splits] of Object.entries(scores)) {
    if (!METRIC_NAME_PATTERN.test(metric)) {
      throw new MlskelError('MLSKEL_METRIC_UNKNOWN', `unknown metric ${quote(metric)}.${didYouMean(metric, KNOWN_METRICS)} Known: ${KNOWN_METRICS.join(', ')}, or any custom_*`, { where: { field: `scores.${metric}` } })
    }
    if (typeof splits !== 'object' || splits === null || Array.isArray(splits)) {
      throw new MlskelError('MLSKEL_METRIC_UNKNOWN', `metric ${quote(metric)} must map splits to numbers, got ${quote(splits)}`, { where: { field: `scores.${metric}` } })
    }
    for (const [split, value] of Object.entries(splits)) {
      if (!SPLIT_NAME_PATTERN.test(split)) {
        throw new MlskelError('MLSKEL_METRIC_UNKNOWN', `unknown split ${quote(split)} for metric ${quote(metric)}.${didYouMean(split, KNOWN_SPLITS)} Known: cv, hold_out, or any custom_*`, { where: { field: `scores.${metric}.${split}` } })
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new MlskelError('MLSKEL_METRIC_UNKNOWN', `score ${metric}.${split} must be a finite number, got ${quote(value)}`, { where: { field: `scores.${metric}.${split}` }, fix: 'Record only finite numbers as scores.' })
      }
    }
  }
}

function sameLength(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`expected as many predictions as true values, got ${b.length} and ${a.length}`)
}

