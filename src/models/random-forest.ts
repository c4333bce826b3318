// The ml.js random forest as an mlskel model kind: training with scikit-learn-named hyper-parameters, class
// probabilities from the trees' votes, and a compact, deterministic, plain-JSON form that the store saves.
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest'
import { z } from 'zod'
import { MlskelError, quote } from '../errors/index.js'
import { randomForestParamsSchema, PARAMS_FILE, type Task } from '../params/index.js'
import { signatureSchema } from './signature.js'
import { installFastSplit } from './fast-split.js'
import { compileForest, predictClassIndexes, predictProbabilities, predictValues } from './flat-forest.js'
import type { Dataset, ModelManifest, Predictor, Signature } from './types.js'

installFastSplit() // ml-cart's O(n²) split search, replaced by an equivalent O(n log n) one (see fast-split.ts)

export const RANDOM_FOREST_CLASSIFIER = 'ml-random-forest-classifier'
export const RANDOM_FOREST_REGRESSOR = 'ml-random-forest-regressor'

export type RandomForestHyperParameters = z.output<typeof randomForestParamsSchema>

type Forest = RandomForestClassifier | RandomForestRegression

/**
 * Train a random forest: a classifier for classification (labels of signature.target.classes), a regressor for
 * regression. The same data, hyper-parameters and seed give the same trees, and so the same model.json bytes.
 */
export function trainRandomForest(o: { task: Task; hyperParameters: z.input<typeof randomForestParamsSchema>; seed: number; signature: Signature; data: Dataset }): Predictor {
  const hyperParameters = parseHyperParameters(o.hyperParameters)
  const { signature, data, task } = o
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 2 ** 32 - 1) {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `the seed must be a whole number from 0 to 2^32-1, got ${quote(o.seed)}`, { where: { file: PARAMS_FILE, field: 'split.seed' } })
  }
  const classes = task === 'classification' ? classesOf(signature) : undefined
  if (task === 'regression' && signature.target.type !== 'number') {
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is regression but the signature's target ${quote(signature.target.name)} is a category`)
  }
  checkRows(signature, data.X, 'training data')
  if (data.X.length === 0 || data.X.length !== data.y.length) {
    throw new MlskelError('MLSKEL_DATA_TOO_FEW_ROWS', `cannot train on ${data.X.length} rows with ${data.y.length} targets`)
  }
  const y = classes ? labelIndexes(data.y, classes, signature.target.name) : numericTargets(data.y, signature.target.name)

  const nFeatures = signature.features.length
  const options = {
    nEstimators: hyperParameters.n_estimators,
    maxFeatures: mlMaxFeatures(featuresPerTree(hyperParameters.max_features, nFeatures), nFeatures),
    // Each tree gets distinct features: with replacement (ml.js's classifier default) a tree could see one twice.
    replacement: false,
    useSampleBagging: hyperParameters.bootstrap,
    seed: o.seed,
    // Out-of-bag predictions are not kept in the model and cost a prediction per tree.
    noOOB: true,
    treeOptions: treeOptions(hyperParameters),
  }
  const forest = classes ? new RandomForestClassifier(options) : new RandomForestRegression({ ...options, selectionMethod: 'mean' })
  forest.train(data.X, y)
  const json: RandomForestJson = { signature, hyper_parameters: hyperParameters, seed: o.seed, forest: compactForest(forest.toJSON()) }
  return makePredictor(classes ? RANDOM_FOREST_CLASSIFIER : RANDOM_FOREST_REGRESSOR, json, forest)
}

interface RandomForestJson {
  signature: Signature
  hyper_parameters: RandomForestHyperParameters
  seed: number
  forest: unknown
}

const modelJsonSchema = z.object({
  signature: signatureSchema,
  hyper_parameters: z.record(z.string(), z.unknown()),
  seed: z.number(),
  forest: z.object({ name: z.enum(['RFClassifier', 'RFRegression']), baseModel: z.object({ estimators: z.array(z.unknown()), indexes: z.array(z.array(z.int())) }).loose() }).loose(),
})

/**
 * Rebuild a random forest predictor from its model.json (plain data; nothing in it is run). It predicts with the
 * forest compiled to flat arrays (flat-forest.ts: identical results, without ml.js's per-call allocations) unless
 * `o.flat` is false or the forest is not one the compiler reproduces exactly; then with ml.js's own.
 */
export function loadRandomForest(kind: string, o: { flat?: boolean } = {}) {
  return (json: unknown, manifest: ModelManifest): Predictor => {
    const parsed = modelJsonSchema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: model.json is not a ${kind} (${issue.path.join('.') || 'top level'}: ${issue.message})`, { where: { file: 'model.json', field: issue.path.join('.') } })
    }
    const expected = kind === RANDOM_FOREST_CLASSIFIER ? 'RFClassifier' : 'RFRegression'
    if (parsed.data.forest.name !== expected) {
      throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: kind ${quote(kind)} holds a ${quote(parsed.data.forest.name)} forest`, { where: { file: 'model.json', field: 'forest.name' } })
    }
    const data = json as RandomForestJson
    let forest: Forest
    try {
      // load() mutates nothing it is given but keeps references: give it its own copy.
      const copy = structuredClone(data.forest) as Parameters<typeof RandomForestClassifier.load>[0] & Parameters<typeof RandomForestRegression.load>[0]
      forest = kind === RANDOM_FOREST_CLASSIFIER ? RandomForestClassifier.load(copy) : RandomForestRegression.load(copy)
    } catch (error) {
      throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: its forest cannot be read: ${error instanceof Error ? error.message : String(error)}`, { where: { file: 'model.json', field: 'forest' }, cause: error })
    }
    return makePredictor(kind, data, forest, o.flat ?? true)
  }
}

function makePredictor(kind: string, json: RandomForestJson, forest: Forest, flat = true): Predictor {
  const { signature } = json
  const frozen = JSON.parse(JSON.stringify(json)) as RandomForestJson
  const base = { kind, signature, toJSON: () => structuredClone(frozen) }
  const regression = kind === RANDOM_FOREST_REGRESSOR
  const classes = regression ? [] : classesOf(signature)
  const compiled = flat ? compileForest(frozen.forest, { task: regression ? 'regression' : 'classification', features: signature.features.length, classes: classes.length }) : undefined
  if (!compiled?.ok) return libraryPredictor(base, classes, forest)
  // (ml.js's forest is not referenced from here on, so it is not kept alive beside the flat one)
  const f = compiled.forest
  if (regression) {
    return {
      ...base,
      predict(X) {
        checkRows(signature, X, 'input')
        return predictValues(f, X)
      },
    }
  }
  return {
    ...base,
    predictProba(X) {
      checkRows(signature, X, 'input')
      return predictProbabilities(f, X)
    },
    predict(X) {
      checkRows(signature, X, 'input')
      return predictClassIndexes(f, X).map((i) => classes[i]!)
    },
  }
}

/** The same predictor, predicting with ml.js's own forest. */
function libraryPredictor(base: { kind: string; signature: Signature; toJSON: () => RandomForestJson }, classes: (string | number)[], forest: Forest): Predictor {
  const { signature, kind } = base
  if (kind === RANDOM_FOREST_REGRESSOR) {
    return {
      ...base,
      predict(X) {
        checkRows(signature, X, 'input')
        return X.length === 0 ? [] : forest.predict(X)
      },
    }
  }
  const predictProba = (X: number[][]): number[][] => {
    checkRows(signature, X, 'input')
    if (X.length === 0) return []
    // Each tree votes for a class index; a class's probability is its share of the votes. (ml.js's own
    // predictProbability is wrong: its reduce starts from the first vote instead of 0.)
    const votes = forest.predictionValues(X).to2DArray()
    return votes.map((row) => {
      const counts = new Array<number>(classes.length).fill(0)
      for (const vote of row) counts[vote] = (counts[vote] ?? 0) + 1
      return counts.map((count) => count / row.length)
    })
  }
  return {
    ...base,
    predictProba,
    predict(X) {
      // The class with most votes; a tie goes to the class listed first.
      return predictProba(X).map((p) => classes[p.indexOf(Math.max(...p))]!)
    },
  }
}

function parseHyperParameters(input: z.input<typeof randomForestParamsSchema>): RandomForestHyperParameters {
  const parsed = randomForestParamsSchema.safeParse(input)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  const field = ['model', ...issue.path].join('.')
  throw new MlskelError('MLSKEL_PARAMS_INVALID', `${field}: ${issue.message}`, { where: { file: PARAMS_FILE, field } })
}

/** How many features each tree sees: a fraction in (0, 1] of them (at least one), or a whole count. */
export function featuresPerTree(maxFeatures: number, nFeatures: number): number {
  const where = { file: PARAMS_FILE, field: 'model.max_features' }
  if (maxFeatures <= 1) return Math.max(1, Math.floor(maxFeatures * nFeatures))
  if (!Number.isInteger(maxFeatures)) {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `max_features ${quote(maxFeatures)} is neither a fraction in (0, 1] nor a whole count of features`, { where })
  }
  if (maxFeatures > nFeatures) {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `max_features ${maxFeatures} is more than the ${nFeatures} features of the data`, { where, fix: `Set model.max_features to at most ${nFeatures}, or to a fraction such as 1.0 (all features).` })
  }
  return maxFeatures
}

/**
 * ml.js reads maxFeatures in (0, 1] as a fraction (so 1 means all features, never one) and a whole number above
 * 1 as a count. Turn a count into the value that gives exactly that count.
 */
function mlMaxFeatures(count: number, nFeatures: number): number {
  if (count === nFeatures) return 1
  // floor(nFeatures * 1.5 / nFeatures) is 1, with room to spare for rounding.
  if (count === 1) return 1.5 / nFeatures
  return count
}

function treeOptions(h: RandomForestHyperParameters): Record<string, number> {
  // ml-cart makes a leaf of a node with at most minNumSamples rows; scikit-learn splits a node of at least
  // min_samples_split rows (default 2). Absent options must be left out: an undefined one would override
  // ml-cart's default.
  const options: Record<string, number> = { minNumSamples: (h.min_samples_split ?? 2) - 1 }
  if (h.max_depth !== undefined) options.maxDepth = h.max_depth
  return options
}

interface TreeNodeJson {
  distribution?: unknown
  splitValue?: number
  splitColumn?: number
  gain?: number
  numberSamples?: number
  left?: TreeNodeJson
  right?: TreeNodeJson
}

/**
 * ml.js's own JSON repeats every tree's options at every node and keeps a leaf's split attempt. Keep what
 * loading and predicting read: splits for inner nodes, the distribution (or value) for leaves.
 */
function compactForest(forest: unknown): unknown {
  const plain = JSON.parse(JSON.stringify(forest)) as { baseModel: { estimators: { root: TreeNodeJson }[] } }
  for (const estimator of plain.baseModel.estimators) estimator.root = compactNode(estimator.root)
  return plain
}

function compactNode(node: TreeNodeJson): TreeNodeJson {
  if (node.distribution !== undefined && node.distribution !== null) return { distribution: node.distribution }
  return { splitValue: node.splitValue!, splitColumn: node.splitColumn!, gain: node.gain!, numberSamples: node.numberSamples!, left: compactNode(node.left!), right: compactNode(node.right!) }
}

function classesOf(signature: Signature): (string | number)[] {
  if (signature.target.type !== 'category' || signature.target.classes.length === 0) {
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is classification but the signature's target ${quote(signature.target.name)} has no classes`, {
      fix: 'Give the signature\'s target type "category" and the list of its classes.',
    })
  }
  return signature.target.classes
}

function labelIndexes(y: readonly (string | number)[], classes: readonly (string | number)[], target: string): number[] {
  const index = new Map(classes.map((c, i) => [c, i]))
  return y.map((label, row) => {
    const i = index.get(label)
    if (i === undefined) {
      throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `row ${row + 1}: ${target} is ${quote(label)}, not one of the classes ${quote(classes)}`, { where: { field: target }, fix: 'List every label of the target in the signature\'s classes.' })
    }
    return i
  })
}

function numericTargets(y: readonly (string | number)[], target: string): number[] {
  return y.map((value, row) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `row ${row + 1}: ${target} is ${quote(value)}, not a finite number`, { where: { field: target } })
    }
    return value
  })
}

function checkRows(signature: Signature, X: readonly (readonly number[])[], what: string): void {
  const width = signature.features.length
  X.forEach((row, i) => {
    if (row.length !== width) {
      throw new MlskelError('MLSKEL_DATA_MISSING_COLUMNS', `${what} row ${i + 1} has ${row.length} values; the model takes ${width} features (${signature.features.map((f) => f.name).join(', ')})`)
    }
    for (let j = 0; j < width; j++) {
      if (typeof row[j] !== 'number' || !Number.isFinite(row[j])) {
        throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `${what} row ${i + 1}: feature ${quote(signature.features[j]!.name)} is ${quote(row[j])}, not a finite number`, { where: { field: signature.features[j]!.name } })
      }
    }
  })
}
