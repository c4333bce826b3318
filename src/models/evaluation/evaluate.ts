// The standard scores of a predictor on labelled data, for its task.
import type { Task } from '../../params/index.js'
import type { Dataset, Predictor } from '../contract/types.js'
import { accuracy, averagePrecision, balancedAccuracy, f1Macro, logLoss, meanAbsoluteError, meanSquaredError, r2, rocAuc } from './metrics.js'

/**
 * Classification: accuracy, balanced_accuracy and f1_macro, and from the probabilities (when the predictor gives
 * them) log_loss, roc_auc and average_precision (one-vs-rest and macro-averaged beyond two classes). Regression: r2,
 * mean_squared_error, mean_absolute_error. A metric the data leaves undefined is left out rather than recorded as
 * NaN: roc_auc when a class of the signature has no row in `data` (or every row), as on a small fold.
 */
export function evaluate(task: Task, predictor: Predictor, data: Dataset): Record<string, number> {
  const predicted = predictor.predict(data.X)
  if (task === 'classification') {
    const scores: Record<string, number> = { accuracy: accuracy(data.y, predicted), balanced_accuracy: balancedAccuracy(data.y, predicted), f1_macro: f1Macro(data.y, predicted) }
    const target = predictor.signature.target
    if (predictor.predictProba && target.type === 'category') {
      const proba = predictor.predictProba(data.X)
      scores.log_loss = logLoss(data.y, proba, target.classes)
      scores.roc_auc = rocAuc(data.y, proba, target.classes)
      scores.average_precision = averagePrecision(data.y, proba, target.classes)
    }
    return Object.fromEntries(Object.entries(scores).filter(([, value]) => Number.isFinite(value)))
  }
  const yTrue = data.y.map(Number)
  const yPred = predicted.map(Number)
  return { r2: r2(yTrue, yPred), mean_squared_error: meanSquaredError(yTrue, yPred), mean_absolute_error: meanAbsoluteError(yTrue, yPred) }
}
