// mlskel's library: what a project's own scripts need (settings and paths, params, the data's reading rules, training
// and evaluating, model metadata, the stage's context, hashing and atomic writes), and the high-level entries of what
// the CLI does (runPipeline, the runs). Internals stay internal: the surface is kept in api/mlskel.api.md, which a test
// compares, so a change to it is always deliberate (`npm run api` writes it anew).
export { z } from 'zod'
export { MlskelError, isMlskelError, formatError, type ErrorCode, type ErrorLocation } from './errors/index.js'
export { writeFileAtomic, writeDirAtomic } from './fs/index.js'
export { Hasher, hashFile, hashBytes, type Digest } from './hashing/index.js'
export { settingsSchema, loadSettings, projectPaths, type Settings, type ProjectPaths } from './settings/index.js'
export {
  paramsSchema,
  loadParams,
  parseOverrides,
  type Params,
  type Task,
  type LoadedParams,
} from './params/index.js'
export {
  COLUMN_TYPES,
  DATETIME_PARTS,
  DATE_FORMATS,
  DEFAULT_MISSING_VALUES,
  readNumber,
  readBoolean,
  readDatetime,
  datetimePart,
  inferColumnType,
  invalidCells,
  planDataset,
  inputSchemaOf,
  encodeValue,
  encodeText,
  emptyRow,
  sql as dataSql,
  type ColumnType,
  type DatetimePart,
  type DateFormat,
  type ReadOptions,
  type PlannedColumn,
  type DatasetPlan,
  type InputField,
  type InputSchema,
  type UnseenCategory,
} from './data/index.js'
export { runScript } from './script/index.js'
export { stageContext, type StageContext, type StageContextOptions } from './stage/index.js'
export { createLogger, type Logger } from './logging/index.js'
export {
  trainModel,
  trainingProgress,
  trainRandomForest,
  trainGradientBoosting,
  registerModelKind,
  describeKind,
  DEFAULT_MODEL_TYPE,
  GRADIENT_BOOSTING,
  RANDOM_FOREST,
  XGBOOST,
  readXgboostModel,
  xgboostMargins,
  ONNX,
  readOnnxModel,
  exportOnnx,
  exportSavedModel,
  evaluate,
  summarizeHoldOut,
  scoreHoldOut,
  crossValidate,
  combineScores,
  saveModel,
  listModelIds,
  signatureSchema,
  manifestSchema,
  accuracy,
  balancedAccuracy,
  f1Macro,
  logLoss,
  rocAuc,
  averagePrecision,
  classReport,
  r2,
  meanSquaredError,
  meanAbsoluteError,
  KNOWN_METRICS,
  type Signature,
  type FeatureSpec,
  type Dataset,
  type Predictor,
  type FeatureImportance,
  type Scores,
  type ModelManifest,
  type SavedModel,
  type LoadedModel,
  type ModelKind,
  type ModelLoader,
  type TrainInput,
  type TrainingProgress,
  type GradientBoostingParams,
  type RandomForestParams,
  type ReadXgboostOptions,
  type ReadXgboostResult,
  type ReadOnnxOptions,
  type ReadOnnxResult,
  type ExportOnnxOptions,
  type OnnxInputType,
  type ExportModelOptions,
  type ExportedModel,
  type FoldStrategy,
  type HoldOutSummary,
  type Evaluation,
} from './models/index.js'
export {
  metadataRecordSchema,
  recordTraining,
  loadModel,
  newestModelId,
  readRecords,
  readRecord,
  recordPrediction,
  predictionRecordSchema,
  type MetadataRecord,
  type RecordTrainingOptions,
  type PredictionRecord,
  type RecordPredictionOptions,
} from './metadata/index.js'
export { canonicalJson } from './json/index.js'
export { projectConfigSchema, findProjectRoot, PROJECT_FILE, PARAMS_FILE, type ProjectConfig } from './project/index.js'
export {
  runPipeline,
  type RunPipelineOptions,
  type RunSummary,
  type StageSummary,
  type StageStatus,
} from './pipeline/index.js'
export {
  loadRuns,
  resolveRun,
  listRuns,
  summarize as summarizeRun,
  diffRuns,
  verifyRun,
  VERIFY_EXIT,
  type ProjectRuns,
  type RunSummaryRow,
  type ListOptions,
  type RunDiff,
  type VerifyOptions,
  type VerifyResult,
} from './runs/index.js'
export { importModel, type ImportOptions, type ImportResult } from './importing/index.js'

// The prediction API (Fastify, Swagger UI, prom-client) is `import … from 'mlskel/serve'`: kept out of this entry
// so a project's scripts, which import 'mlskel' at every stage, do not load a web server.
