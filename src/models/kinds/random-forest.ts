// The `random_forest` kind: scikit-learn's RandomForestClassifier/Regressor on mlskel's tree engine, its
// hyper-parameters named and defaulted as scikit-learn names them. Probabilities are the mean of the trees' leaf
// class distributions; a regression is the mean of the trees' leaf values.
import { z } from 'zod'
import { MlskelError, quote, describeIssues } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import { trainForest } from '../engine/forest.js'
import type { Criterion } from '../engine/forest-tree.js'
import { addLeafValuesInParallel } from '../engine/predict-team.js'
import { addLeafValues, leafOf, type TreeEnsemble } from '../engine/tree.js'
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

export const RANDOM_FOREST = 'random_forest'

/** From this many rows × trees, n_jobs' default uses every core (less: worker threads cost more than they save). */
const PARALLEL_WORK = 200_000

/** A count (a whole number above 1) or a fraction in (0, 1]: YAML writes 1.0 as 1, so 1 is "all", as 1.0 is in scikit-learn. */
const countOrFraction = z.number().gt(0)

export const randomForestParamsSchema = z.strictObject({
  n_estimators: z.int().min(1).max(10_000).default(100).describe('number of trees'),
  criterion: z.enum(['gini', 'entropy', 'log_loss', 'squared_error']).optional().describe('gini, entropy (= log_loss) for classification; squared_error for regression; absent: gini or squared_error by task'),
  max_depth: z.int().min(1).max(1000).nullable().default(null).describe('deepest a tree may grow (the root is depth 0); null: until leaves are pure'),
  min_samples_split: countOrFraction.default(2).describe('fewest rows a node needs to be split: a whole number of at least 2, or a fraction of the rows in (0, 1]'),
  min_samples_leaf: countOrFraction.default(1).describe('fewest rows in a leaf: a whole number, or a fraction of the rows below 1'),
  max_features: z
    .union([z.enum(['sqrt', 'log2']), countOrFraction])
    .nullable()
    .optional()
    .describe('features tried at each split (drawn anew per split): sqrt, log2, a fraction in (0, 1], a whole count above 1, or null for all; absent: sqrt for classification, all for regression'),
  bootstrap: z.boolean().default(true).describe('grow each tree on rows drawn with replacement'),
  max_samples: countOrFraction.nullable().default(null).describe('with bootstrap, rows drawn per tree: a fraction in (0, 1] or a whole count; null: as many as there are rows'),
  class_weight: classWeightSchema,
  max_bins: maxBinsSchema,
  n_jobs: nJobsSchema,
})

export type RandomForestParams = z.output<typeof randomForestParamsSchema>

interface RandomForestJson {
  signature: Signature
  task: Task
  /** As trained with: defaults filled and resolved for the task and the data; n_jobs left out. */
  hyper_parameters: Record<string, unknown>
  seed: number
  trees: EnsembleJson
  importances: FeatureImportance[]
  warnings: string[]
}

const modelJsonSchema = z.object({
  signature: signatureSchema,
  task: z.enum(['classification', 'regression']),
  hyper_parameters: z.record(z.string(), z.unknown()),
  seed: z.number(),
  trees: ensembleJsonSchema,
  importances: z.array(z.object({ feature: z.string(), gain: z.number(), splits: z.int() })),
  warnings: z.array(z.string()),
})

/** Features tried per split, as scikit-learn resolves max_features. */
export function featuresPerSplit(maxFeatures: RandomForestParams['max_features'], task: Task, features: number): number {
  const value = maxFeatures === undefined ? (task === 'classification' ? 'sqrt' : 1) : maxFeatures
  if (value === null) return features
  if (value === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(features)))
  if (value === 'log2') return Math.max(1, Math.floor(Math.log2(features)))
  if (value <= 1) return Math.max(1, Math.floor(value * features))
  if (!Number.isInteger(value)) throw paramError('max_features', `${quote(value)} is neither a fraction in (0, 1] nor a whole count of features`)
  if (value > features) throw paramError('max_features', `${value} is more than the ${features} features of the data`, `Set model.max_features to at most ${features}, or to a fraction such as 1.0 (all features).`)
  return value
}

/** Python's round(): halves to the even neighbour, as scikit-learn rounds max_samples × rows (2.5 → 2). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x)
  const rest = x - floor
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor
}

/**
 * A row count from a whole number of at least `min`, or from a fraction of `rows` (a value below `min`, at most 1;
 * rounded up, as scikit-learn does).
 */
function rowsOf(field: string, value: number, rows: number, min: number): number {
  if (value < min && value <= 1) return Math.max(min, Math.ceil(value * rows))
  if (!Number.isInteger(value) || value < min) throw paramError(field, `${quote(value)} is neither a whole number of at least ${min} nor a fraction of the rows in (0, ${min > 1 ? '1]' : '1)'}`)
  return value
}

async function fitRandomForest(o: TrainInput<RandomForestParams>): Promise<Predictor> {
  const h = o.hyperParameters
  checkSeed(o.seed)
  const classes = classesOf(o.task, o.signature)
  const criterion: Criterion = h.criterion === undefined ? (classes ? 'gini' : 'squared_error') : h.criterion === 'log_loss' ? 'entropy' : h.criterion
  if (classes && criterion === 'squared_error') throw paramError('criterion', 'squared_error is a regression criterion; classification takes gini or entropy', 'Remove model.criterion, or set it to gini or entropy.')
  if (!classes && criterion !== 'squared_error') throw paramError('criterion', `${quote(criterion)} is a classification criterion; regression takes squared_error`, 'Remove model.criterion, or set it to squared_error.')
  if (!classes && h.class_weight !== null) throw paramError('class_weight', 'weighs classes, and regression has none', 'Remove model.class_weight.')
  if (!h.bootstrap && h.max_samples !== null) throw paramError('max_samples', 'draws rows for bootstrap, and bootstrap is false', 'Remove model.max_samples, or set bootstrap: true.')
  const kinds = featureKinds(o.signature, h.max_bins)
  const problem = toProblem(o.signature, o.data, classes, kinds, h.class_weight)
  const n = problem.rows
  const maxFeatures = featuresPerSplit(h.max_features, o.task, problem.features)
  const minSamplesSplit = rowsOf('min_samples_split', h.min_samples_split, n, 2)
  const minSamplesLeaf = rowsOf('min_samples_leaf', h.min_samples_leaf, n, 1)
  const maxSamples = h.max_samples === null ? n : h.max_samples <= 1 ? Math.max(1, roundHalfEven(h.max_samples * n)) : h.max_samples
  if (!Number.isInteger(maxSamples) || maxSamples > n) throw paramError('max_samples', `${quote(h.max_samples)} is more than the ${n} rows, or not a whole count`)
  const forest = await trainForest(problem, {
    classes: classes?.length ?? 0,
    criterion,
    maxDepth: h.max_depth,
    minSamplesSplit,
    minSamplesLeaf,
    maxFeatures,
    bootstrap: h.bootstrap,
    maxSamples,
    seed: o.seed,
    nEstimators: h.n_estimators,
    maxBins: h.max_bins,
    nJobs: threadsOf(h.n_jobs, n * h.n_estimators >= PARALLEL_WORK),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  })
  const { n_jobs: _threads, ...given } = h
  const json: RandomForestJson = {
    signature: o.signature,
    task: o.task,
    hyper_parameters: { ...given, criterion, max_features: maxFeatures, min_samples_split: minSamplesSplit, min_samples_leaf: minSamplesLeaf, max_samples: h.bootstrap ? maxSamples : null },
    seed: o.seed,
    trees: ensembleToJson(forest.ensemble),
    importances: importancesOf(o.signature, forest.gain, forest.splits),
    warnings: [],
  }
  if (classes) {
    const score = scorer(forest.ensemble)
    const predicted = Int32Array.from(sampleRows(n), (r) => score.classIndex(score.mean(o.data.X[r]!)))
    json.warnings = classWarnings(problem.target, classes, predicted, h.class_weight)
  }
  return makePredictor(json, forest.ensemble)
}

export function loadRandomForest(json: unknown, manifest: ModelManifest): Predictor {
  const parsed = modelJsonSchema.safeParse(json)
  if (!parsed.success) {
    const { field, text } = describeIssues(parsed.error)
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: model.json is not a ${RANDOM_FOREST} model (${text})`, { where: { file: 'model.json', field } })
  }
  const data = parsed.data as RandomForestJson
  const ensemble = ensembleFromJson(parsed.data.trees, data.signature, manifest)
  const outputs = data.task === 'classification' && data.signature.target.type === 'category' ? data.signature.target.classes.length : 1
  if (ensemble.outputs !== outputs) {
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: its leaves hold ${ensemble.outputs} values, its signature needs ${outputs}`, { where: { file: 'model.json', field: 'trees.outputs' } })
  }
  return makePredictor(data, ensemble)
}

/** The mean over trees of their leaves' values (class distributions, or values), and the class it gives. */
function scorer(e: TreeEnsemble) {
  const K = e.outputs
  const sum = new Float64Array(K)
  return {
    /** Into a buffer reused by the next call. */
    mean(row: readonly number[]): Float64Array {
      sum.fill(0)
      for (let t = 0; t < e.trees; t++) {
        const at = leafOf(e, t, row) * K
        for (let k = 0; k < K; k++) sum[k]! += e.values[at + k]!
      }
      for (let k = 0; k < K; k++) sum[k]! /= e.trees
      return sum
    },
    /** The most probable class; the first on a tie. */
    classIndex(p: Float64Array): number {
      let best = 0
      for (let k = 1; k < K; k++) if (p[k]! > p[best]!) best = k
      return best
    },
  }
}

function makePredictor(json: RandomForestJson, e: TreeEnsemble): Predictor {
  const { signature } = json
  // a copy of its own, so that nothing the caller still holds can change it (structuredClone: a model of
  // hundreds of megabytes has no JSON text short enough to round-trip through)
  const frozen = structuredClone(json)
  const classes = json.task === 'classification' && signature.target.type === 'category' ? signature.target.classes : null
  const { classIndex } = scorer(e)
  const K = e.outputs
  /** The mean of the trees' leaves, per row [r * K + k], tree by tree. */
  const means = (X: readonly (readonly number[])[]): Float64Array => {
    const out = new Float64Array(X.length * K)
    addLeafValues(e, X, out, K)
    for (let i = 0; i < out.length; i++) out[i]! /= e.trees
    return out
  }
  const meansInParallel = async (X: readonly (readonly number[])[], threads: number): Promise<Float64Array> => {
    const out = new Float64Array(X.length * K)
    await addLeafValuesInParallel(e, X, out, K, threads)
    for (let i = 0; i < out.length; i++) out[i]! /= e.trees
    return out
  }
  // rows checked against the signature (checkRows), by predict or by the caller (CheckedRows)
  const predictRows = (X: readonly (readonly number[])[]): (string | number)[] => {
    const m = means(X)
    if (!classes) return Array.from(m)
    return X.map((_, r) => classes[classIndex(m.subarray(r * K, (r + 1) * K))]!)
  }
  const probaRows = (X: readonly (readonly number[])[]): number[][] => {
    const m = means(X)
    return X.map((_, r) => Array.from(m.subarray(r * K, (r + 1) * K)))
  }
  const predictor: Predictor = {
    kind: RANDOM_FOREST,
    signature,
    warnings: frozen.warnings,
    toJSON: () => structuredClone(frozen),
    importances: () => structuredClone(frozen.importances),
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
      const m = await meansInParallel(X, threadsOf(o.threads ?? null, true))
      if (!classes) return { predictions: Array.from(m) }
      const row = (r: number) => m.subarray(r * K, (r + 1) * K)
      return { predictions: X.map((_, r) => classes[classIndex(row(r))]!), ...(o.probabilities ? { probabilities: X.map((_, r) => Array.from(row(r))) } : {}) }
    },
  }
  return withUncheckedRows(predictor, { predict: predictRows, ...(classes ? { predictProba: probaRows } : {}) })
}

export const randomForestKind: ModelKind<typeof randomForestParamsSchema> = {
  name: RANDOM_FOREST,
  params: randomForestParamsSchema,
  train: fitRandomForest,
  load: loadRandomForest,
  describe: (task) => (task === 'classification' ? 'random forest classifier' : 'random forest regressor'),
}
