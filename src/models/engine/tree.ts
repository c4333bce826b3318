// Trees as the engine keeps them: grown node by node in any order (TreeRecorder), then laid out in preorder in flat
// typed arrays (FlatTree), and concatenated into an ensemble that predicts from raw values, with no bins: a numeric
// split holds its real threshold, a categorical split the set of categories that go left.
//
// Layout of a tree's nodes in preorder: a node's left child is the next node, its right child is `right[n]`; a leaf
// has feature −1 and keeps the row of its values in `right[n]`. Every child index is greater than its parent's, so
// walking a tree always ends (loaders check it).

/** flags: rows with a missing value (or, at a categorical split, a category never seen in training) go left. */
export const MISSING_LEFT = 1
/** flags: a categorical split; `threshold` is the offset of its left-category bitset in `bitsets`. */
export const CATEGORICAL = 2

/** 32-bit words of a bitset of `categories` categories. */
export function bitsetWords(categories: number): number {
  return Math.max(1, Math.ceil(categories / 32))
}

export function inBitset(bitset: Uint32Array, offset: number, code: number): boolean {
  return ((bitset[offset + (code >>> 5)]! >>> (code & 31)) & 1) === 1
}

export interface FlatTree {
  nodes: number
  feature: Int32Array
  /** Numeric split: a value <= threshold goes left. Categorical split: offset in `bitsets`. Leaf: 0. */
  threshold: Float64Array
  /** Inner node: index of the right child (within this tree). Leaf: its row in `values`. */
  right: Int32Array
  flags: Uint8Array
  /** `outputs` values per leaf. */
  values: Float64Array
  bitsets: Uint32Array
}

/**
 * A tree being grown: nodes are created as leaves, then some become splits. Node 0 is the root. Growers add nodes in
 * whatever order suits them (best-first, depth-first); `toFlat` lays them out in preorder.
 */
export class TreeRecorder {
  private readonly feature: number[] = []
  private readonly threshold: number[] = []
  private readonly flags: number[] = []
  private readonly bitset: (Uint32Array | null)[] = []
  private readonly left: number[] = []
  private readonly right: number[] = []
  private readonly values: (ArrayLike<number> | null)[] = []

  constructor(readonly outputs: number) {}

  /** A new node, a leaf until split. */
  add(): number {
    this.feature.push(-1)
    this.threshold.push(0)
    this.flags.push(0)
    this.bitset.push(null)
    this.left.push(-1)
    this.right.push(-1)
    this.values.push(null)
    return this.feature.length - 1
  }

  get size(): number {
    return this.feature.length
  }

  setLeaf(node: number, values: ArrayLike<number>): void {
    if (values.length !== this.outputs) throw new RangeError(`a leaf holds ${this.outputs} values, got ${values.length}`)
    this.values[node] = values
  }

  /** Make `node` a numeric split: a value <= threshold goes to `left`. */
  setNumericSplit(node: number, feature: number, threshold: number, missingLeft: boolean, left: number, right: number): void {
    this.feature[node] = feature
    this.threshold[node] = threshold
    this.flags[node] = missingLeft ? MISSING_LEFT : 0
    this.left[node] = left
    this.right[node] = right
  }

  /** Make `node` a categorical split: categories in `leftCategories` go to `left`. */
  setCategoricalSplit(node: number, feature: number, leftCategories: Uint32Array, missingLeft: boolean, left: number, right: number): void {
    this.feature[node] = feature
    this.bitset[node] = leftCategories
    this.flags[node] = CATEGORICAL | (missingLeft ? MISSING_LEFT : 0)
    this.left[node] = left
    this.right[node] = right
  }

  /** A leaf's values (as set). */
  leafValues(node: number): ArrayLike<number> {
    const v = this.values[node]
    if (!v) throw new Error(`tree node ${node} has no leaf values`)
    return v
  }

  isLeaf(node: number): boolean {
    return this.feature[node]! < 0
  }

  /** The tree in preorder, flat. Every leaf must have its values. */
  toFlat(): FlatTree {
    const n = this.feature.length
    const feature = new Int32Array(n)
    const threshold = new Float64Array(n)
    const right = new Int32Array(n)
    const flags = new Uint8Array(n)
    let leaves = 0
    let bitsetWordsTotal = 0
    for (let i = 0; i < n; i++) {
      if (this.feature[i]! < 0) leaves++
      else if (this.bitset[i]) bitsetWordsTotal += this.bitset[i]!.length
    }
    const values = new Float64Array(leaves * this.outputs)
    const bitsets = new Uint32Array(bitsetWordsTotal)
    let next = 0
    let leafRow = 0
    let bitsetOffset = 0
    // Iterative preorder. A stack entry is a node and the flat index of the split whose right child it is (or −1):
    // the left child is pushed last, so it is laid out next, and the right one only after the whole left subtree.
    const stack: number[] = [0, -1]
    while (stack.length > 0) {
      const parent = stack.pop()!
      const node = stack.pop()!
      const at = next++
      if (parent >= 0) right[parent] = at
      if (this.feature[node]! < 0) {
        const v = this.values[node]
        if (!v) throw new Error(`tree node ${node} is a leaf without values`)
        feature[at] = -1
        right[at] = leafRow
        values.set(v, leafRow * this.outputs)
        leafRow++
        continue
      }
      feature[at] = this.feature[node]!
      flags[at] = this.flags[node]!
      const bits = this.bitset[node]
      if (bits) {
        threshold[at] = bitsetOffset
        bitsets.set(bits, bitsetOffset)
        bitsetOffset += bits.length
      } else {
        threshold[at] = this.threshold[node]!
      }
      stack.push(this.right[node]!, at, this.left[node]!, -1)
    }
    if (next !== n) throw new Error(`tree has ${n - next} nodes not reachable from its root`)
    return { nodes: n, feature, threshold, right, flags, values, bitsets }
  }
}

export interface TreeEnsemble {
  /** Row width: the features of the model. */
  features: number
  /** Values per leaf. */
  outputs: number
  trees: number
  /** Per tree: its root node. */
  roots: Int32Array
  feature: Int32Array
  threshold: Float64Array
  right: Int32Array
  flags: Uint8Array
  values: Float64Array
  bitsets: Uint32Array
  /** Per feature: its number of categories, 0 for a numeric feature. */
  categories: Int32Array
  /** Per categorical feature, at knownOffset[f]: the bitset of categories seen in training. */
  known: Uint32Array
  knownOffset: Int32Array
  /**
   * The same nodes packed for prediction, 16 bytes each in one buffer: `node[2n]` the threshold, and through the
   * Int32 view `info[4n + 2]` the feature with the flags in its top byte (−1 for a leaf), `info[4n + 3]` the right
   * child (a leaf: its row in `values`). A node is a quarter of a cache line, its left child the next quarter, and
   * one buffer is what prediction threads share. (Measured on a 30-tree forest of 200,000 rows: as fast as walking
   * the four arrays, within noise; the walk is bound by branch misses, and branch-free variants were slower.)
   */
  node: Float64Array
  info: Int32Array
}

/** The packed form of a ensemble's node arrays (TreeEnsemble.node and .info). */
export function packNodes(feature: Int32Array, threshold: Float64Array, right: Int32Array, flags: Uint8Array): { node: Float64Array; info: Int32Array } {
  const n = feature.length
  const node = new Float64Array(2 * n)
  const info = new Int32Array(node.buffer)
  for (let i = 0; i < n; i++) {
    node[2 * i] = threshold[i]!
    info[4 * i + 2] = feature[i]! < 0 ? -1 : feature[i]! | (flags[i]! << 24)
    info[4 * i + 3] = right[i]!
  }
  return { node, info }
}

/** One ensemble of `trees` (in order), their leaf values and bitsets re-based. */
export function concatTrees(trees: readonly FlatTree[], o: { features: number; outputs: number; categories: Int32Array; known: Uint32Array; knownOffset: Int32Array }): TreeEnsemble {
  let nodes = 0
  let values = 0
  let words = 0
  for (const t of trees) {
    nodes += t.nodes
    values += t.values.length
    words += t.bitsets.length
  }
  const e: Omit<TreeEnsemble, 'node' | 'info'> = {
    features: o.features,
    outputs: o.outputs,
    trees: trees.length,
    roots: new Int32Array(trees.length),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    right: new Int32Array(nodes),
    flags: new Uint8Array(nodes),
    values: new Float64Array(values),
    bitsets: new Uint32Array(words),
    categories: o.categories,
    known: o.known,
    knownOffset: o.knownOffset,
  }
  let nodeBase = 0
  let leafBase = 0
  let wordBase = 0
  trees.forEach((t, i) => {
    e.roots[i] = nodeBase
    e.feature.set(t.feature, nodeBase)
    e.flags.set(t.flags, nodeBase)
    for (let n = 0; n < t.nodes; n++) {
      const leaf = t.feature[n]! < 0
      e.right[nodeBase + n] = leaf ? t.right[n]! + leafBase : t.right[n]! + nodeBase
      e.threshold[nodeBase + n] = !leaf && t.flags[n]! & CATEGORICAL ? t.threshold[n]! + wordBase : t.threshold[n]!
    }
    e.values.set(t.values, leafBase * o.outputs)
    e.bitsets.set(t.bitsets, wordBase)
    nodeBase += t.nodes
    leafBase += t.values.length / o.outputs
    wordBase += t.bitsets.length
  })
  return { ...e, ...packNodes(e.feature, e.threshold, e.right, e.flags) }
}

/**
 * The leaf that `row` reaches in tree `t`: its row in `values`. Missing values (NaN) and categories never seen in
 * training (not a whole number in [0, categories), or not in the training data) take the node's default direction.
 */
export function leafOf(e: TreeEnsemble, t: number, row: ArrayLike<number>): number {
  return leafAt(e, t, row, 0)
}

/** leafOf for the row whose first feature is rows[base]. */
function leafAt(e: TreeEnsemble, t: number, rows: ArrayLike<number>, base: number): number {
  const { node, info } = e
  let n = e.roots[t]!
  let fv = info[4 * n + 2]!
  while (fv >= 0) {
    const f = fv & 0xffffff
    const x = rows[base + f]!
    if (fv < CATEGORICAL << 24) {
      // a numeric split: NaN fails both comparisons and takes the default way
      const th = node[2 * n]!
      n = x <= th ? n + 1 : x > th || (fv & (MISSING_LEFT << 24)) === 0 ? info[4 * n + 3]! : n + 1
    } else {
      n = categoryGoesLeft(e, n, f, x, fv >>> 24) ? n + 1 : info[4 * n + 3]!
    }
    fv = info[4 * n + 2]!
  }
  return info[4 * n + 3]!
}

/** Whether any split of the ensemble is categorical (prediction can then skip the check). */
export function hasCategoricalSplits(e: TreeEnsemble): boolean {
  for (let n = 0; n < e.feature.length; n++) if (e.feature[n]! >= 0 && e.flags[n]! & CATEGORICAL) return true
  return false
}

/**
 * Σ over trees t of values[leaf of tree t] into out[t % width] for one row: leafOf inlined, for an ensemble without
 * categorical splits. The prediction API's one-row requests go through here (300 small trees: ~40% faster than a
 * call per tree).
 */
export function addRowLeafValues(e: TreeEnsemble, row: ArrayLike<number>, out: Float64Array, width: number): void {
  const { node, info, roots, values } = e
  const trees = e.trees
  for (let t = 0; t < trees; t += width) {
    for (let k = 0; k < width && t + k < trees; k++) {
      let n = roots[t + k]!
      let fv = info[4 * n + 2]!
      while (fv >= 0) {
        const x = row[fv & 0xffffff]!
        const th = node[2 * n]!
        n = x <= th ? n + 1 : x > th || (fv & (MISSING_LEFT << 24)) === 0 ? info[4 * n + 3]! : n + 1
        fv = info[4 * n + 2]!
      }
      out[k]! += values[info[4 * n + 3]!]!
    }
  }
}

function categoryGoesLeft(e: TreeEnsemble, n: number, f: number, x: number, fl: number): boolean {
  const k = e.categories[f]!
  if (x >= 0 && x < k && (x | 0) === x && inBitset(e.known, e.knownOffset[f]!, x)) return inBitset(e.bitsets, e.node[2 * n]!, x)
  return (fl & MISSING_LEFT) !== 0
}

/**
 * Rows per pass of the trees: ~1 MB of them side by side, which stay in a core's cache while every tree goes through
 * them. Measured on 16,000 rows × 20 features: with blocks of 256 kB a forest of deep trees predicted ~30% slower
 * than in one pass over the rows (each block fetches the trees from memory again); from 1 MB up, within the noise.
 */
const BLOCK_BYTES = 1 << 20
const blockRows = (features: number) => Math.max(256, Math.floor(BLOCK_BYTES / (8 * Math.max(1, features))))

/**
 * For every row of X and tree: out[r * width + …] += the leaf's values. A leaf of `width` values adds them all
 * (a forest's class distributions); a leaf of one value adds it to output t % width (boosting: tree t is class
 * t % K's). Block by block of rows, copied side by side into one typed array, and tree by tree within a block: a
 * tree's nodes stay in cache while the block's rows go through it (a forest of deep trees is ~100 MB, far more than a
 * cache: row by row, every tree would come from memory again for every row), and so do the block's rows while every
 * tree goes through them. Tree by tree over all the rows at once, rows as they came, walked 16,000 rows picked out of a
 * larger table (a cross-validation fold) 1.5–4 times slower than the same rows copied: every tree fetched every row's
 * array, scattered over the heap, from memory again.
 */
export function addLeafValues(e: TreeEnsemble, X: readonly ArrayLike<number>[], out: Float64Array, width: number): void {
  const F = e.features
  const block = blockRows(F)
  const rows = new Float64Array(Math.min(block, X.length) * F)
  for (let from = 0; from < X.length; from += block) {
    const n = Math.min(block, X.length - from)
    // a row shorter than F reads undefined, as the tree walk would have: NaN, a missing value
    for (let r = 0; r < n; r++) {
      const row = X[from + r]!
      for (let f = 0; f < F; f++) rows[r * F + f] = row[f]!
    }
    addBlockLeafValues(e, rows, n, out.subarray(from * width, (from + n) * width), width)
  }
}

/** addLeafValues for rows side by side in one array (row r's features from rows[r * features]). */
export function addFlatLeafValues(e: TreeEnsemble, rows: Float64Array, out: Float64Array, width: number): void {
  const F = e.features
  const total = F === 0 ? out.length / width : rows.length / F
  const block = blockRows(F)
  for (let from = 0; from < total; from += block) {
    const n = Math.min(block, total - from)
    addBlockLeafValues(e, rows.subarray(from * F, (from + n) * F), n, out.subarray(from * width, (from + n) * width), width)
  }
}

function addBlockLeafValues(e: TreeEnsemble, rows: Float64Array, n: number, out: Float64Array, width: number): void {
  const { values } = e
  const F = e.features
  if (e.outputs === width && width > 1) {
    for (let t = 0; t < e.trees; t++) {
      for (let r = 0; r < n; r++) {
        const at = leafAt(e, t, rows, r * F) * width
        const o = r * width
        for (let k = 0; k < width; k++) out[o + k]! += values[at + k]!
      }
    }
    return
  }
  for (let t = 0; t < e.trees; t++) {
    const k = t % width
    for (let r = 0; r < n; r++) out[r * width + k]! += values[leafAt(e, t, rows, r * F)]!
  }
}
