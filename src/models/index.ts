// Models: the contract every kind keeps and the store (contract/), mlskel's histogram tree engine (engine/), the
// kinds it trains and loads (kinds/), ONNX's format, runtime and export (onnx/), and how models are scored
// (evaluation/). mlskel's kinds register here, as a
// project's own would.
import { registerModelKind } from './contract/index.js'
import { builtInKinds } from './kinds/index.js'

export * from './contract/index.js'
export * from './evaluation/index.js'
export { trainingProgress, progressLine, type ProgressOptions } from './progress.js'
export { GRADIENT_BOOSTING, RANDOM_FOREST, RETIRED_KINDS, gradientBoostingParamsSchema, randomForestParamsSchema, trainGradientBoosting, trainRandomForest, featuresPerSplit, XGBOOST, XGBOOST_OBJECTIVES, readXgboostModel, xgboostMargins, type GradientBoostingParams, type RandomForestParams, type ReadXgboostOptions, type ReadXgboostResult, type XgboostObjective, ONNX, readOnnxModel, type ReadOnnxOptions, type ReadOnnxResult, modelFileFormat, type ModelFileFormat } from './kinds/index.js'
export { exportOnnx, ONNX_EXPORTABLE_KINDS, type ExportOnnxOptions, type OnnxInputType } from './onnx/export.js'
export { exportSavedModel, ONNX_FILE, type ExportModelOptions, type ExportedModel } from './onnx/save.js'

for (const kind of builtInKinds()) registerModelKind(kind)
