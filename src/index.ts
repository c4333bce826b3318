// mlskel's library: what a project's own code needs (settings, paths, params, hashing, model metadata), and
// what the CLI is built on.
export { z } from 'zod'
export { MlskelError, isMlskelError, formatError, errorCatalog, type ErrorCode, type ErrorLocation } from './errors/index.js'
export { writeFileAtomic, writeDirAtomic } from './fs/index.js'
export { Hasher, hashFile, hashBytes, listFiles, type Digest } from './hashing/index.js'
export { settingsSchema, loadSettings, findProjectRoot, projectPaths, PROJECT_FILE, type Settings, type ProjectPaths } from './settings/index.js'
export {
  paramsSchema,
  randomForestParamsSchema,
  loadParams,
  parseOverrides,
  planDataset,
  PARAMS_FILE,
  type Params,
  type Task,
  type LoadedParams,
  type ColumnProfile,
  type DatasetPlan,
} from './params/index.js'
export { runScript, isEntryPoint } from './script/index.js'
export { createLogger, type Logger } from './logging/index.js'
export {
  trainRandomForest,
  evaluate,
  crossValidate,
  splitFolds,
  combineScores,
  validateScores,
  saveModel,
  loadModel,
  registerModelKind,
  registeredModelKinds,
  listModelIds,
  signatureSchema,
  manifestSchema,
  accuracy,
  f1Macro,
  logLoss,
  r2,
  meanSquaredError,
  meanAbsoluteError,
  KNOWN_METRICS,
  RANDOM_FOREST_CLASSIFIER,
  RANDOM_FOREST_REGRESSOR,
  type Signature,
  type Dataset,
  type Predictor,
  type Scores,
  type ModelManifest,
  type SavedModel,
  type LoadedModel,
  type ModelLoader,
  type RandomForestHyperParameters,
} from './models/index.js'
export { metadataRecordSchema, recordTraining, readRecords, readRecord, newRunId, METADATA_SCHEMA_VERSION, type MetadataRecord, type RecordTrainingOptions } from './metadata/index.js'
export { canonicalJson, sortKeys } from './json/index.js'
export {
  pipelineSchema,
  lockFileSchema,
  loadPipeline,
  selectStages,
  runPipeline,
  readLockFile,
  reasonsToRun,
  LOCK_FILE,
  type Pipeline,
  type Stage,
  type PipelineConfig,
  type LockFile,
  type StageRecord,
  type RunPipelineOptions,
  type RunSummary,
  type StageSummary,
  type StageStatus,
} from './pipeline/index.js'
