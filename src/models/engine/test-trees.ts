// Test helpers: look inside a trained tree model (its flat trees, decoded from its model.json) to check what
// hyper-parameters and proofs promise about its trees: depth, leaves, rows per node, thresholds.
import type { ModelManifest, Predictor } from '../contract/types.js'
import { ensembleFromJson, ensembleJsonSchema } from '../kinds/common.js'
import { CATEGORICAL, MISSING_LEFT, inBitset, type TreeEnsemble } from './tree.js'

/** The ensemble of a trained random_forest or gradient_boosting predictor. */
export function treesOf(predictor: Predictor): TreeEnsemble {
  const json = predictor.toJSON() as { trees: unknown }
  const manifest = { id: 'test' } as ModelManifest
  return ensembleFromJson(ensembleJsonSchema.parse(json.trees), predictor.signature, manifest)
}

export interface NodeView {
  /** Index in the ensemble's arrays. */
  node: number
  depth: number
  leaf: boolean
  feature: number
  threshold: number
  missingLeft: boolean
  categorical: boolean
  /** Categorical splits: the categories that go left (of `categories` of the feature). */
  leftCategories: number[]
  /** Leaves: their values. */
  values: number[]
  left: number
  right: number
}

/** The nodes of tree t, in preorder, with their depth (the root is 0). */
export function nodesOf(e: TreeEnsemble, t: number): NodeView[] {
  const start = e.roots[t]!
  const end = t + 1 < e.trees ? e.roots[t + 1]! : e.feature.length
  const depth = new Map<number, number>([[start, 0]])
  const out: NodeView[] = []
  for (let n = start; n < end; n++) {
    const d = depth.get(n)
    if (d === undefined) throw new Error(`node ${n} of tree ${t} is not reachable`)
    const leaf = e.feature[n]! < 0
    const view: NodeView = {
      node: n,
      depth: d,
      leaf,
      feature: e.feature[n]!,
      threshold: e.threshold[n]!,
      missingLeft: (e.flags[n]! & MISSING_LEFT) !== 0,
      categorical: (e.flags[n]! & CATEGORICAL) !== 0,
      leftCategories: [],
      values: leaf ? Array.from(e.values.subarray(e.right[n]! * e.outputs, (e.right[n]! + 1) * e.outputs)) : [],
      left: leaf ? -1 : n + 1,
      right: leaf ? -1 : e.right[n]!,
    }
    if (view.categorical) {
      for (let c = 0; c < e.categories[view.feature]!; c++) if (inBitset(e.bitsets, e.threshold[n]!, c)) view.leftCategories.push(c)
    }
    if (!leaf) {
      depth.set(n + 1, d + 1)
      depth.set(e.right[n]!, d + 1)
    }
    out.push(view)
  }
  return out
}

/** Which rows of X reach each node of tree t (by node index), following the tree as prediction does. */
export function rowsPerNode(e: TreeEnsemble, t: number, X: readonly (readonly number[])[]): Map<number, number[]> {
  const reached = new Map<number, number[]>()
  X.forEach((row, r) => {
    let n = e.roots[t]!
    for (;;) {
      let list = reached.get(n)
      if (!list) reached.set(n, (list = []))
      list.push(r)
      const f = e.feature[n]!
      if (f < 0) break
      n = goesLeft(e, n, row[f]!) ? n + 1 : e.right[n]!
    }
  })
  return reached
}

function goesLeft(e: TreeEnsemble, n: number, x: number): boolean {
  const flags = e.flags[n]!
  const f = e.feature[n]!
  if (flags & CATEGORICAL) {
    const known = x >= 0 && x < e.categories[f]! && Number.isInteger(x) && inBitset(e.known, e.knownOffset[f]!, x)
    return known ? inBitset(e.bitsets, e.threshold[n]!, x) : (flags & MISSING_LEFT) !== 0
  }
  if (Number.isNaN(x)) return (flags & MISSING_LEFT) !== 0
  return x <= e.threshold[n]!
}

/** Per tree: its leaves and its depth. */
export function shapes(e: TreeEnsemble): { leaves: number; depth: number }[] {
  return Array.from({ length: e.trees }, (_, t) => {
    const nodes = nodesOf(e, t)
    return { leaves: nodes.filter((n) => n.leaf).length, depth: Math.max(...nodes.map((n) => n.depth)) }
  })
}
