// What mlskel's tree kinds share: checking training data against the signature, turning rows into the engine's
// columns, the hyper-parameter pieces both schemas use, warnings, and a tree ensemble as plain JSON (its typed
// arrays as base64, little-endian) and back, checked so that a damaged model.json can never send prediction astray.
import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { MlskelError, quote } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import { PARAMS_FILE } from '../../project/files.js'
import type { FeatureKind } from '../engine/binning.js'
import { MAX_BINS_LIMIT } from '../engine/binning.js'
import type { TrainingProblem } from '../engine/problem.js'
import { bitsetWords, CATEGORICAL, packNodes, type TreeEnsemble } from '../engine/tree.js'
import type { Dataset, FeatureImportance, ModelManifest, Signature } from '../contract/types.js'

export const nJobsSchema = z
  .union([z.literal(-1), z.int().min(1).max(1024)], { error: 'must be a whole count of threads from 1 to 1024, or -1 or null for every core' })
  .nullable()
  .default(null)
  .describe('threads to train with: a count, or null (or -1) for every core of the machine; the model is the same whatever it is')

export const maxBinsSchema = z.int().min(2).max(MAX_BINS_LIMIT).default(MAX_BINS_LIMIT).describe('bins per numeric feature (at most 255; a bin per value when there are fewer distinct values)')

export const classWeightSchema = z.enum(['balanced']).nullable().default(null).describe('balanced: weigh each class by rows / (classes × its rows), for imbalanced data; null: every row weighs 1')

/**
 * Threads to train with: n_jobs when given, but no more than the machine's cores (threads beyond them only wait
 * for each other); by default every core, once the work is big enough to repay starting worker threads (`big`),
 * else this thread alone. The model is the same either way.
 */
export function threadsOf(nJobs: number | null, big: boolean): number {
  const cores = availableParallelism()
  if (nJobs === null || nJobs === -1) return big ? cores : 1
  return Math.min(nJobs, cores)
}

export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `the seed must be a whole number from 0 to 2^32-1, got ${quote(seed)}`, { where: { file: PARAMS_FILE, field: 'split.seed' } })
  }
}

export function paramError(field: string, message: string, fix?: string): MlskelError {
  return new MlskelError('MLSKEL_PARAMS_INVALID', `model.${field}: ${message}`, { where: { file: PARAMS_FILE, field: `model.${field}` }, ...(fix ? { fix } : {}) })
}

/** The class labels of a classification signature (an error for a regression one), or null for regression. */
export function classesOf(task: Task, signature: Signature): (string | number)[] | null {
  if (task === 'regression') {
    if (signature.target.type !== 'number') throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is regression but the signature's target ${quote(signature.target.name)} is a category`)
    return null
  }
  if (signature.target.type !== 'category' || signature.target.classes.length === 0) {
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is classification but the signature's target ${quote(signature.target.name)} has no classes`, {
      fix: 'Give the signature\'s target type "category" and the list of its classes.',
    })
  }
  return signature.target.classes
}

export function featureKinds(signature: Signature, maxBins: number): FeatureKind[] {
  return signature.features.map((f) => {
    if (f.type !== 'category') return { categorical: false }
    if (f.categories.length > maxBins) {
      throw new MlskelError('MLSKEL_DATA_TOO_MANY_CATEGORIES', `feature ${quote(f.name)} has ${f.categories.length} categories; the model takes at most max_bins = ${maxBins}`, {
        where: { field: f.name },
      })
    }
    return { categorical: true, categories: f.categories.length }
  })
}

/**
 * The engine's problem from rows: columns per feature (a categorical value must be a code of the signature's
 * categories, or NaN for missing), the target as class indexes or values, and the class weights.
 */
export function toProblem(signature: Signature, data: Dataset, classes: (string | number)[] | null, kinds: FeatureKind[], classWeight: 'balanced' | null): TrainingProblem {
  const { X, y } = data
  const width = signature.features.length
  if (X.length === 0 || X.length !== y.length) throw new MlskelError('MLSKEL_DATA_TOO_FEW_ROWS', `cannot train on ${X.length} rows with ${y.length} targets`)
  const n = X.length
  const columns = Array.from({ length: width }, () => new Float64Array(n))
  for (let r = 0; r < n; r++) {
    const row = X[r]!
    if (!Array.isArray(row) || row.length !== width) throw wrongWidth(signature, row, r, 'training data')
    for (let f = 0; f < width; f++) {
      const v = row[f]
      if (typeof v !== 'number') throw badValue(signature, f, v, r, 'training data', 'not a number (missing values are NaN)')
      const kind = kinds[f]!
      if (kind.categorical && v === v && !(Number.isInteger(v) && v >= 0 && v < kind.categories)) {
        throw badValue(signature, f, v, r, 'training data', `not a category code from 0 to ${kind.categories - 1}`)
      }
      columns[f]![r] = v
    }
  }
  const target = new Float64Array(n)
  if (classes) {
    const index = new Map(classes.map((c, i) => [c, i]))
    y.forEach((label, row) => {
      const i = index.get(label)
      if (i === undefined) {
        throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `row ${row + 1}: ${signature.target.name} is ${quote(label)}, not one of the classes ${quote(classes)}`, {
          where: { field: signature.target.name },
          fix: 'List every label of the target in the signature\'s classes.',
        })
      }
      target[row] = i
    })
  } else {
    y.forEach((value, row) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new MlskelError('MLSKEL_DATA_INVALID_VALUE', `row ${row + 1}: ${signature.target.name} is ${quote(value)}, not a finite number`, { where: { field: signature.target.name } })
      }
      target[row] = value
    })
  }
  return { rows: n, features: width, columns, kinds, target, weights: classes && classWeight === 'balanced' ? balancedWeights(target, classes.length) : null }
}

/** scikit-learn's compute_sample_weight('balanced'): rows / (classes present × rows of the class). */
export function balancedWeights(target: Float64Array, classes: number): Float64Array {
  const counts = new Float64Array(classes)
  for (const c of target) counts[c]!++
  const present = counts.filter((c) => c > 0).length
  return Float64Array.from(target, (c) => target.length / (present * counts[c]!))
}

function wrongWidth(signature: Signature, row: unknown, r: number, what: string): MlskelError {
  const got = Array.isArray(row) ? `${row.length} values` : quote(row)
  return new MlskelError('MLSKEL_DATA_MISSING_COLUMNS', `${what} row ${r + 1} has ${got}; the model takes ${signature.features.length} features (${signature.features.map((f) => f.name).join(', ')})`)
}

function badValue(signature: Signature, f: number, v: unknown, r: number, what: string, problem: string): MlskelError {
  const name = signature.features[f]!.name
  return new MlskelError('MLSKEL_DATA_INVALID_VALUE', `${what} row ${r + 1}: feature ${quote(name)} is ${quote(v)}, ${problem}`, { where: { field: name } })
}

/** Prediction input: rows of the signature's width holding numbers (NaN = missing). */
export function checkRows(signature: Signature, X: readonly (readonly unknown[])[]): void {
  const width = signature.features.length
  for (let r = 0; r < X.length; r++) {
    const row = X[r]
    if (!Array.isArray(row) || row.length !== width) throw wrongWidth(signature, row, r, 'input')
    for (let f = 0; f < width; f++) if (typeof row[f] !== 'number') throw badValue(signature, f, row[f], r, 'input', 'not a number (missing values are NaN)')
  }
}

/** Warnings a classifier's training earns: a single predicted class, or a rare class left unweighted. */
export function classWarnings(target: Float64Array, classes: readonly (string | number)[], predicted: Int32Array, classWeight: 'balanced' | null): string[] {
  const warnings: string[] = []
  const seen = new Set(predicted)
  if (seen.size === 1) {
    warnings.push(`the model predicts a single class (${quote(classes[[...seen][0]!])}) for every training row: it has learnt nothing beyond the majority; check the features, or try class_weight: balanced`)
  }
  if (classWeight === null) {
    const counts = new Float64Array(classes.length)
    for (const c of target) counts[c]!++
    let rarest = -1
    for (let k = 0; k < classes.length; k++) if (counts[k]! > 0 && (rarest < 0 || counts[k]! < counts[rarest]!)) rarest = k
    const share = rarest >= 0 ? counts[rarest]! / target.length : 1
    if (share < 0.05) {
      warnings.push(`class ${quote(classes[rarest])} is ${(share * 100).toFixed(1)}% of the training rows and class_weight is not set: accuracy will flatter the model; set model.class_weight: balanced, and judge it by balanced_accuracy, roc_auc or average_precision`)
    }
  }
  return warnings
}

/** Rows spread evenly over the data, at most `max`: enough to see what a model predicts, cheap on a million rows. */
export function sampleRows(n: number, max = 10_000): Int32Array {
  if (n <= max) return Int32Array.from({ length: n }, (_, i) => i)
  return Int32Array.from({ length: max }, (_, i) => Math.floor((i * n) / max))
}

export function importancesOf(signature: Signature, gain: readonly number[], splits: readonly number[]): FeatureImportance[] {
  const total = gain.reduce((a, b) => a + b, 0)
  return signature.features.map((f, i) => ({ feature: f.name, gain: total > 0 ? gain[i]! / total : 0, splits: splits[i]! }))
}

// ---------------------------------------------------------------------------------------------------------------
// A tree ensemble as JSON

export interface EnsembleJson {
  trees: number
  outputs: number
  roots: string
  feature: string
  threshold: string
  right: string
  flags: string
  values: string
  bitsets: string
  known: string
}

function encode(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64')
}

/** A typed array from base64, or null when the bytes are not a whole number of its elements. */
function decode<T>(text: string, Type: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T | null {
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length % Type.BYTES_PER_ELEMENT !== 0) return null
  const copy = new ArrayBuffer(bytes.length) // aligned, and not shared with Buffer's pool
  new Uint8Array(copy).set(bytes)
  return new Type(copy)
}

export function ensembleToJson(e: TreeEnsemble): EnsembleJson {
  return {
    trees: e.trees,
    outputs: e.outputs,
    roots: encode(e.roots),
    feature: encode(e.feature),
    threshold: encode(e.threshold),
    right: encode(e.right),
    flags: encode(e.flags),
    values: encode(e.values),
    bitsets: encode(e.bitsets),
    known: encode(e.known),
  }
}

export const ensembleJsonSchema = z.strictObject({
  trees: z.int().min(1),
  outputs: z.int().min(1),
  roots: z.base64(),
  feature: z.base64(),
  threshold: z.base64(),
  right: z.base64(),
  flags: z.base64(),
  values: z.base64(),
  bitsets: z.base64(),
  known: z.base64(),
})

/** Per feature of the signature: its categories (0 numeric), and where its known-category bitset starts. */
export function categoryLayout(signature: Signature): { categories: Int32Array; knownOffset: Int32Array; words: number } {
  const categories = Int32Array.from(signature.features, (f) => (f.type === 'category' ? f.categories.length : 0))
  const knownOffset = new Int32Array(categories.length).fill(-1)
  let words = 0
  categories.forEach((k, f) => {
    if (k > 0) {
      knownOffset[f] = words
      words += bitsetWords(k)
    }
  })
  return { categories, knownOffset, words }
}

/**
 * The ensemble of a model.json, checked: every array the length the others imply, every child after its parent and
 * inside its tree, every feature in the signature, every categorical split on a categorical feature with its bitset
 * inside the bitsets, every leaf row inside the values. A model that fails is corrupt (MLSKEL_MODEL_CORRUPT).
 */
export function ensembleFromJson(json: z.output<typeof ensembleJsonSchema>, signature: Signature, manifest: ModelManifest): TreeEnsemble {
  const corrupt = (why: string) => new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: its trees are damaged (${why})`, { where: { file: 'model.json', field: 'trees' } })
  const roots = decode(json.roots, Int32Array)
  const feature = decode(json.feature, Int32Array)
  const threshold = decode(json.threshold, Float64Array)
  const right = decode(json.right, Int32Array)
  const flags = decode(json.flags, Uint8Array)
  const values = decode(json.values, Float64Array)
  const bitsets = decode(json.bitsets, Uint32Array)
  const known = decode(json.known, Uint32Array)
  if (!roots || !feature || !threshold || !right || !flags || !values || !bitsets || !known) throw corrupt('an array is not a whole number of its elements')
  const nodes = feature.length
  if (roots.length !== json.trees) throw corrupt(`${roots.length} roots for ${json.trees} trees`)
  if (threshold.length !== nodes || right.length !== nodes || flags.length !== nodes) throw corrupt('node arrays of different lengths')
  if (values.length % json.outputs !== 0) throw corrupt('leaf values are not a whole number of leaves')
  const layout = categoryLayout(signature)
  if (known.length !== layout.words) throw corrupt('the known categories do not fit the signature')
  const leaves = values.length / json.outputs
  const width = signature.features.length
  for (let t = 0; t < json.trees; t++) {
    const start = roots[t]!
    const end = t + 1 < json.trees ? roots[t + 1]! : nodes
    if (start < 0 || end > nodes || start >= end || (t === 0 && start !== 0)) throw corrupt(`tree ${t} has no nodes`)
    for (let n = start; n < end; n++) {
      const f = feature[n]!
      if (f < 0) {
        if (f !== -1 || right[n]! < 0 || right[n]! >= leaves) throw corrupt(`leaf ${n} points outside the values`)
        continue
      }
      if (f >= width) throw corrupt(`node ${n} tests feature ${f} of ${width}`)
      if (n + 1 >= end || right[n]! <= n + 1 || right[n]! >= end) throw corrupt(`node ${n}'s children are outside its tree`)
      if (flags[n]! & CATEGORICAL) {
        const words = bitsetWords(layout.categories[f]!)
        const at = threshold[n]!
        if (layout.categories[f] === 0 || !Number.isInteger(at) || at < 0 || at + words > bitsets.length) throw corrupt(`categorical node ${n} has no bitset`)
      } else if (Number.isNaN(threshold[n])) {
        throw corrupt(`node ${n} has no threshold`)
      }
    }
  }
  return {
    features: width,
    outputs: json.outputs,
    trees: json.trees,
    roots,
    feature,
    threshold,
    right,
    flags,
    values,
    bitsets,
    categories: layout.categories,
    known,
    knownOffset: layout.knownOffset,
    ...packNodes(feature, threshold, right, flags),
  }
}

/** Every value of a finished model.json field list is plain JSON; the manifest's input example as the model takes it. */
export function inputExampleOf(signature: Signature, X: readonly (readonly number[])[], rows = 3): Record<string, number | null>[] {
  return X.slice(0, rows).map((row) => Object.fromEntries(signature.features.map((f, i) => [f.name, Number.isNaN(row[i]) ? null : row[i]!])))
}
