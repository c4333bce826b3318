// The model kinds mlskel ships: its own tree engine's random_forest and gradient_boosting, xgboost (models trained
// by XGBoost, loaded and served, never trained here), onnx (ONNX models, predicted by onnxruntime-node when it is
// installed), and the retired ml.js kinds (refused with a coded error).
import type { z } from 'zod'
import { trainModel, type ModelKind, type TrainInput } from '../contract/kinds.js'
import type { Predictor } from '../contract/types.js'
import { GRADIENT_BOOSTING, gradientBoostingKind, type gradientBoostingParamsSchema } from './gradient-boosting.js'
import { RANDOM_FOREST, randomForestKind, type randomForestParamsSchema } from './random-forest.js'
import { RETIRED_KINDS, retiredKind } from './retired.js'
import { onnxKind } from './onnx.js'
import { xgboostKind } from './xgboost.js'

export { GRADIENT_BOOSTING, gradientBoostingParamsSchema, type GradientBoostingParams } from './gradient-boosting.js'
export { RANDOM_FOREST, randomForestParamsSchema, featuresPerSplit, type RandomForestParams } from './random-forest.js'
export { RETIRED_KINDS } from './retired.js'
export { ONNX, readOnnxModel, type ReadOnnxOptions, type ReadOnnxResult } from './onnx.js'
export { XGBOOST, XGBOOST_OBJECTIVES, readXgboostModel, xgboostMargins, type ReadXgboostOptions, type ReadXgboostResult, type XgboostObjective } from './xgboost.js'
export { modelFileFormat, type ModelFileFormat } from './file-format.js'

/** Every kind mlskel registers at start. */
export function builtInKinds(): ModelKind[] {
  return [gradientBoostingKind as unknown as ModelKind, randomForestKind as unknown as ModelKind, xgboostKind, onnxKind, ...RETIRED_KINDS.map(retiredKind)]
}

type TrainOptions<S extends z.ZodType> = Omit<TrainInput, 'hyperParameters'> & { hyperParameters?: z.input<S> }

/** Train a `random_forest` (hyper-parameters as params.yaml's `model:` takes them; defaults for the rest). */
export function trainRandomForest(o: TrainOptions<typeof randomForestParamsSchema>): Promise<Predictor> {
  const { hyperParameters, ...rest } = o
  return trainModel({ ...rest, model: { ...hyperParameters, type: RANDOM_FOREST } })
}

/** Train a `gradient_boosting` model (hyper-parameters as params.yaml's `model:` takes them; defaults for the rest). */
export function trainGradientBoosting(o: TrainOptions<typeof gradientBoostingParamsSchema>): Promise<Predictor> {
  const { hyperParameters, ...rest } = o
  return trainModel({ ...rest, model: { ...hyperParameters, type: GRADIENT_BOOSTING } })
}
