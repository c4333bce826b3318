// XGBoost's trees as its CPU predictor walks them, in its arithmetic: features and thresholds are float32 and a
// value goes left when float(x) < threshold; a missing value (NaN) takes the node's default child; a categorical
// split sends the categories of its set right and every other one left (one-hot semantics); a row's sum starts at
// the base margin and adds each tree's leaf in tree order, rounding to float32 at every step (XGBoost's predictions
// are a float vector). Done so, the margins are XGBoost's to the bit. The trees are checked as they are laid out
// (a file whose trees point outside themselves can never send a walk astray), and walked by the WebAssembly kernel
// xgboost_sums (kernels.wat) on a memory of their own, on several threads for big batches.
import { type Worker } from 'node:worker_threads'
import { instantiateKernels, type Kernels } from './arena.js'
import { workerPool } from './pool.js'

/** In a node's feature word, above the feature's byte offset: missing values go left; the split is categorical. */
const DEFAULT_LEFT = 1 << 31
const CATEGORICAL = 1 << 30
/** Features a node word can name (a byte offset below 2^30). */
const MAX_FEATURES = 1 << 28
/**
 * A category is a whole number below 2^24 (XGBoost's OutOfRangeCat: float32 holds every integer below it); a
 * negative or larger value is an invalid category, which XGBoost sends left.
 */
const MAX_CATEGORY = 1 << 24
/** Rows walked through a tree, level by level, before the next tree. */
const BLOCK_ROWS = 256
/** Below this many rows a batch is walked on this thread alone (a round of messages costs ~0.2 ms). */
export const PARALLEL_XGBOOST_ROWS = 2_000
/** Batches up to this many rows reuse the walker's own memory; a bigger one gets a memory that goes with it. */
const KEPT_ROWS = 4_096
const PAGE = 65536
/** WebAssembly's 32-bit limit: 4 GiB. */
const MAX_PAGES = 65536

/** One tree in XGBoost's JSON arrays (node i's children, split and leaf value), as the kind read them. */
export interface XgboostTreeArrays {
  left_children: readonly number[]
  right_children: readonly number[]
  split_indices: readonly number[]
  /** A split's threshold, or a leaf's value (null, XGBoost's NaN, for a categorical split, which has none). */
  split_conditions: readonly (number | null)[]
  default_left: readonly (number | boolean)[]
  /** 1: a categorical split (absent: every split numeric). */
  split_type?: readonly number[]
  categories?: readonly number[]
  categories_nodes?: readonly number[]
  categories_segments?: readonly number[]
  categories_sizes?: readonly number[]
}

/** The trees, laid out for the kernel (kernels.wat, xgboost_sums, says how). */
export interface XgboostForest {
  /** Row width. */
  features: number
  /** Sums per row: a multi-class model's classes, else 1. */
  groups: number
  trees: number
  /** 16 bytes a node, in preorder (a split's left child is the next node). */
  nodes: Int32Array
  /** 3 words a tree: its root's byte offset in nodes, its depth, the byte offset of its group in a row of sums. */
  table: Int32Array
  /** Categorical splits' sets: the number of words w, then w words of bits (category c: word c >> 5, bit c & 31). */
  sets: Uint32Array
  /** The base margin of each output (float32), where every row's sum starts. */
  base: Float32Array
}

/** A reason a tree cannot be walked, and which of its fields says so; the caller gives it a code. */
export type TreeFault = (why: string, field: string) => never

/**
 * Lay out `trees` (tree t adds to output groupOf[t]) for walking, checking each: every child inside the tree and
 * reached once from the root (no cycle, no shared node), every split on a feature below `features`, every
 * categorical split with a set of whole categories, every threshold and leaf value finite.
 */
export function buildXgboostForest(trees: readonly XgboostTreeArrays[], groupOf: readonly number[], o: { features: number; groups: number; base: readonly number[] }, fault: TreeFault): XgboostForest {
  if (o.features > MAX_FEATURES) fault(`${o.features} features; mlskel walks trees of at most ${MAX_FEATURES}`, 'learner_model_param.num_feature')
  let nodes = 0
  let words = 0
  const setsOf: Map<number, readonly number[]>[] = []
  trees.forEach((tree, t) => {
    const where = (field: string) => `trees[${t}].${field}`
    const n = tree.left_children.length
    if (n === 0) fault(`tree ${t} has no nodes`, where('left_children'))
    for (const key of ['right_children', 'split_indices', 'split_conditions', 'default_left'] as const) {
      if (tree[key].length !== n) fault(`tree ${t} has ${n} left children but ${tree[key].length} ${key}`, where(key))
    }
    if (tree.split_type && tree.split_type.length !== n) fault(`tree ${t} has ${n} nodes but ${tree.split_type.length} split types`, where('split_type'))
    const sets = categorySets(tree, t, fault)
    setsOf.push(sets)
    nodes += n
    for (const set of sets.values()) words += 1 + setWords(set)
  })
  const i32 = new Int32Array(nodes * 4)
  const f32 = new Float32Array(i32.buffer)
  const sets = new Uint32Array(words)
  const table = new Int32Array(trees.length * 3)
  let at = 0
  let word = 0
  trees.forEach((tree, t) => {
    const where = (field: string) => `trees[${t}].${field}`
    const g = groupOf[t]!
    if (!Number.isInteger(g) || g < 0 || g >= o.groups) fault(`tree ${t} adds to output ${g}, but the model has ${o.groups}`, `tree_info[${t}]`)
    const n = tree.left_children.length
    const seen = new Uint8Array(n)
    let depth = 0
    table[3 * t] = at * 16
    table[3 * t + 2] = g * 4
    // preorder, iteratively (a deep tree must not overflow the stack): node, its depth, and the flat index of the
    // split whose right child it is (or −1)
    const stack: number[] = [0, 0, -1]
    while (stack.length > 0) {
      const parent = stack.pop()!
      const d = stack.pop()!
      const i = stack.pop()!
      if (seen[i]) fault(`node ${i} of tree ${t} is reached twice from the root (a cycle or a shared child)`, where('left_children'))
      seen[i] = 1
      if (parent >= 0) i32[4 * parent + 2] = at * 16
      const left = tree.left_children[i]!
      const right = tree.right_children[i]!
      const value = tree.split_conditions[i]
      const finite = (): number => {
        if (typeof value !== 'number' || !Number.isFinite(value)) fault(`node ${i} of tree ${t} has no finite ${left === -1 ? 'leaf value' : 'threshold'}`, where('split_conditions'))
        return value
      }
      if (left === -1 && right === -1) {
        // a leaf: no threshold (NaN fails every comparison), no flags, itself as right child
        f32[4 * at] = Number.NaN
        i32[4 * at + 1] = 0
        i32[4 * at + 2] = at * 16
        f32[4 * at + 3] = finite()
        depth = Math.max(depth, d)
        at++
        continue
      }
      if (!inside(left, n) || !inside(right, n)) fault(`node ${i} of tree ${t} has children ${left} and ${right}, outside the tree's ${n} nodes`, where(inside(left, n) ? 'right_children' : 'left_children'))
      const f = tree.split_indices[i]!
      if (!inside(f, o.features)) fault(`node ${i} of tree ${t} splits on feature ${f}, but the model has ${o.features} features`, where('split_indices'))
      const defaultLeft = tree.default_left[i]
      let flags = defaultLeft === 1 || defaultLeft === true ? DEFAULT_LEFT : 0
      if (tree.split_type?.[i] === 1) {
        const set = setsOf[t]!.get(i)
        if (!set) fault(`node ${i} of tree ${t} is a categorical split without categories`, where('categories_nodes'))
        flags |= CATEGORICAL
        i32[4 * at] = word * 4
        const w = setWords(set)
        sets[word] = w
        for (const c of set) sets[word + 1 + (c >>> 5)]! |= 1 << (c & 31)
        word += 1 + w
      } else {
        if (tree.split_type && tree.split_type[i] !== 0) fault(`node ${i} of tree ${t} has split type ${tree.split_type[i]}`, where('split_type'))
        f32[4 * at] = finite()
      }
      i32[4 * at + 1] = (f * 4) | flags
      const slot = at++
      stack.push(right, d + 1, slot, left, d + 1, -1)
    }
    table[3 * t + 1] = depth
  })
  return { features: o.features, groups: o.groups, trees: trees.length, nodes: i32.subarray(0, at * 4), table, sets, base: Float32Array.from(o.base) }
}

function inside(i: number, n: number): boolean {
  return Number.isInteger(i) && i >= 0 && i < n
}

function setWords(set: readonly number[]): number {
  let max = -1
  for (const c of set) if (c > max) max = c
  return max < 0 ? 0 : (max >>> 5) + 1
}

/** Each categorical split's categories (by node), from the tree's categories, checked. */
function categorySets(tree: XgboostTreeArrays, t: number, fault: TreeFault): Map<number, readonly number[]> {
  const sets = new Map<number, readonly number[]>()
  const nodes = tree.categories_nodes ?? []
  const segments = tree.categories_segments ?? []
  const sizes = tree.categories_sizes ?? []
  const categories = tree.categories ?? []
  if (segments.length !== nodes.length || sizes.length !== nodes.length) fault(`tree ${t} has ${nodes.length} categorical nodes, ${segments.length} segments and ${sizes.length} sizes`, `trees[${t}].categories_segments`)
  nodes.forEach((node, k) => {
    const start = segments[k]!
    const size = sizes[k]!
    if (!inside(node, tree.left_children.length) || !Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 0 || start + size > categories.length) {
      fault(`categorical node ${node} of tree ${t} has categories outside the tree's list`, `trees[${t}].categories_segments`)
    }
    const set = categories.slice(start, start + size)
    for (const c of set) if (!Number.isInteger(c) || c < 0 || c >= MAX_CATEGORY) fault(`categorical node ${node} of tree ${t} holds category ${c}, not a whole number from 0 to 2^24 - 1`, `trees[${t}].categories`)
    sets.set(node, set)
  })
  return sets
}

// ---------------------------------------------------------------------------------------------------------------
// Walking: the kernel on a memory holding the trees, the rows, their sums and each thread's current nodes

/** Where a batch's arrays are in its memory (byte offsets). */
interface Layout {
  nodes: number
  sets: number
  table: number
  trees: number
  rows: number
  rowBytes: number
  out: number
  outRow: number
  /** Each thread's block of current nodes: BLOCK_ROWS i32 from idx + thread * BLOCK_ROWS * 4. */
  idx: number
  bytes: number
}

function layoutOf(e: XgboostForest, n: number, threads: number): Layout {
  const align = (b: number) => Math.ceil(b / 16) * 16
  const nodes = 64 // address 0 stays unused
  const sets = nodes + align(e.nodes.byteLength)
  const table = sets + align(e.sets.byteLength)
  const rows = table + align(e.table.byteLength)
  const rowBytes = e.features * 4
  const out = rows + align(n * rowBytes)
  const outRow = e.groups * 4
  const idx = out + align(n * outRow)
  const bytes = idx + threads * BLOCK_ROWS * 4
  if (bytes > MAX_PAGES * PAGE) throw new RangeError(`predicting ${n} rows at once needs ${Math.ceil(bytes / 2 ** 20)} MiB, more than WebAssembly's 4 GiB: predict fewer rows at a time`)
  return { nodes, sets, table, trees: e.trees, rows, rowBytes, out, outRow, idx, bytes }
}

/** The kernels on `memory`, instantiated once per memory and thread. */
const instances = new WeakMap<WebAssembly.Memory, Kernels>()
function kernelsOn(memory: WebAssembly.Memory): Kernels {
  let kernels = instances.get(memory)
  if (!kernels) {
    kernels = instantiateKernels(memory)
    instances.set(memory, kernels)
  }
  return kernels
}

/** The trees on a memory of their own, ready for batches of rows (a memory is reused, and grown, by later batches). */
class Walk {
  readonly memory: WebAssembly.Memory
  private placed = false

  constructor(readonly forest: XgboostForest, bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.min(MAX_PAGES, Math.ceil(bytes / PAGE)), maximum: MAX_PAGES, shared: true })
  }

  /** The batch's layout, the memory grown to hold it and the trees in place; `rows` (a view) to fill. */
  prepare(n: number, threads: number): { layout: Layout; rows: Float32Array } {
    const e = this.forest
    const layout = layoutOf(e, n, threads)
    const have = this.memory.buffer.byteLength
    if (layout.bytes > have) this.memory.grow(Math.ceil((layout.bytes - have) / PAGE))
    const buffer = this.memory.buffer
    if (!this.placed) {
      new Int32Array(buffer, layout.nodes, e.nodes.length).set(e.nodes)
      new Uint32Array(buffer, layout.sets, e.sets.length).set(e.sets)
      new Int32Array(buffer, layout.table, e.table.length).set(e.table)
      this.placed = true
    }
    const out = new Float32Array(buffer, layout.out, n * e.groups)
    for (let r = 0; r < n; r++) out.set(e.base, r * e.groups)
    return { layout, rows: new Float32Array(buffer, layout.rows, n * e.features) }
  }

  /** The batch's sums, copied out of the memory. */
  sums(layout: Layout, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, layout.out, n * this.forest.groups).slice()
  }
}

/** What a worker needs to walk its rows of a batch. */
export interface XgboostRowsJob {
  memory: WebAssembly.Memory
  layout: Layout
  from: number
  to: number
  /** Which block of current nodes is this thread's. */
  thread: number
}

/** Walk rows [from, to) of the batch laid out in `memory`. */
function walkRows(memory: WebAssembly.Memory, l: Layout, from: number, to: number, thread: number): void {
  kernelsOn(memory).xgboost_sums(l.nodes, l.sets, l.table, l.trees, l.rows, l.rowBytes, from, to, l.out, l.outRow, l.idx + thread * BLOCK_ROWS * 4, BLOCK_ROWS)
}

/** A worker's side. */
export function xgboostRows(job: XgboostRowsJob): void {
  walkRows(job.memory, job.layout, job.from, job.to, job.thread)
}

/**
 * Sums of rows, [r * groups + k]: base margins plus every tree's leaf, XGBoost's float32 to the bit. `fill` writes
 * the rows (row r's features at [r * features, (r + 1) * features), float32, NaN missing) into the view it gets.
 * Synchronous calls of up to KEPT_ROWS rows (the prediction API's) walk on this thread in one memory the walker
 * keeps (no two run at once); a bigger batch, or one on several threads (several may be under way at once), has a
 * memory of its own.
 */
export class XgboostWalker {
  private readonly mine: Walk

  constructor(readonly forest: XgboostForest) {
    this.mine = new Walk(forest, layoutOf(forest, 1, 1).bytes)
  }

  sums(n: number, fill: (rows: Float32Array) => void): Float32Array {
    const walk = n <= KEPT_ROWS ? this.mine : new Walk(this.forest, layoutOf(this.forest, n, 1).bytes)
    const { layout, rows } = walk.prepare(n, 1)
    fill(rows)
    walkRows(walk.memory, layout, 0, n, 0)
    return walk.sums(layout, n)
  }

  /** As sums, on `threads` threads (this one included) for a batch of PARALLEL_XGBOOST_ROWS rows or more. */
  async sumsInParallel(n: number, fill: (rows: Float32Array) => void, threads: number): Promise<Float32Array> {
    const workers = Math.min(threads, Math.floor(n / 1000)) - 1
    if (n < PARALLEL_XGBOOST_ROWS || workers < 1) return this.sums(n, fill)
    const walk = new Walk(this.forest, layoutOf(this.forest, n, workers + 1).bytes)
    const { layout, rows } = walk.prepare(n, workers + 1)
    fill(rows)
    const pool = workerPool()
    const taken: Worker[] = await pool.take(workers)
    try {
      const cut = (i: number) => Math.floor((i * n) / (workers + 1))
      const replies = taken.map((worker, i) =>
        pool.request(worker, { type: 'xgboost-rows', job: { memory: walk.memory, layout, from: cut(i + 1), to: cut(i + 2), thread: i + 1 } satisfies XgboostRowsJob }, 'predicted'),
      )
      // this thread's share meanwhile: the first range
      walkRows(walk.memory, layout, 0, cut(1), 0)
      await Promise.all(replies)
    } finally {
      pool.give(taken)
    }
    return walk.sums(layout, n)
  }
}
