// Evaluation: scores with scikit-learn's semantics, cross-validation, and the summaries a record keeps of a model's
// data and hold-out predictions.
export {
  accuracy,
  balancedAccuracy,
  f1Macro,
  logLoss,
  rocAuc,
  averagePrecision,
  classReport,
  type ClassReportRow,
  r2,
  meanSquaredError,
  meanAbsoluteError,
  combineScores,
  validateScores,
  KNOWN_METRICS,
  KNOWN_SPLITS,
  METRIC_NAME_PATTERN,
  SPLIT_NAME_PATTERN,
  type Scores,
} from './metrics.js'
export { evaluate, scoreHoldOut } from './evaluate.js'
export { crossValidate, splitFolds, foldsOf, type FoldStrategy, type Fold } from './cross-validation.js'
export { summarizeHoldOut, summarizeFeatures, summarizeTarget, type FeatureSummary, type TargetSummary, type HoldOutSummary, type ResidualSummary, type Evaluation } from './summary.js'
