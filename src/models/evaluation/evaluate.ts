// The standard scores of a predictor on labelled data, for its task.
import type { Task } from '../../params/index.js'
import type { Dataset, Predictor, Signature } from '../contract/types.js'
import { accuracy, averagePrecision, balancedAccuracy, f1Macro, logLoss, meanAbsoluteError, meanSquaredError, r2, rocAuc } from './metrics.js'
import { checkHoldOut, holdOutSummaryOf, type HoldOutSummary } from './summary.js'

/**
 * Classification: accuracy, balanced_accuracy and f1_macro, and from the probabilities (when the predictor gives
 * them) log_loss, roc_auc and average_precision (one-vs-rest and macro-averaged beyond two classes). Regression: r2,
 * mean_squared_error, mean_absolute_error. A metric the data leaves undefined is left out rather than recorded as
 * NaN: roc_auc when a class of the signature has no row in `data` (or every row), as on a small fold.
 */
export function evaluate(task: Task, predictor: Predictor, data: Dataset): Record<string, number> {
  const predicted = predictor.predict(data.X)
  const proba = withProbabilities(task, predictor) ? predictor.predictProba!(data.X) : undefined
  return scoresOf(task, predictor.signature, data.y, predicted, proba)
}

/**
 * evaluate's scores and summarizeHoldOut's summary of the same rows, from one prediction of them (predictBatch, on one
 * thread, when the predictor has it: labels and probabilities in one walk of the trees, where evaluate and
 * summarizeHoldOut make three).
 */
export async function scoreHoldOut(task: Task, predictor: Predictor, data: Dataset): Promise<{ scores: Record<string, number>; summary: HoldOutSummary }> {
  checkHoldOut(data)
  const { predicted, proba } = await predictOnce(task, predictor, data)
  return { scores: scoresOf(task, predictor.signature, data.y, predicted, proba), summary: holdOutSummaryOf(task, predictor.signature, data, predicted) }
}

/** evaluate, from one prediction of the rows (see scoreHoldOut): cross-validation scores each fold so. */
export async function evaluateOnce(task: Task, predictor: Predictor, data: Dataset): Promise<Record<string, number>> {
  const { predicted, proba } = await predictOnce(task, predictor, data)
  return scoresOf(task, predictor.signature, data.y, predicted, proba)
}

/** Whether the scores include those from probabilities: a classifier that gives them, for its signature's classes. */
const withProbabilities = (task: Task, predictor: Predictor) => task === 'classification' && predictor.predictProba !== undefined && predictor.signature.target.type === 'category'

/**
 * Labels, and a classifier's probabilities, in one call when the kind can (predictBatch gives what predict and
 * predictProba give, to the bit). One thread: the scores cost no more cores than the training's `n_jobs` allowed.
 */
async function predictOnce(task: Task, predictor: Predictor, data: Dataset): Promise<{ predicted: (string | number)[]; proba: number[][] | undefined }> {
  const probabilities = withProbabilities(task, predictor)
  if (predictor.predictBatch) {
    const batch = await predictor.predictBatch(data.X, { probabilities, threads: 1 })
    // a kind that leaves the probabilities out of its batch is asked for them as evaluate asks
    return { predicted: batch.predictions, proba: probabilities ? (batch.probabilities ?? predictor.predictProba!(data.X)) : undefined }
  }
  return { predicted: predictor.predict(data.X), proba: probabilities ? predictor.predictProba!(data.X) : undefined }
}

function scoresOf(task: Task, signature: Signature, y: Dataset['y'], predicted: (string | number)[], proba: number[][] | undefined): Record<string, number> {
  if (task === 'classification') {
    const scores: Record<string, number> = { accuracy: accuracy(y, predicted), balanced_accuracy: balancedAccuracy(y, predicted), f1_macro: f1Macro(y, predicted) }
    const target = signature.target
    if (proba && target.type === 'category') {
      scores.log_loss = logLoss(y, proba, target.classes)
      scores.roc_auc = rocAuc(y, proba, target.classes)
      scores.average_precision = averagePrecision(y, proba, target.classes)
    }
    return Object.fromEntries(Object.entries(scores).filter(([, value]) => Number.isFinite(value)))
  }
  const yTrue = y.map(Number)
  const yPred = predicted.map(Number)
  return { r2: r2(yTrue, yPred), mean_squared_error: meanSquaredError(yTrue, yPred), mean_absolute_error: meanAbsoluteError(yTrue, yPred) }
}
