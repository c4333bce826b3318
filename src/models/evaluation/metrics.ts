// Scores of a predictor on labelled data, with scikit-learn 1.2's semantics, and the ancestor's rule for how scores
// are named in a metadata record.
//
// Labels are compared with ===, so 1 and '1' are two labels (scikit-learn refuses such a mix). Every function is
// O(n log n) or better: they run on hold-out sets of 200,000 rows.
import { MlskelError, didYouMean, quote } from '../../errors/index.js'

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
  'average_precision',
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

type Label = string | number

/** Share of rows predicted right; NaN for no rows (scikit-learn: the mean of an empty slice). */
export function accuracy(yTrue: readonly Label[], yPred: readonly Label[]): number {
  sameLength(yTrue, yPred)
  const { tp } = countLabels(yTrue, yPred)
  return tp.reduce((a, b) => a + b, 0) / yTrue.length
}

/**
 * Unweighted mean of per-class F1 over the labels seen in either yTrue or yPred (scikit-learn's
 * f1_score(average='macro')); a class with no true or predicted member scores 0.
 */
export function f1Macro(yTrue: readonly Label[], yPred: readonly Label[]): number {
  sameLength(yTrue, yPred)
  const counts = countLabels(yTrue, yPred)
  if (counts.labels.length === 0) return 0
  let sum = 0
  for (let i = 0; i < counts.labels.length; i++) sum += f1Of(counts, i)
  return sum / counts.labels.length
}

/**
 * Mean of per-class recall over the classes present in yTrue (scikit-learn's balanced_accuracy_score): a label
 * that is only predicted adds no class of its own, but each prediction of it is a miss for the true class.
 * NaN for no rows.
 */
export function balancedAccuracy(yTrue: readonly Label[], yPred: readonly Label[]): number {
  sameLength(yTrue, yPred)
  const { tp, actual } = countLabels(yTrue, yPred)
  let sum = 0
  let present = 0
  actual.forEach((support, i) => {
    if (support === 0) return
    sum += tp[i]! / support
    present++
  })
  return present === 0 ? Number.NaN : sum / present
}

/** One row of classReport: scikit-learn's precision_recall_fscore_support for one label. */
export interface ClassReportRow {
  label: Label
  precision: number
  recall: number
  f1: number
  /** Rows of yTrue with this label. */
  support: number
}

/**
 * Precision, recall, F1 and support per label, as scikit-learn's precision_recall_fscore_support(labels=...,
 * average=None, zero_division=0): a rate whose denominator is 0 is 0. The rows follow `classes`, then any other
 * label seen in yTrue or yPred, sorted as scikit-learn sorts labels (numbers ascending, then strings), so a label
 * the model does not know still shows.
 */
export function classReport(yTrue: readonly Label[], yPred: readonly Label[], classes: readonly Label[]): ClassReportRow[] {
  sameLength(yTrue, yPred)
  const counts = countLabels(yTrue, yPred, classes)
  const known = new Set(classes)
  const extra = counts.labels.filter((label) => !known.has(label)).sort(compareLabels)
  return [...classes, ...extra].map((label) => {
    const i = counts.index.get(label)!
    const tp = counts.tp[i]!
    const predicted = counts.predicted[i]!
    const support = counts.actual[i]!
    return { label, precision: predicted === 0 ? 0 : tp / predicted, recall: support === 0 ? 0 : tp / support, f1: f1Of(counts, i), support }
  })
}

/**
 * Area under the ROC curve, as scikit-learn's roc_auc_score. Two classes: of "label === classes[1]" scored by
 * proba[:, 1]. More: one-vs-rest per class, then the unweighted mean (multi_class='ovr', average='macro').
 * Tied scores count 1/2, as the trapezoids of scikit-learn's curve do.
 *
 * NaN when undefined: a class (classes[1] alone when binary) with no positive or no negative row, no rows, or
 * fewer than 2 classes; scikit-learn raises there instead. A label of yTrue not in `classes` is a negative for
 * every class, as label_binarize makes it (multi_class='ovr' would raise). Rows need not sum to 1 (that check
 * of scikit-learn is left out): any finite scores rank.
 */
export function rocAuc(yTrue: readonly Label[], proba: readonly (readonly number[])[], classes: readonly Label[]): number {
  return macroOverClasses(yTrue, proba, classes, (ranked) => ranked.rocAuc)
}

/**
 * Average precision, as scikit-learn's average_precision_score: Σ (R_n − R_{n−1}) P_n over the distinct scores
 * from the highest down, rows with tied scores entering together (no interpolation). Two classes: of
 * "label === classes[1]" scored by proba[:, 1]. More: per class of a label-binarized yTrue, then the unweighted
 * mean (average='macro'); a label not in `classes` is a negative for every class.
 *
 * A class with no positive row scores 0, not NaN: scikit-learn 1.2 sets its recall to 1 and returns (-)0 with a
 * warning (scikit-learn#24381), and a macro mean keeps that 0. NaN only for no rows or fewer than 2 classes.
 */
export function averagePrecision(yTrue: readonly Label[], proba: readonly (readonly number[])[], classes: readonly Label[]): number {
  return macroOverClasses(yTrue, proba, classes, (ranked) => ranked.averagePrecision)
}

/** Mean negative log-likelihood of the true class; `proba` rows are in `classes` order. */
export function logLoss(yTrue: readonly Label[], proba: readonly (readonly number[])[], classes: readonly Label[]): number {
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

// Mismatched inputs are a bug of the caller (mlskel or a model kind), not of a user's project: a RangeError, not
// an MlskelError with a fix for the user.
function sameLength(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`expected as many predictions as true values, got ${b.length} and ${a.length}`)
}

/** Per label, in the order first met (`first`, then yTrue, then yPred): true positives, predictions, true rows. */
interface LabelCounts {
  labels: Label[]
  index: Map<Label, number>
  tp: number[]
  predicted: number[]
  actual: number[]
}

// The diagonal and margins of the confusion matrix are all any metric here needs: O(n) with a Map, where the
// matrix itself would be O(k²) and the former ml-confusion-matrix also searched its labels per row.
function countLabels(yTrue: readonly Label[], yPred: readonly Label[], first: readonly Label[] = []): LabelCounts {
  const counts: LabelCounts = { labels: [], index: new Map(), tp: [], predicted: [], actual: [] }
  const slot = (label: Label): number => {
    let i = counts.index.get(label)
    if (i === undefined) {
      i = counts.labels.push(label) - 1
      counts.index.set(label, i)
      counts.tp.push(0)
      counts.predicted.push(0)
      counts.actual.push(0)
    }
    return i
  }
  first.forEach(slot)
  yTrue.forEach((label) => counts.actual[slot(label)]!++)
  yPred.forEach((label, row) => {
    const i = slot(label)
    counts.predicted[i]!++
    if (label === yTrue[row]) counts.tp[i]!++
  })
  return counts
}

// 2·tp / (2·tp + fp + fn): equal to scikit-learn's 2PR / (P + R), with a single rounding, and 0 where that is 0/0.
function f1Of(counts: LabelCounts, i: number): number {
  const tp = counts.tp[i]!
  const denominator = counts.predicted[i]! + counts.actual[i]!
  return denominator === 0 ? 0 : (2 * tp) / denominator
}

// scikit-learn sorts the labels it finds (np.unique); numbers before strings only matters for a mix it refuses.
function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'number') return -1
  if (typeof b === 'number') return 1
  return a < b ? -1 : a > b ? 1 : 0
}

interface Ranked {
  rocAuc: number
  averagePrecision: number
}

function macroOverClasses(yTrue: readonly Label[], proba: readonly (readonly number[])[], classes: readonly Label[], pick: (ranked: Ranked) => number): number {
  checkScores(yTrue, proba, classes)
  if (yTrue.length === 0 || classes.length < 2) return Number.NaN
  if (classes.length === 2) return pick(rankColumn(yTrue, proba, classes[1]!, 1))
  let sum = 0
  classes.forEach((label, column) => {
    sum += pick(rankColumn(yTrue, proba, label, column))
  })
  return sum / classes.length
}

function checkScores(yTrue: readonly Label[], proba: readonly (readonly number[])[], classes: readonly Label[]): void {
  sameLength(yTrue, proba)
  proba.forEach((row, i) => {
    if (row.length !== classes.length) throw new RangeError(`expected a score per class (${classes.length}) in row ${i} of the probabilities, got ${row.length}`)
    // A NaN would make the sort meaningless; scikit-learn refuses infinities as well.
    for (const p of row) if (!Number.isFinite(p)) throw new RangeError(`expected finite scores, got ${p} in row ${i} of the probabilities`)
  })
}

/**
 * ROC AUC and average precision of "label === positive" scored by proba[:, column], from one walk down the
 * distinct scores (scikit-learn's _binary_clf_curve). Sorting the positives' and negatives' scores apart, as
 * native Float64Array sorts, makes it O(n log n) and leaves only counts to merge.
 */
function rankColumn(yTrue: readonly Label[], proba: readonly (readonly number[])[], positive: Label, column: number): Ranked {
  let positives = 0
  for (const label of yTrue) if (label === positive) positives++
  const pos = new Float64Array(positives)
  const neg = new Float64Array(yTrue.length - positives)
  let p = 0
  let n = 0
  yTrue.forEach((label, row) => {
    const score = proba[row]![column]!
    if (label === positive) pos[p++] = score
    else neg[n++] = score
  })
  pos.sort()
  neg.sort()

  // From the highest score down: tps and fps are the counts at or above the threshold. Twice the ROC area is
  // summed in integers (exact below 2^53, i.e. far beyond 10^7 rows), so the only rounding is the last division.
  let i = pos.length - 1
  let j = neg.length - 1
  let tps = 0
  let fps = 0
  let twiceArea = 0
  let precisionSum = 0
  while (i >= 0 || j >= 0) {
    const threshold = Math.max(i >= 0 ? pos[i]! : -Infinity, j >= 0 ? neg[j]! : -Infinity)
    let dp = 0
    let dn = 0
    // === groups -0 with 0, as np.diff does; the typed-array sort puts them side by side.
    while (i >= 0 && pos[i] === threshold) {
      dp++
      i--
    }
    while (j >= 0 && neg[j] === threshold) {
      dn++
      j--
    }
    twiceArea += dn * (2 * tps + dp)
    tps += dp
    fps += dn
    if (dp > 0) precisionSum += dp * (tps / (tps + fps))
  }
  return {
    rocAuc: pos.length === 0 || neg.length === 0 ? Number.NaN : twiceArea / (2 * pos.length * neg.length),
    averagePrecision: pos.length === 0 ? 0 : precisionSum / pos.length,
  }
}

