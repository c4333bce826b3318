// Models: the contract every kind keeps and the store (contract/), mlskel's histogram tree engine (engine/), the
// kinds it trains (kinds/), and how models are scored (evaluation/). mlskel's kinds register here, as a
// project's own would.
import { registerModelKind } from './contract/index.js'
import { builtInKinds } from './kinds/index.js'

export * from './contract/index.js'
export * from './evaluation/index.js'
export { trainingProgress, progressLine, type ProgressOptions } from './progress.js'
export { GRADIENT_BOOSTING, RANDOM_FOREST, RETIRED_KINDS, gradientBoostingParamsSchema, randomForestParamsSchema, trainGradientBoosting, trainRandomForest, featuresPerSplit, XGBOOST, XGBOOST_OBJECTIVES, readXgboostModel, xgboostMargins, type GradientBoostingParams, type RandomForestParams, type ReadXgboostOptions, type ReadXgboostResult, type XgboostObjective } from './kinds/index.js'

for (const kind of builtInKinds()) registerModelKind(kind)
