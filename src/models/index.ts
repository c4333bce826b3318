// Models: the kinds mlskel trains (ml.js random forests), their metrics and cross-validation, and the store that
// saves and loads them.
import { RANDOM_FOREST_CLASSIFIER, RANDOM_FOREST_REGRESSOR, loadRandomForest } from './random-forest.js'
import { registerModelKind } from './store.js'

export type { Signature, Dataset, Predictor, ModelManifest } from './types.js'
export { signatureSchema } from './signature.js'
export { trainRandomForest, featuresPerTree, RANDOM_FOREST_CLASSIFIER, RANDOM_FOREST_REGRESSOR, type RandomForestHyperParameters } from './random-forest.js'
export {
  evaluate,
  accuracy,
  f1Macro,
  logLoss,
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
export { crossValidate, splitFolds } from './cross-validation.js'
export { forestSplitCounts } from './forest-splits.js'
export { summarizeHoldOut, summarizeFeatures, summarizeTarget, type FeatureSummary, type TargetSummary, type HoldOutSummary, type ResidualSummary, type Evaluation } from './summary.js'
export { saveModel, loadModel, registerModelKind, registeredModelKinds, listModelIds, manifestSchema, MODEL_FILE, MANIFEST_FILE, MODEL_FORMAT, type SavedModel, type LoadedModel, type ModelLoader } from './store.js'

registerModelKind(RANDOM_FOREST_CLASSIFIER, loadRandomForest(RANDOM_FOREST_CLASSIFIER))
registerModelKind(RANDOM_FOREST_REGRESSOR, loadRandomForest(RANDOM_FOREST_REGRESSOR))
