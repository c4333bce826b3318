// The model contract: what a model takes and gives, the kinds registry, and the store that saves and loads models.
export type { Signature, FeatureSpec, Dataset, Predictor, FeatureImportance, ModelManifest } from './types.js'
export { signatureSchema } from './signature.js'
export { asCheckedRows, withUncheckedRows, checkedRowsPredictor, type CheckedRows, type CheckedRowsPredictor } from './checked-rows.js'
export {
  registerModelKind,
  registeredModelKinds,
  trainableModelKinds,
  modelKind,
  modelParamsSchema,
  parseHyperParameters,
  trainModel,
  describeKind,
  kindHint,
  DEFAULT_MODEL_TYPE,
  type ModelKind,
  type ModelLoader,
  type TrainInput,
  type TrainingProgress,
} from './kinds.js'
export { saveModel, loadSavedModel, modelHoldsFile, listModelIds, manifestSchema, rawValue, MODEL_FILE, MANIFEST_FILE, MODEL_FORMAT, SOURCE_FILE_PATTERN, type SaveModelOptions, type SavedModel, type LoadedModel, type RawValue } from './store.js'
export { PENDING_FILE, readPending, claimPendingModel, settlePendingModel, abandonPendingModel, recoverPendingModels, type PendingModel, type Recovered } from './pending.js'
