// The `gradient_boosting` kind: scikit-learn's HistGradientBoostingClassifier/Regressor on mlskel's tree engine,
// its hyper-parameters named and defaulted as scikit-learn names them.
import { z } from 'zod'
import { MlskelError, quote, describeIssues } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import { trainBoosting, type BoostedTrees } from '../engine/boosting.js'
import { sigmoid } from '../engine/losses.js'
import { addLeafValuesInParallel } from '../engine/predict-team.js'
import { addLeafValues, addRowLeafValues, hasCategoricalSplits, leafOf, type TreeEnsemble } from '../engine/tree.js'
import { withUncheckedRows } from '../contract/checked-rows.js'
import type { ModelKind, TrainInput } from '../contract/kinds.js'
import { signatureSchema } from '../contract/signature.js'
import type { FeatureImportance, ModelManifest, Predictor, Signature } from '../contract/types.js'
import {
  checkRows,
  checkSeed,
  classesOf,
  classWarnings,
  classWeightSchema,
  ensembleFromJson,
  ensembleJsonSchema,
  ensembleToJson,
  featureKinds,
  importancesOf,
  maxBinsSchema,
  nJobsSchema,
  paramError,
  sampleRows,
  threadsOf,
  toProblem,
  type EnsembleJson,
} from './common.js'

export const GRADIENT_BOOSTING = 'gradient_boosting'

/** From this many rows, n_jobs' default uses every core (fewer: worker threads cost more to start than they save). */
const PARALLEL_ROWS = 20_000

/** Early stopping's "auto" turns it on above this many rows, as scikit-learn does. */
const AUTO_EARLY_STOPPING_ROWS = 10_000

export const gradientBoostingParamsSchema = z.strictObject({
  loss: z.enum(['log_loss', 'squared_error', 'absolute_error']).optional().describe('log_loss (classification); squared_error or absolute_error (regression); absent: log_loss or squared_error by task'),
  learning_rate: z.number().gt(0).lte(10).default(0.1).describe('shrinkage of each tree\'s contribution, in (0, 10]'),
  max_iter: z.int().min(1).max(100_000).default(100).describe('boosting iterations (a tree per iteration, one per class for more than two classes)'),
  max_leaf_nodes: z.int().min(2).max(65_536).nullable().default(31).describe('leaves per tree, grown best-first; null: unbounded'),
  max_depth: z.int().min(1).max(1000).nullable().default(null).describe('deepest leaf (the root is depth 0); null: unbounded'),
  min_samples_leaf: z.int().min(1).default(20).describe('fewest rows in a leaf'),
  l2_regularization: z.number().min(0).default(0).describe('L2 penalty on leaf values (the λ of G / (H + λ))'),
  max_bins: maxBinsSchema,
  early_stopping: z.union([z.literal('auto'), z.boolean()], { error: 'must be "auto", true or false' }).default('auto').describe('stop when the validation loss stops improving; auto: on above 10,000 rows'),
  validation_fraction: z.number().gt(0).lt(1).nullable().default(0.1).describe('share of the rows held out for early stopping; null: watch the training loss'),
  n_iter_no_change: z.int().min(1).default(10).describe('iterations without an improvement of tol before stopping'),
  tol: z.number().min(0).default(1e-7).describe('the improvement that counts, for early stopping'),
  class_weight: classWeightSchema,
  n_jobs: nJobsSchema,
})

export type GradientBoostingParams = z.output<typeof gradientBoostingParamsSchema>

/** What model.json holds for this kind (besides the store's envelope). */
interface GradientBoostingJson {
  signature: Signature
  task: Task
  /** As trained with: defaults filled and resolved for the task; n_jobs left out (the model is the same for any). */
  hyper_parameters: Record<string, unknown>
  seed: number
  baseline: number[]
  trees_per_iteration: number
  iterations: number
  trees: EnsembleJson
  training: { train_loss: number[]; validation_loss: number[] | null; early_stopped: boolean }
  importances: FeatureImportance[]
  warnings: string[]
}

const modelJsonSchema = z.object({
  signature: signatureSchema,
  task: z.enum(['classification', 'regression']),
  hyper_parameters: z.record(z.string(), z.unknown()),
  seed: z.number(),
  baseline: z.array(z.number()).min(1),
  trees_per_iteration: z.int().min(1),
  iterations: z.int().min(0),
  trees: ensembleJsonSchema,
  training: z.object({ train_loss: z.array(z.number()), validation_loss: z.array(z.number()).nullable(), early_stopped: z.boolean() }),
  importances: z.array(z.object({ feature: z.string(), gain: z.number(), splits: z.int() })),
  warnings: z.array(z.string()),
})

async function fitGradientBoosting(o: TrainInput<GradientBoostingParams>): Promise<Predictor> {
  const h = o.hyperParameters
  checkSeed(o.seed)
  const classes = classesOf(o.task, o.signature)
  const loss = h.loss ?? (classes ? 'log_loss' : 'squared_error')
  if (classes && loss !== 'log_loss') throw paramError('loss', `${quote(loss)} is a regression loss; classification takes log_loss`, 'Remove model.loss, or set it to log_loss.')
  if (!classes && loss === 'log_loss') throw paramError('loss', 'log_loss is a classification loss; regression takes squared_error or absolute_error', 'Remove model.loss, or set it to squared_error or absolute_error.')
  if (!classes && h.class_weight !== null) throw paramError('class_weight', 'weighs classes, and regression has none', 'Remove model.class_weight.')
  const kinds = featureKinds(o.signature, h.max_bins)
  const problem = toProblem(o.signature, o.data, classes, kinds, h.class_weight)
  const earlyStopping = h.early_stopping === 'auto' ? problem.rows > AUTO_EARLY_STOPPING_ROWS : h.early_stopping
  const boosted = await trainBoosting(problem, {
    loss,
    classes: classes?.length ?? 0,
    maxIter: h.max_iter,
    learningRate: h.learning_rate,
    maxLeafNodes: h.max_leaf_nodes,
    maxDepth: h.max_depth,
    minSamplesLeaf: h.min_samples_leaf,
    l2Regularization: h.l2_regularization,
    maxBins: h.max_bins,
    earlyStopping,
    validationFraction: h.validation_fraction,
    nIterNoChange: h.n_iter_no_change,
    tol: h.tol,
    seed: o.seed,
    nJobs: threadsOf(h.n_jobs, problem.rows >= PARALLEL_ROWS),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  })
  const { n_jobs: _threads, ...resolved } = { ...h, loss, early_stopping: earlyStopping }
  const json: GradientBoostingJson = {
    signature: o.signature,
    task: o.task,
    hyper_parameters: resolved,
    seed: o.seed,
    baseline: boosted.baseline,
    trees_per_iteration: boosted.treesPerIteration,
    iterations: boosted.iterations,
    trees: ensembleToJson(boosted.ensemble),
    training: { train_loss: boosted.trainLoss, validation_loss: boosted.validationLoss, early_stopped: boosted.iterations < h.max_iter },
    importances: importancesOf(o.signature, boosted.gain, boosted.splits),
    warnings: [],
  }
  if (classes) {
    // what the model predicts for (a sample of) its own training rows
    const score = scorer(boosted.ensemble, boosted.baseline, boosted.treesPerIteration)
    const predicted = Int32Array.from(sampleRows(o.data.X.length), (r) => score.classIndex(score.rawOf(o.data.X[r]!)))
    json.warnings = classWarnings(problem.target, classes, predicted, h.class_weight)
  }
  return makePredictor(json, boosted.ensemble)
}

/** Raw predictions of a row (baseline plus each tree's leaf), and the class they give. */
function scorer(e: TreeEnsemble, baselineValues: readonly number[], K: number) {
  const baseline = Float64Array.from(baselineValues)
  const raw = new Float64Array(K)
  const numeric = !hasCategoricalSplits(e)
  return {
    /** Into a buffer reused by the next call. */
    rawOf(row: readonly number[]): Float64Array {
      raw.set(baseline)
      // iteration by iteration, class by class: tree t is class t % K's, in tree order as addLeafValues adds them
      if (numeric) addRowLeafValues(e, row, raw, K)
      else for (let t = 0; t < e.trees; t += K) for (let k = 0; k < K; k++) raw[k]! += e.values[leafOf(e, t + k, row)]!
      return raw
    },
    /** The positive class above 0, or the largest logit (the first on a tie). */
    classIndex(r: Float64Array): number {
      if (K === 1) return r[0]! > 0 ? 1 : 0
      let best = 0
      for (let k = 1; k < K; k++) if (r[k]! > r[best]!) best = k
      return best
    },
  }
}

export function loadGradientBoosting(json: unknown, manifest: ModelManifest): Predictor {
  const parsed = modelJsonSchema.safeParse(json)
  if (!parsed.success) {
    const { field, text } = describeIssues(parsed.error)
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: model.json is not a ${GRADIENT_BOOSTING} model (${text})`, { where: { file: 'model.json', field } })
  }
  const data = parsed.data as GradientBoostingJson
  const ensemble = ensembleFromJson(parsed.data.trees, data.signature, manifest)
  const K = data.trees_per_iteration
  const classes = data.task === 'classification' && data.signature.target.type === 'category' ? data.signature.target.classes.length : 0
  const expectedK = classes > 2 ? classes : 1
  if (K !== expectedK || data.baseline.length !== K || ensemble.outputs !== 1 || ensemble.trees % K !== 0) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: ${ensemble.trees} trees, ${K} per iteration and ${data.baseline.length} baselines do not fit ${classes || 'a regression'} ${classes ? 'classes' : ''}`.trim(), {
      where: { file: 'model.json', field: 'trees_per_iteration' },
    })
  }
  return makePredictor(data, ensemble)
}

function makePredictor(json: GradientBoostingJson, e: TreeEnsemble): Predictor {
  const { signature } = json
  // a copy of its own, so that nothing the caller still holds can change it
  const frozen = structuredClone(json)
  const K = json.trees_per_iteration
  const classes = json.task === 'classification' && signature.target.type === 'category' ? signature.target.classes : null
  const { rawOf, classIndex } = scorer(e, json.baseline, K)
  /** Raw predictions of rows, [r * K + k]: baseline plus every tree's leaf, tree by tree. */
  const start = (n: number): Float64Array => {
    const out = new Float64Array(n * K)
    for (let r = 0; r < n; r++) for (let k = 0; k < K; k++) out[r * K + k] = json.baseline[k]!
    return out
  }
  const rawRows = (X: readonly (readonly number[])[]): Float64Array => {
    const out = start(X.length)
    addLeafValues(e, X, out, K)
    return out
  }
  const probabilities = (r: Float64Array): number[] => {
    if (!classes) return []
    if (K === 1) {
      const p = sigmoid(r[0]!)
      return [1 - p, p]
    }
    let max = -Infinity
    for (let k = 0; k < K; k++) max = Math.max(max, r[k]!)
    const out = new Array<number>(K)
    let sum = 0
    for (let k = 0; k < K; k++) sum += out[k] = Math.exp(r[k]! - max)
    for (let k = 0; k < K; k++) out[k]! /= sum
    return out
  }
  const importances = frozen.importances
  // rows checked against the signature (checkRows), by predict or by the caller (CheckedRows)
  const predictRows = (X: readonly (readonly number[])[]): (string | number)[] => {
    // one row (what the prediction API mostly gets): no batch buffers
    if (X.length === 1) {
      const raw = rawOf(X[0]!)
      return [classes ? classes[classIndex(raw)]! : raw[0]!]
    }
    const raw = rawRows(X)
    if (!classes) return Array.from(raw)
    return X.map((_, r) => classes[classIndex(raw.subarray(r * K, (r + 1) * K))]!)
  }
  const probaRows = (X: readonly (readonly number[])[]): number[][] => {
    const raw = rawRows(X)
    return X.map((_, r) => probabilities(raw.subarray(r * K, (r + 1) * K)))
  }
  const predictor: Predictor = {
    kind: GRADIENT_BOOSTING,
    signature,
    warnings: frozen.warnings,
    toJSON: () => structuredClone(frozen),
    importances: () => structuredClone(importances),
    predict(X) {
      checkRows(signature, X)
      return predictRows(X)
    },
    ...(classes
      ? {
          predictProba(X: number[][]) {
            checkRows(signature, X)
            return probaRows(X)
          },
        }
      : {}),
    async predictBatch(X, o = {}) {
      checkRows(signature, X)
      const raw = start(X.length)
      await addLeafValuesInParallel(e, X, raw, K, threadsOf(o.threads ?? null, true))
      const row = (r: number) => raw.subarray(r * K, (r + 1) * K)
      if (!classes) return { predictions: Array.from(raw) }
      return { predictions: X.map((_, r) => classes[classIndex(row(r))]!), ...(o.probabilities ? { probabilities: X.map((_, r) => probabilities(row(r))) } : {}) }
    },
  }
  return withUncheckedRows(predictor, { predict: predictRows, ...(classes ? { predictProba: probaRows } : {}) })
}

export const gradientBoostingKind: ModelKind<typeof gradientBoostingParamsSchema> = {
  name: GRADIENT_BOOSTING,
  params: gradientBoostingParamsSchema,
  train: fitGradientBoosting,
  load: loadGradientBoosting,
  describe: (task) => (task === 'classification' ? 'gradient boosting classifier' : 'gradient boosting regressor'),
}

export type { BoostedTrees }
