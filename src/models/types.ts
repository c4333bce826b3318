// The shapes every model kind shares: what a model takes and gives (signature), the data it learns from, and
// what a trained model can do (predictor).

export interface Signature {
  features: { name: string; type: 'number' }[]
  target: { name: string; type: 'category'; classes: (string | number)[] } | { name: string; type: 'number' }
}

/** Rows of features and their targets: class labels (classification) or numbers (regression). */
export interface Dataset {
  X: number[][]
  y: (string | number)[]
}

export interface Predictor {
  /** e.g. 'ml-random-forest-classifier'; the store finds the loader by it. */
  readonly kind: string
  readonly signature: Signature
  /** Class labels (as in signature.target.classes) or numbers, one per row. */
  predict(X: number[][]): (string | number)[]
  /** Classifiers: per row, a probability per class, in signature.target.classes order. */
  predictProba?(X: number[][]): number[][]
  /** The trained model as plain data (never code); loaders rebuild the predictor from it. */
  toJSON(): unknown
}

export interface ModelManifest {
  manifest_version: 1
  id: string
  kind: string
  description: string
  signature: Signature
  input_example: Record<string, number>[]
  files: { model: { path: 'model.json'; sha256: string; size: number } }
}
