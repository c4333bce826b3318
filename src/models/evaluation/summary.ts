// What a metadata record keeps about a model's data and its errors, so that the server can validate inputs and
// reports can draw them without the data: the features and target seen in training, and the hold-out summary
// (a confusion matrix for classification, residual statistics for regression).
import { MlskelError } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import type { Dataset, Predictor, Signature } from '../contract/types.js'
import { classReport, type ClassReportRow } from './metrics.js'

export type FeatureSummary =
  | {
      name: string
      type: 'number'
      min: number
      max: number
      /** Values missing in the training data (NaN), plus those missing or invalid in the raw data (rows dropped). */
      missing: number
    }
  | {
      name: string
      type: 'category'
      categories: (string | number)[]
      /** Training rows per category (by the category's label). */
      counts: Record<string, number>
      missing: number
    }

export type TargetSummary =
  | { name: string; type: 'category'; classes: (string | number)[]; counts: Record<string, number> }
  | { name: string; type: 'number'; min: number; max: number; mean: number }

export interface ResidualSummary {
  mean: number
  std: number
  min: number
  max: number
  p05: number
  p50: number
  p95: number
  mean_absolute: number
}

export type HoldOutSummary = { rows: number } & (
  | { confusion_matrix: { labels: (string | number)[]; matrix: number[][] }; per_class?: ClassReportRow[] }
  | { residuals: ResidualSummary }
)

export interface Evaluation {
  hold_out: HoldOutSummary
}

/**
 * Per feature (in the signature's order): its range in `data` (the training data), or its categories and their
 * counts, and its missing values: those in `data` (NaN, or a code outside the categories) plus those counted in
 * the raw data (`missing`, by column name; 0 when absent). Infinite values are left out of a range and counted too.
 */
export function summarizeFeatures(signature: Signature, data: Dataset, missing: Readonly<Record<string, number>> = {}): FeatureSummary[] {
  nonEmpty(data, 'training data')
  return signature.features.map((feature, i): FeatureSummary => {
    if (feature.type === 'category') {
      const counts: Record<string, number> = Object.fromEntries(feature.categories.map((c) => [String(c), 0]))
      let absent = 0
      for (const row of data.X) {
        const label = feature.categories[row[i]!]
        if (label === undefined) absent++
        else counts[String(label)]!++
      }
      return { name: feature.name, type: 'category', categories: [...feature.categories], counts, missing: (missing[feature.name] ?? 0) + absent }
    }
    let min = Infinity
    let max = -Infinity
    let invalid = 0
    for (const row of data.X) {
      const value = row[i]
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        invalid++
        continue
      }
      if (value < min) min = value
      if (value > max) max = value
    }
    if (min > max) throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `feature ${JSON.stringify(feature.name)} has no finite value in the training data`, { where: { field: feature.name } })
    return { name: feature.name, type: 'number', min, max, missing: (missing[feature.name] ?? 0) + invalid }
  })
}

/** The target in `data` (the training data): each class's count, or the range and mean of a number. */
export function summarizeTarget(signature: Signature, data: Dataset): TargetSummary {
  nonEmpty(data, 'training data')
  const target = signature.target
  if (target.type === 'category') {
    const counts: Record<string, number> = Object.fromEntries(target.classes.map((c) => [String(c), 0]))
    for (const label of data.y) counts[String(label)] = (counts[String(label)] ?? 0) + 1
    return { name: target.name, type: 'category', classes: [...target.classes], counts }
  }
  const y = data.y.map(Number)
  // a loop, not Math.min(...y): spreading millions of values overflows the stack
  let min = Infinity
  let max = -Infinity
  for (const value of y) {
    if (value < min) min = value
    if (value > max) max = value
  }
  return { name: target.name, type: 'number', min, max, mean: sum(y) / y.length }
}

/**
 * What reports need of the hold-out predictions. Classification: a confusion matrix, rows the actual class and
 * columns the predicted one, labels in the signature's class order (then any other label seen), and per class its
 * precision, recall, f1 and support. Regression: the
 * residuals (actual − predicted): mean, standard deviation, range, 5th/50th/95th percentiles, mean absolute.
 */
export function summarizeHoldOut(task: Task, predictor: Predictor, data: Dataset): HoldOutSummary {
  checkHoldOut(data)
  return holdOutSummaryOf(task, predictor.signature, data, predictor.predict(data.X))
}

/** Throws unless the hold-out data has rows, and a target per row. */
export function checkHoldOut(data: Dataset): void {
  nonEmpty(data, 'hold-out data')
}

/** summarizeHoldOut from the rows' predictions (checked by checkHoldOut before they were made). */
export function holdOutSummaryOf(task: Task, signature: Signature, data: Dataset, predicted: readonly (string | number)[]): HoldOutSummary {
  if (task === 'classification') {
    const target = signature.target
    const labels: (string | number)[] = target.type === 'category' ? [...target.classes] : []
    const index = new Map<string | number, number>(labels.map((label, i) => [label, i]))
    for (const label of [...data.y, ...predicted]) {
      if (!index.has(label)) index.set(label, labels.push(label) - 1)
    }
    const matrix = labels.map(() => labels.map(() => 0))
    data.y.forEach((actual, row) => matrix[index.get(actual)!]![index.get(predicted[row]!)!]!++)
    return { rows: data.y.length, confusion_matrix: { labels, matrix }, per_class: classReport(data.y, predicted, target.type === 'category' ? target.classes : []) }
  }
  const residuals = data.y.map((actual, row) => Number(actual) - Number(predicted[row]))
  const sorted = [...residuals].sort((a, b) => a - b)
  const mean = sum(residuals) / residuals.length
  return {
    rows: data.y.length,
    residuals: {
      mean,
      std: Math.sqrt(sum(residuals.map((r) => (r - mean) ** 2)) / residuals.length),
      min: sorted[0]!,
      max: sorted[sorted.length - 1]!,
      p05: percentile(sorted, 0.05),
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      mean_absolute: sum(residuals.map(Math.abs)) / residuals.length,
    },
  }
}

/** The q-quantile of sorted values, interpolated linearly between the two nearest (numpy's default). */
function percentile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1)
  const below = Math.floor(position)
  const above = Math.min(below + 1, sorted.length - 1)
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below)
}

function sum(values: readonly number[]): number {
  let total = 0
  for (const value of values) total += value
  return total
}

function nonEmpty(data: Dataset, what: string): void {
  if (data.X.length === 0 || data.X.length !== data.y.length) {
    throw new MlskelError('MLSKEL_DATA_TOO_FEW_ROWS', `cannot summarize ${what} of ${data.X.length} rows with ${data.y.length} targets`)
  }
}
