// One gradient-boosting tree, grown best-first (the leaf whose split gains most is split next) until max_leaf_nodes,
// as scikit-learn's HistGradientBoosting and LightGBM grow them. The histograms and split search are a team's
// (gradient-team.ts): one shard per thread, each owning a block of features; this file decides what to split,
// partitions the rows and records the tree.
import type { BinMapper } from './binning.js'
import type { Kernels } from './arena.js'
import { better, GradientShard, histogramWidth, noCandidate, type Candidate, type GradientData, type NodeSums, type SplitRules } from './gradient-shard.js'
import { TreeRecorder } from './tree.js'

export interface ChildJob {
  /** The arena address of its histograms' slot. */
  slot: number
  start: number
  end: number
  sums: NodeSums
  /** Whether to search its best split (a leaf-to-be needs only its histograms for its sibling). */
  find: boolean
}

/**
 * The histogram work of one tree, done by one thread or shared out among several; the same results either way. A
 * slot is the arena address of a node's histograms (slots.ts hands them out).
 */
export interface HistogramTeam {
  readonly data: GradientData
  /** Room for the histograms of one node: a region of the arena with a part for each thread. */
  slotBytes(): number
  /** Histograms of the root (rows index[start, end)) into `slot`, and its best split. */
  root(offset: number, slot: number, start: number, end: number, sums: NodeSums): Candidate
  /**
   * The smaller child's histograms from its rows, into small.slot; the larger's by subtraction, in place, in the
   * parent's slot (large.slot must be it); and the best split of each child with `find`.
   */
  children(offset: number, small: ChildJob, large: ChildJob): [Candidate | null, Candidate | null]
  /**
   * Reorder index[start, end) so that the rows whose bin in `feature` has data.table[bin] = 1 come first, each side
   * in its former order; returns the boundary. The same order however many threads share it out.
   */
  partition(feature: number, start: number, end: number): number
}

/** Every feature in one shard, on this thread. */
export class LocalTeam implements HistogramTeam {
  private readonly shard: GradientShard

  constructor(
    readonly data: GradientData,
    private readonly kernels: Kernels,
    rules: SplitRules,
  ) {
    this.shard = new GradientShard(data, kernels, 0, data.features, rules, 0, data.features * histogramWidth(data))
  }

  slotBytes(): number {
    return this.data.features * histogramWidth(this.data)
  }

  root(offset: number, slot: number, start: number, end: number, sums: NodeSums): Candidate {
    this.shard.build(slot, start, end, offset)
    const best = noCandidate()
    this.shard.bestSplit(slot, sums, best)
    return best
  }

  children(offset: number, small: ChildJob, large: ChildJob): [Candidate | null, Candidate | null] {
    this.shard.build(small.slot, small.start, small.end, offset)
    this.shard.subtract(large.slot, small.slot)
    return [this.find(small), this.find(large)]
  }

  partition(feature: number, start: number, end: number): number {
    const d = this.data
    return this.kernels.partition(d.ptr.index, start, end, d.ptr.bins + feature * d.rows, d.ptr.table, d.ptr.scratch)
  }

  private find(job: ChildJob): Candidate | null {
    if (!job.find) return null
    const best = noCandidate()
    this.shard.bestSplit(job.slot, job.sums, best)
    return best
  }
}

/** Merge per-shard candidates: the best gain, the lowest feature on a tie. */
export function bestOf(candidates: readonly Candidate[]): Candidate {
  let best = noCandidate()
  for (const c of candidates) if (better(c, best)) best = c
  return best
}

export interface GradientTreeOptions extends SplitRules {
  maxLeafNodes: number | null
  /** Depth of the deepest leaf (the root is at 0); null: unbounded. */
  maxDepth: number | null
  learningRate: number
}

export interface GrownLeaf {
  node: number
  start: number
  end: number
  sums: NodeSums
}

export interface GrownTree {
  recorder: TreeRecorder
  leaves: GrownLeaf[]
  /** Per split: its feature and gain (for importances). */
  splits: { feature: number; gain: number }[]
}

interface OpenNode {
  node: number
  depth: number
  start: number
  end: number
  sums: NodeSums
  slot: number
  split: Candidate
}

/** Leaf value: the Newton step −G / (H + λ), shrunk by the learning rate. */
export function leafValue(sums: NodeSums, o: { l2: number; learningRate: number }): number {
  return o.learningRate * (-sums.gradient / (sums.hessian + o.l2 + 1e-15))
}

/**
 * Grow one tree on rows index[0, count) with the gradients at `offset`. Leaves get their (shrunk) values; the caller
 * may replace them (absolute error does) before laying the tree out.
 */
export function growGradientTree(team: HistogramTeam, slots: SlotPool, mapper: BinMapper, offset: number, count: number, sums: NodeSums, o: GradientTreeOptions): GrownTree {
  const recorder = new TreeRecorder(1)
  const leaves: GrownLeaf[] = []
  const splits: { feature: number; gain: number }[] = []
  const heap = new SplitHeap()
  const takeSlot = () => slots.take()
  const releaseSlot = (slot: number) => slots.give(slot)
  const makeLeaf = (node: number, start: number, end: number, s: NodeSums) => {
    recorder.setLeaf(node, [leafValue(s, o)])
    leaves.push({ node, start, end, sums: s })
  }

  const root = recorder.add()
  if (count < 2 * o.minSamplesLeaf || sums.hessian < o.minHessian || o.maxDepth === 0) {
    makeLeaf(root, 0, count, sums)
    return { recorder, leaves, splits }
  }
  const rootSlot = takeSlot()
  const rootSplit = team.root(offset, rootSlot, 0, count, sums)
  if (rootSplit.gain > 0) heap.push({ node: root, depth: 0, start: 0, end: count, sums, slot: rootSlot, split: rootSplit })
  else {
    releaseSlot(rootSlot)
    makeLeaf(root, 0, count, sums)
  }

  while (heap.size > 0) {
    const open = heap.pop()!
    const { split } = open
    const mid = partition(team, mapper, split, open.start, open.end)
    const left = recorder.add()
    const right = recorder.add()
    if (split.categorical) recorder.setCategoricalSplit(open.node, split.feature, split.leftCategories!, split.missingLeft, left, right)
    else recorder.setNumericSplit(open.node, split.feature, thresholdOf(mapper, split), split.missingLeft, left, right)
    splits.push({ feature: split.feature, gain: split.gain })

    const leftSums = split.left
    const rightSums: NodeSums = { gradient: open.sums.gradient - leftSums.gradient, hessian: open.sums.hessian - leftSums.hessian, count: open.sums.count - leftSums.count }
    const depth = open.depth + 1
    const leafNodes = leaves.length + heap.size + 2
    const full = o.maxLeafNodes !== null && leafNodes >= o.maxLeafNodes
    const deepest = o.maxDepth !== null && depth >= o.maxDepth
    const splitLeft = !full && !deepest && leftSums.count >= 2 * o.minSamplesLeaf
    const splitRight = !full && !deepest && rightSums.count >= 2 * o.minSamplesLeaf
    const children = [
      { node: left, start: open.start, end: mid, sums: leftSums, find: splitLeft },
      { node: right, start: mid, end: open.end, sums: rightSums, find: splitRight },
    ]
    if (splitLeft || splitRight) {
      // scikit-learn's choice: the left child is summed from its rows only when it is strictly smaller
      const [small, large] = leftSums.count < rightSums.count ? [children[0]!, children[1]!] : [children[1]!, children[0]!]
      const smallJob: ChildJob = { slot: takeSlot(), start: small.start, end: small.end, sums: small.sums, find: small.find }
      const largeJob: ChildJob = { slot: open.slot, start: large.start, end: large.end, sums: large.sums, find: large.find }
      const [smallSplit, largeSplit] = team.children(offset, smallJob, largeJob)
      for (const [child, job, found] of [[small, smallJob, smallSplit], [large, largeJob, largeSplit]] as const) {
        if (found && found.gain > 0) {
          heap.push({ node: child.node, depth, start: child.start, end: child.end, sums: child.sums, slot: job.slot, split: found })
        } else {
          releaseSlot(job.slot)
          makeLeaf(child.node, child.start, child.end, child.sums)
        }
      }
    } else {
      releaseSlot(open.slot)
      for (const child of children) makeLeaf(child.node, child.start, child.end, child.sums)
    }
    if (full) {
      // max_leaf_nodes reached: whatever could still be split stays a leaf
      while (heap.size > 0) {
        const rest = heap.pop()!
        releaseSlot(rest.slot)
        makeLeaf(rest.node, rest.start, rest.end, rest.sums)
      }
    }
  }
  return { recorder, leaves, splits }
}

/** The real threshold of a numeric split at bin b: its upper edge; the last bin (a split on missing values) +∞. */
function thresholdOf(mapper: BinMapper, split: Candidate): number {
  const edges = mapper.features[split.feature]!.edges
  return split.bin < edges.length ? edges[split.bin]! : Infinity
}

/**
 * Reorder index[start, end) so that the rows going left come first, each side in its former order; returns the
 * boundary. The kernel is branch-free over a per-bin table of directions (5× faster than an if per row in
 * JavaScript already: a row's direction is as unpredictable as the data).
 */
function partition(team: HistogramTeam, mapper: BinMapper, split: Candidate, start: number, end: number): number {
  directions(team.data.table, mapper, split)
  return team.partition(split.feature, start, end)
}

/** Per bin, 1 when its rows go left at this split (the missing bin by the split's default direction). */
function directions(table: Uint8Array, mapper: BinMapper, split: Candidate): void {
  table.fill(0)
  if (split.categorical) {
    const bits = split.leftCategories!
    const k = mapper.features[split.feature]!.bins
    for (let b = 0; b < k; b++) table[b] = (bits[b >>> 5]! >>> (b & 31)) & 1
  } else {
    table.fill(1, 0, split.bin + 1)
  }
  table[mapper.missingBin] = split.missingLeft ? 1 : 0
}

/** Histogram slots: arena regions of the team's slotBytes, reused once free; allocated on first need. */
export class SlotPool {
  private readonly free: number[] = []

  constructor(private readonly allocate: () => number) {}

  take(): number {
    return this.free.pop() ?? this.allocate()
  }

  give(slot: number): void {
    this.free.push(slot)
  }
}

/** Open nodes by gain, highest first; equal gains by node order. */
class SplitHeap {
  private readonly items: OpenNode[] = []

  get size(): number {
    return this.items.length
  }

  private above(a: OpenNode, b: OpenNode): boolean {
    return a.split.gain > b.split.gain || (a.split.gain === b.split.gain && a.node < b.node)
  }

  push(item: OpenNode): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.above(items[i]!, items[p]!)) break
      ;[items[i], items[p]] = [items[p]!, items[i]!]
      i = p
    }
  }

  pop(): OpenNode | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.above(items[l]!, items[m]!)) m = l
        if (r < items.length && this.above(items[r]!, items[m]!)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }
}
