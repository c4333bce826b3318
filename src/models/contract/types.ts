// The shapes every model kind shares: what a model takes and gives (signature), the data it learns from, and
// what a trained model can do (predictor).
import type { DateFormat, DatetimePart } from '../../data/index.js'

/**
 * A model column. `number`: a number, or a part of a datetime input (`datetime`: which input and part). `boolean`:
 * 1 or 0. `category`: a category code, an index into `categories`; the values of `other` were folded into its
 * category `other.category` in training (rare ones). `missing`: whether training saw missing values (absent: not
 * recorded). src/data/encode.ts reads raw values into these columns.
 */
export type FeatureSpec =
  | { name: string; type: 'number'; missing?: boolean; datetime?: { column: string; part: DatetimePart; format?: DateFormat } }
  | { name: string; type: 'boolean'; missing?: boolean }
  | { name: string; type: 'category'; categories: (string | number)[]; other?: { category: string | number; values: (string | number)[] }; missing?: boolean }

export interface Signature {
  features: FeatureSpec[]
  target: { name: string; type: 'category'; classes: (string | number)[] } | { name: string; type: 'number' }
  /** How text input (a CSV cell) is read: the data set's missing-value tokens and decimal separator. */
  read?: { missing_values: string[]; decimal: '.' | ',' }
}

/**
 * Rows of features and their targets: class labels (classification) or numbers (regression). A feature value is a
 * number; NaN is a missing value, and a categorical feature holds the index of its category in the signature.
 */
export interface Dataset {
  X: number[][]
  y: (string | number)[]
}

/** How much a model uses one feature: the summed gain of its splits (normalized to sum 1) and their number. */
export interface FeatureImportance {
  feature: string
  /** Share of the model's total split gain (impurity decrease for forests, loss reduction for boosting). */
  gain: number
  splits: number
}

export interface Predictor {
  /** e.g. 'gradient_boosting'; the store finds the loader by it. */
  readonly kind: string
  readonly signature: Signature
  /**
   * Class labels (as in signature.target.classes) or numbers, one per row. A NaN feature value is missing, as is a
   * category code the model never saw in training.
   */
  predict(X: number[][]): (string | number)[]
  /** Classifiers: per row, a probability per class, in signature.target.classes order. */
  predictProba?(X: number[][]): number[][]
  /**
   * Many rows at once, on several threads (`threads`, default every core) when the batch is big enough: the
   * answers predict and predictProba give, to the bit. Kinds without it are called through predict.
   */
  predictBatch?(X: number[][], o?: { probabilities?: boolean; threads?: number }): Promise<BatchPrediction>
  /** Per feature of the signature, in its order, when the kind knows (tree ensembles do). */
  importances?(): FeatureImportance[]
  /** What training noticed and the user should know (a single predicted class, a rare class without weights). */
  readonly warnings?: readonly string[]
  /** The trained model as plain data (never code); loaders rebuild the predictor from it. */
  toJSON(): unknown
}

export interface BatchPrediction {
  predictions: (string | number)[]
  /** With `probabilities` (classifiers). */
  probabilities?: number[][]
}

export interface ModelManifest {
  manifest_version: 1
  id: string
  kind: string
  description: string
  signature: Signature
  /** A few input rows, keyed by feature name; null is a missing value. */
  input_example: Record<string, number | string | boolean | null>[]
  files: {
    model: { path: 'model.json'; sha256: string; size: number }
    /** An imported model's original file (source.json, source.onnx), as it was imported. */
    source?: { path: string; sha256: string; size: number }
  }
}
