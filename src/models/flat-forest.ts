// A trained ml-random-forest compiled into flat typed arrays, predicting with a tight loop: what the prediction API
// uses for the random forest kinds (src/models/random-forest.ts wires it into the loaded and trained predictors).
//
// Why: ml-random-forest 2.1's predict builds an ml-matrix Matrix of the input, then per tree a column-selection view,
// a row array per row, and a transposed wrapper of all the votes: ~40 µs for one iris row and ~13 µs per row in
// batches (100 trees), ~54 µs per row for 30 features — the library, not the HTTP stack, would bound /predict.
// The flat form does the same comparisons without allocating: ~1 µs per row.
//
// Same results, not just close ones. What the library (ml-random-forest 2.1 over ml-cart 2.1) computes, and the flat form
// reproduces:
// - tree t sees the columns `indexes[t]` of a row; a node sends the row left when `row[indexes[t][splitColumn]] <
//   splitValue` and right otherwise (so NaN, which no validated input holds, goes right in both); compiled, a node
//   holds the original column, so no per-tree row copy is needed;
// - a classifier tree's vote is the first index of the maximum of its leaf's distribution (ml-matrix's maxRowIndex:
//   `>` from index 0); it depends on the leaf alone, so it is computed once here;
// - mlskel's classifier (random-forest.ts) counts votes per class in tree order, a probability is `count / trees`,
//   and the class is the first with most votes (a tie goes to the class listed first); counts are whole numbers, so
//   count / trees orders as count does and the first maximum of the counts is the first maximum of the
//   probabilities;
// - the regressor (selection 'mean') is ml-array-mean: a sum from 0 over the trees' leaf values in tree order, then
//   divided by the number of trees; the flat form adds the same numbers in the same order.
// It is compiled from the forest's model.json (the compact plain form that the store saves), which is what the
// library itself loads.
//
// When it steps aside (the caller keeps the library's predictor): another ml-random-forest or ml-cart version than
// 2.1.x, and any model whose shape the compiler does not recognise exactly — a regressor with selection 'median', a
// tree count that differs from nEstimators or from the feature subsets, a node without a numeric split, a column
// outside the tree's subset or the signature, a leaf distribution that is not one row of numbers, or a vote beyond
// the signature's classes. compileForest says why.
//
// How it is verified (src/models/flat-forest.test.ts): for the iris-like clusters, synthetic data with 30 features,
// regression, forests of 1 to 100 trees with feature subsets, and thousands of rows including values far outside the
// training range and exactly on thresholds, the flat and the library predictors give identical predictions (===) and
// identical probabilities (Object.is per value); ties in votes are constructed and resolved alike.
import { createRequire } from 'node:module'

export interface FlatForest {
  readonly task: 'classification' | 'regression'
  readonly trees: number
  /** Columns a row must have (the signature's features). */
  readonly features: number
  /** Classification: the number of classes (the signature's); 0 for regression. */
  readonly classes: number
  /** Per tree, the index of its root node. */
  readonly roots: Int32Array
  /** Per node: the row's column it tests (an index into the original row), or -1 for a leaf. */
  readonly column: Int32Array
  /** Per node: the split value (inner nodes), or the leaf's value (regression) or vote (classification: a class index). */
  readonly value: Float64Array
  /** Per inner node: its right child (its left child is the next node). */
  readonly right: Int32Array
}

export type CompileResult = { ok: true; forest: FlatForest } | { ok: false; reason: string }

/** How often forests were compiled, stepped aside, and how many rows the flat form predicted (tests check it runs). */
export const flatForestStats = { compiled: 0, declined: 0, rows: 0 }

interface NodeJson {
  distribution?: unknown
  splitValue?: unknown
  splitColumn?: unknown
  left?: unknown
  right?: unknown
}

let versionCheck: string | null | undefined

/** null when the installed ml-random-forest and ml-cart are the 2.1.x whose semantics the flat form reproduces. */
function versionProblem(): string | null {
  if (versionCheck !== undefined) return versionCheck
  try {
    const fromHere = createRequire(import.meta.url)
    const fromForest = createRequire(fromHere.resolve('ml-random-forest'))
    const forest = (fromHere('ml-random-forest/package.json') as { version: string }).version
    const cart = (fromForest('ml-cart/package.json') as { version: string }).version
    versionCheck = !/^2\.1\.\d+$/.test(forest) ? `ml-random-forest ${forest} is not 2.1.x` : !/^2\.1\.\d+$/.test(cart) ? `ml-cart ${cart} is not 2.1.x` : null
  } catch (error) {
    versionCheck = `cannot read the versions of ml-random-forest and ml-cart: ${error instanceof Error ? error.message : String(error)}`
  }
  return versionCheck
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Compile a forest's plain JSON (model.json's `forest`: `{ name: 'RFClassifier' | 'RFRegression', baseModel, selectionMethod? }`).
 * `features`: the signature's feature count; `classes`: the signature's class count (classification).
 */
export function compileForest(forestJson: unknown, o: { task: 'classification' | 'regression'; features: number; classes?: number }): CompileResult {
  const result = compile(forestJson, o)
  if (result.ok) flatForestStats.compiled++
  else flatForestStats.declined++
  return result
}

function compile(forestJson: unknown, o: { task: 'classification' | 'regression'; features: number; classes?: number }): CompileResult {
  const fail = (reason: string): CompileResult => ({ ok: false, reason })
  const problem = versionProblem()
  if (problem) return fail(problem)
  if (!isObject(forestJson) || !isObject(forestJson.baseModel)) return fail('no baseModel')
  const classification = o.task === 'classification'
  if (forestJson.name !== (classification ? 'RFClassifier' : 'RFRegression')) return fail(`a ${String(forestJson.name)} is not a ${o.task} forest`)
  if (!classification && forestJson.selectionMethod !== 'mean') return fail(`selection method ${String(forestJson.selectionMethod)} (only mean is compiled)`)
  const nClasses = classification ? (o.classes ?? 0) : 0
  if (classification && !(nClasses >= 1)) return fail('no classes')
  const base = forestJson.baseModel
  const { estimators, indexes, nEstimators } = base
  if (base.isClassifier !== classification) return fail('isClassifier does not match the task')
  if (!Array.isArray(estimators) || !Array.isArray(indexes)) return fail('no estimators or indexes')
  if (typeof nEstimators !== 'number' || !Number.isInteger(nEstimators) || nEstimators < 1 || estimators.length !== nEstimators || indexes.length !== nEstimators) {
    return fail(`nEstimators ${String(nEstimators)} with ${estimators.length} trees and ${indexes.length} feature subsets`)
  }
  const expectedTree = classification ? 'DTClassifier' : 'DTRegression'

  // First pass: validate and count nodes; second: fill. Preorder, the left subtree right after its parent.
  const roots: NodeJson[] = []
  let nodes = 0
  for (let t = 0; t < nEstimators; t++) {
    const est: unknown = estimators[t]
    const subset: unknown = indexes[t]
    if (!isObject(est) || est.name !== expectedTree || !isObject(est.root)) return fail(`tree ${t} is not a ${expectedTree}`)
    if (!Array.isArray(subset) || subset.some((c) => typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= o.features)) return fail(`tree ${t}'s feature subset is not columns of the ${o.features} features`)
    roots.push(est.root as NodeJson)
    const stack: unknown[] = [est.root]
    while (stack.length > 0) {
      const node = stack.pop()
      if (!isObject(node)) return fail(`tree ${t} has a node that is not an object`)
      nodes++
      if (node.distribution !== undefined) {
        const leaf = checkLeaf(node.distribution, classification, nClasses)
        if (typeof leaf === 'string') return fail(`tree ${t}: ${leaf}`)
      } else {
        const { splitColumn, splitValue } = node
        if (typeof splitValue !== 'number') return fail(`tree ${t} has an inner node without a numeric splitValue`)
        if (typeof splitColumn !== 'number' || !Number.isInteger(splitColumn) || splitColumn < 0 || splitColumn >= subset.length) return fail(`tree ${t} splits on column ${String(splitColumn)} of ${subset.length}`)
        stack.push(node.right, node.left)
      }
    }
  }

  const column = new Int32Array(nodes)
  const value = new Float64Array(nodes)
  const right = new Int32Array(nodes)
  const rootIndex = new Int32Array(nEstimators)
  let next = 0
  for (let t = 0; t < nEstimators; t++) {
    const subset = indexes[t] as number[]
    rootIndex[t] = next
    // (node, index of the parent whose right child it is, or -1)
    const stack: [NodeJson, number][] = [[roots[t]!, -1]]
    while (stack.length > 0) {
      const [node, parent] = stack.pop()!
      const i = next++
      if (parent >= 0) right[parent] = i
      if (node.distribution !== undefined) {
        column[i] = -1
        value[i] = checkLeaf(node.distribution, classification, nClasses) as number
        right[i] = -1
      } else {
        column[i] = subset[node.splitColumn as number]!
        value[i] = node.splitValue as number
        // the right subtree after the whole left one: push it first
        stack.push([node.right as NodeJson, i], [node.left as NodeJson, -1])
      }
    }
  }
  return { ok: true, forest: { task: o.task, trees: nEstimators, features: o.features, classes: nClasses, roots: rootIndex, column, value, right } }
}

/** A leaf's value (regression) or vote (classification), or what is wrong with it. */
function checkLeaf(distribution: unknown, classification: boolean, nClasses: number): number | string {
  if (!classification) return typeof distribution === 'number' ? distribution : 'a regression leaf is not a number'
  // ml-cart loads [[p0, p1, …]] as a one-row Matrix; its vote is maxRowIndex(0): the first index of the maximum.
  if (!Array.isArray(distribution) || distribution.length !== 1 || !Array.isArray(distribution[0])) return 'a leaf distribution is not one row'
  const row = distribution[0] as unknown[]
  if (row.length === 0 || row.some((p) => typeof p !== 'number')) return 'a leaf distribution is empty or not numbers'
  let best = row[0] as number
  let vote = 0
  for (let i = 1; i < row.length; i++) {
    if ((row[i] as number) > best) {
      best = row[i] as number
      vote = i
    }
  }
  return vote < nClasses ? vote : `a leaf votes for class ${vote} of ${nClasses}`
}

/** Per row, the trees' vote counts per class, row after row (length rows × classes). Rows must be validated. */
export function voteCounts(f: FlatForest, X: readonly (readonly number[])[]): Int32Array {
  const { roots, column, value, right, trees, classes } = f
  const counts = new Int32Array(X.length * classes)
  for (let r = 0; r < X.length; r++) {
    const row = X[r]!
    const offset = r * classes
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!
      let c = column[n]!
      while (c >= 0) {
        n = row[c]! < value[n]! ? n + 1 : right[n]!
        c = column[n]!
      }
      counts[offset + value[n]!]!++
    }
  }
  flatForestStats.rows += X.length
  return counts
}

/** Classification: per row, the index of the class with most votes (the first one listed on a tie). */
export function predictClassIndexes(f: FlatForest, X: readonly (readonly number[])[]): number[] {
  const counts = voteCounts(f, X)
  const k = f.classes
  const out = new Array<number>(X.length)
  for (let r = 0; r < X.length; r++) {
    const offset = r * k
    let best = counts[offset]!
    let index = 0
    for (let c = 1; c < k; c++) {
      if (counts[offset + c]! > best) {
        best = counts[offset + c]!
        index = c
      }
    }
    out[r] = index
  }
  return out
}

/** Classification: per row, each class's share of the votes (count / trees), in class order. */
export function predictProbabilities(f: FlatForest, X: readonly (readonly number[])[]): number[][] {
  const counts = voteCounts(f, X)
  const { classes: k, trees } = f
  const out = new Array<number[]>(X.length)
  for (let r = 0; r < X.length; r++) {
    const p = new Array<number>(k)
    for (let c = 0; c < k; c++) p[c] = counts[r * k + c]! / trees
    out[r] = p
  }
  return out
}

/** Regression: per row, the mean of the trees' leaf values (summed from 0 in tree order, divided by the tree count). */
export function predictValues(f: FlatForest, X: readonly (readonly number[])[]): number[] {
  const { roots, column, value, right, trees } = f
  const out = new Array<number>(X.length)
  for (let r = 0; r < X.length; r++) {
    const row = X[r]!
    let sum = 0
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!
      let c = column[n]!
      while (c >= 0) {
        n = row[c]! < value[n]! ? n + 1 : right[n]!
        c = column[n]!
      }
      sum += value[n]!
    }
    out[r] = sum / trees
  }
  flatForestStats.rows += X.length
  return out
}
