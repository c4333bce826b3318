// The threads that do a boosting tree's histogram work: this thread alone (LocalTeam), or this thread and worker
// threads, each owning a block of features (ParallelTeam). They also share out the gradients, by blocks of rows.
//
// The parallel team runs in lock-step over shared memory: this thread writes a command, wakes the workers
// (Atomics.notify), does its own share, then waits until every worker has counted itself done. A command costs a
// few microseconds of waking, where a postMessage round trip costs ~100 µs; a tree takes about 2 commands per split.
// Nothing a worker computes depends on how many there are: each feature's histogram is summed by one thread in row
// order, each block of gradients by one thread, and results are merged in a fixed order.
import { type Worker } from 'node:worker_threads'
import { instantiateKernels, type Kernels } from './arena.js'
import { waitForChange } from './futex.js'
import { GradientShard, histogramWidth, noCandidate, type Candidate, type GradientData, type NodeSums, type SplitRules } from './gradient-shard.js'
import { bestOf, LocalTeam, type ChildJob, type HistogramTeam } from './gradient-tree.js'
import { BLOCK, lossFor, totals, type GradientTotals, type Loss, type LossName } from './losses.js'
import { bitsetWords } from './tree.js'
import { workerPool, type WorkerReply } from './pool.js'

/** What the boosting loop keeps in the arena and the team reads (every array a view of data.memory). */
export interface BoostingState {
  data: GradientData
  kernels: Kernels
  lossName: LossName
  classes: number
  target: Float64Array
  weights: Float64Array | null
  /** Raw predictions of every row, [k * rows + row]. */
  raw: Float64Array
  /** The training rows, ascending. */
  train: Int32Array
  /** Per block of training rows, the gradients' partial sums (losses.ts). */
  partials: Float64Array
}

export interface Team extends HistogramTeam {
  /** Gradients and hessians of the training rows at the current raw predictions, and their totals. */
  gradients(): GradientTotals
  close(): Promise<void>
}

/** Open a team of `threads` threads (this one included). */
export async function openTeam(state: BoostingState, rules: SplitRules, threads: number): Promise<Team> {
  if (threads <= 1) return new SoloTeam(state, rules)
  const workers = await workerPool().take(threads - 1)
  try {
    return await ParallelTeam.open(state, rules, workers)
  } catch (error) {
    workerPool().give(workers)
    throw error
  }
}

class SoloTeam extends LocalTeam implements Team {
  private readonly loss: Loss

  constructor(
    private readonly state: BoostingState,
    rules: SplitRules,
  ) {
    super(state.data, state.kernels, rules)
    this.loss = lossFor(state.lossName, state.classes)
  }

  gradients(): GradientTotals {
    const s = this.state
    this.loss.gradients(s.target, s.weights, s.train, 0, s.train.length, s.raw, s.data.rows, s.data.gradients, s.data.hessians, s.partials)
    return totals(s.partials, Math.ceil(s.train.length / BLOCK), this.loss.outputs)
  }

  async close(): Promise<void> {}
}

// Control words (Int32Array over a SharedArrayBuffer)
const GEN = 0 // command generation: workers wait for it to change
const DONE = 1 // workers done with the current command
const FAILED = 2 // a worker's command threw: its message is in the shared error text
const CONTROL_WORDS = 4

// Commands, in args[0]
const OP_ROOT = 1
const OP_CHILDREN = 2
const OP_GRADIENTS = 3
const OP_EXIT = 4
const OP_PARTITION = 5
const OP_GATHER = 6
const OP_COPY = 7
const ARGS = 24

/**
 * Nodes of fewer rows are partitioned by this thread alone: three commands (partition each chunk, gather the sides,
 * copy back) cost tens of µs, what one thread takes for about this many rows.
 */
const PARALLEL_PARTITION_ROWS = 65_536

// A candidate in the results: gain, feature, bin, missingLeft, categorical, G, H, count of its left side
const CANDIDATE = 8
/** Bitset words per candidate: 256 categories. */
const CANDIDATE_BITS = 8

/** Loads of a control word before sleeping on it, a few hundred µs: the next command comes sooner than a sleeping thread wakes (OpenMP spins likewise). */
const SPIN = 200_000

const ERROR_TEXT_BYTES = 4096

function writeErrorText(buffer: SharedArrayBuffer, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, ERROR_TEXT_BYTES - 4)
  new Uint8Array(buffer, 4).set(bytes)
  Atomics.store(new Int32Array(buffer, 0, 1), 0, bytes.length)
}

function readErrorText(buffer: SharedArrayBuffer): string {
  const length = Atomics.load(new Int32Array(buffer, 0, 1), 0)
  // copied out of shared memory first: TextDecoder does not read shared buffers
  return new TextDecoder().decode(new Uint8Array(buffer, 4, length).slice())
}

/**
 * Give up on a worker that has not finished a command in this long: it died (out of memory, killed). A command is a
 * node's histograms, well under a second even on 10^7 rows; this thread cannot hear of the worker's exit while it
 * waits, so this is how it finds out.
 */
const STALL_MS = 60_000

interface SharedSetup {
  participant: number
  threads: number
  lo: number
  hi: number
  /** Bytes of each thread's part of a histogram slot. */
  part: number
  rules: SplitRules
  lossName: LossName
  classes: number
  rows: number
  features: number
  missingBin: number
  nBins: Int32Array
  categorical: Uint8Array
  constantHessian: boolean
  nTrain: number
  memory: WebAssembly.Memory
  /** Byte offsets in memory, and lengths, of the state's arrays. */
  arrays: Record<ArrayName, { ptr: number; length: number } | null>
  control: SharedArrayBuffer
  args: SharedArrayBuffer
  results: SharedArrayBuffer
  resultBits: SharedArrayBuffer
  /** Per participant, how many rows of its chunk go left (a shared partition's first step). */
  counts: SharedArrayBuffer
  /** A failed command's error, as a length (Int32) then UTF-8: read by this thread while it waits, synchronously. */
  errorText: SharedArrayBuffer
}

type ArrayName = 'bins' | 'gradients' | 'hessians' | 'index' | 'scratch' | 'table' | 'target' | 'weights' | 'raw' | 'train' | 'partials'

/** Where a view sits in the arena: a worker rebuilds the same view from it. */
function placeOf(view: { byteOffset: number; length: number; buffer: ArrayBufferLike }, memory: WebAssembly.Memory, name: string): { ptr: number; length: number } {
  if (view.buffer !== memory.buffer && !(view.buffer instanceof SharedArrayBuffer)) throw new Error(`boosting state ${name} is not in the training arena`)
  return { ptr: view.byteOffset, length: view.length }
}

/** Feature blocks [lo, hi) for each of `threads` participants, as equal as can be. */
export function featureBlocks(features: number, threads: number): [number, number][] {
  return Array.from({ length: threads }, (_, p) => [Math.floor((p * features) / threads), Math.floor(((p + 1) * features) / threads)])
}

/** Blocks of training rows [from, to) of participant p: whole BLOCKs, so partial sums do not depend on `threads`. */
function rowShare(nTrain: number, threads: number, p: number): [number, number] {
  const blocks = Math.ceil(nTrain / BLOCK)
  const from = Math.floor((p * blocks) / threads) * BLOCK
  const to = Math.min(nTrain, Math.floor(((p + 1) * blocks) / threads) * BLOCK)
  return [Math.min(from, nTrain), to]
}

class ParallelTeam implements Team {
  private readonly control: Int32Array
  private readonly args: Float64Array
  private readonly results: Float64Array
  private readonly resultBits: Uint32Array
  private readonly partitioner: SharedPartition
  private readonly shard: GradientShard
  private readonly loss: Loss
  private readonly threads: number
  private readonly part: number
  private closed = false

  private constructor(
    private readonly state: BoostingState,
    rules: SplitRules,
    private readonly workers: Worker[],
    private readonly buffers: Pick<SharedSetup, 'control' | 'args' | 'results' | 'resultBits' | 'counts' | 'errorText'>,
  ) {
    this.threads = workers.length + 1
    this.control = new Int32Array(buffers.control)
    this.args = new Float64Array(buffers.args)
    this.results = new Float64Array(buffers.results)
    this.resultBits = new Uint32Array(buffers.resultBits)
    this.partitioner = new SharedPartition(state.data, state.kernels, new Int32Array(buffers.counts), this.threads, 0)
    this.part = partBytes(state.data, this.threads)
    const [lo, hi] = featureBlocks(state.data.features, this.threads)[0]!
    this.shard = new GradientShard(state.data, state.kernels, lo, hi, rules, 0, this.part)
    this.loss = lossFor(state.lossName, state.classes)
  }

  get data(): GradientData {
    return this.state.data
  }

  slotBytes(): number {
    return this.part * this.threads
  }

  static async open(state: BoostingState, rules: SplitRules, workers: Worker[]): Promise<ParallelTeam> {
    const threads = workers.length + 1
    const d = state.data
    const buffers = {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      args: new SharedArrayBuffer(ARGS * 8),
      results: new SharedArrayBuffer(threads * 2 * CANDIDATE * 8),
      resultBits: new SharedArrayBuffer(threads * 2 * CANDIDATE_BITS * 4),
      counts: new SharedArrayBuffer(threads * 4),
      errorText: new SharedArrayBuffer(ERROR_TEXT_BYTES),
    }
    const m = d.memory
    const arrays: SharedSetup['arrays'] = {
      bins: placeOf(d.bins, m, 'bins'),
      gradients: placeOf(d.gradients, m, 'gradients'),
      hessians: placeOf(d.hessians, m, 'hessians'),
      index: placeOf(d.index, m, 'index'),
      scratch: placeOf(d.scratch, m, 'scratch'),
      table: placeOf(d.table, m, 'table'),
      target: placeOf(state.target, m, 'target'),
      weights: state.weights ? placeOf(state.weights, m, 'weights') : null,
      raw: placeOf(state.raw, m, 'raw'),
      train: placeOf(state.train, m, 'train'),
      partials: placeOf(state.partials, m, 'partials'),
    }
    const team = new ParallelTeam(state, rules, workers, buffers)
    const blocks = featureBlocks(d.features, threads)
    await Promise.all(
      workers.map((worker, i) => {
        const [lo, hi] = blocks[i + 1]!
        const setup: SharedSetup = {
          participant: i + 1,
          threads,
          lo,
          hi,
          part: team.part,
          rules,
          lossName: state.lossName,
          classes: state.classes,
          rows: d.rows,
          features: d.features,
          missingBin: d.missingBin,
          nBins: d.nBins,
          categorical: d.categorical,
          constantHessian: d.constantHessian,
          nTrain: state.train.length,
          memory: m,
          arrays,
          ...buffers,
        }
        return workerPool().request(worker, { type: 'boosting-shard', setup }, 'ready')
      }),
    )
    return team
  }

  root(offset: number, slot: number, start: number, end: number, sums: NodeSums): Candidate {
    const a = this.args
    a[1] = offset
    a[2] = slot
    a[3] = start
    a[4] = end
    a[5] = sums.gradient
    a[6] = sums.hessian
    a[7] = sums.count
    this.command(OP_ROOT, () => shardRoot(this.shard, this.results, this.resultBits, 0, offset, slot, start, end, sums))
    return this.merge(0)
  }

  children(offset: number, small: ChildJob, large: ChildJob): [Candidate | null, Candidate | null] {
    const a = this.args
    a[1] = offset
    writeJob(a, SMALL_AT, small)
    writeJob(a, LARGE_AT, large)
    this.command(OP_CHILDREN, () => shardChildren(this.shard, this.results, this.resultBits, 0, offset, small, large))
    return [small.find ? this.merge(0) : null, large.find ? this.merge(1) : null]
  }

  /**
   * Large nodes in three steps on every thread: each partitions its chunk of the rows in place (stable), then copies
   * its left and right runs to where they go in scratch, then a chunk of scratch back; the same order as one
   * thread's partition, since chunks are taken in row order.
   */
  partition(feature: number, start: number, end: number): number {
    const d = this.state.data
    if (end - start < PARALLEL_PARTITION_ROWS) return this.state.kernels.partition(d.ptr.index, start, end, d.ptr.bins + feature * d.rows, d.ptr.table, d.ptr.scratch)
    const a = this.args
    a[1] = feature
    a[2] = start
    a[3] = end
    const own = this.partitioner
    this.command(OP_PARTITION, () => own.partitionChunk(feature, start, end))
    this.command(OP_GATHER, () => own.gather(start, end))
    this.command(OP_COPY, () => own.copyBack(start, end))
    return start + own.leftRows()
  }

  gradients(): GradientTotals {
    const s = this.state
    this.command(OP_GRADIENTS, () => {
      const [from, to] = rowShare(s.train.length, this.threads, 0)
      if (from < to) this.loss.gradients(s.target, s.weights, s.train, from, to, s.raw, s.data.rows, s.data.gradients, s.data.hessians, s.partials)
    })
    return totals(s.partials, Math.ceil(s.train.length / BLOCK), this.loss.outputs)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const done = this.workers.map((worker) => workerPool().expect(worker, 'left'))
    this.args[0] = OP_EXIT
    Atomics.store(this.control, DONE, 0)
    Atomics.add(this.control, GEN, 1)
    Atomics.notify(this.control, GEN)
    try {
      await Promise.all(done)
    } finally {
      workerPool().give(this.workers)
    }
  }

  /** Run a command on every thread: the workers from the shared args, this thread by `own`. */
  private command(op: number, own: () => void): void {
    const c = this.control
    this.args[0] = op
    Atomics.store(c, DONE, 0)
    Atomics.add(c, GEN, 1)
    Atomics.notify(c, GEN)
    own()
    const workers = this.workers.length
    const started = Date.now()
    for (let spin = 0; spin < SPIN && Atomics.load(c, DONE) < workers; spin++);
    for (;;) {
      const done = Atomics.load(c, DONE)
      if (done >= workers) break
      Atomics.wait(c, DONE, done, 1000)
      if (Date.now() - started > STALL_MS) throw new Error(`a training worker thread has not answered for ${STALL_MS / 1000} s; it may have run out of memory`)
    }
    if (Atomics.load(c, FAILED) !== 0) throw new Error(`a training worker thread failed: ${readErrorText(this.buffers.errorText)}`)
  }

  /** The best of the participants' candidates `which` (0 or 1). */
  private merge(which: number): Candidate {
    const candidates: Candidate[] = []
    for (let p = 0; p < this.threads; p++) candidates.push(readCandidate(this.results, this.resultBits, p, which, this.state.data.nBins))
    return bestOf(candidates)
  }
}

/** One participant's side of a partition shared out among `threads`: chunk p of the node's rows is its own. */
class SharedPartition {
  constructor(
    private readonly data: GradientData,
    private readonly kernels: Kernels,
    private readonly counts: Int32Array,
    private readonly threads: number,
    private readonly p: number,
  ) {}

  /** Step 1: partition the chunk in place (the right side through its own stretch of scratch); count its left rows. */
  partitionChunk(feature: number, start: number, end: number): void {
    const d = this.data
    const [a, b] = this.chunk(start, end, this.p)
    this.counts[this.p] = this.kernels.partition(d.ptr.index, a, b, d.ptr.bins + feature * d.rows, d.ptr.table, d.ptr.scratch + 4 * a) - a
  }

  /** Step 2: the chunk's left run to its place among all left rows in scratch, its right run among the right rows. */
  gather(start: number, end: number): void {
    const d = this.data
    const [a, b] = this.chunk(start, end, this.p)
    let before = 0
    for (let q = 0; q < this.p; q++) before += this.counts[q]!
    const left = this.counts[this.p]!
    d.scratch.set(d.index.subarray(a, a + left), start + before)
    d.scratch.set(d.index.subarray(a + left, b), start + this.leftRows() + (a - start - before))
  }

  /** Step 3: the chunk of scratch back into the index. */
  copyBack(start: number, end: number): void {
    const d = this.data
    const [a, b] = this.chunk(start, end, this.p)
    d.index.set(d.scratch.subarray(a, b), a)
  }

  leftRows(): number {
    let total = 0
    for (let q = 0; q < this.threads; q++) total += this.counts[q]!
    return total
  }

  private chunk(start: number, end: number, q: number): [number, number] {
    const n = end - start
    return [start + Math.floor((q * n) / this.threads), start + Math.floor(((q + 1) * n) / this.threads)]
  }
}

/** Bytes of one thread's part of a slot: the widest feature block's histograms. */
function partBytes(data: GradientData, threads: number): number {
  const widest = Math.max(...featureBlocks(data.features, threads).map(([lo, hi]) => hi - lo))
  return widest * histogramWidth(data)
}

function shardRoot(shard: GradientShard, results: Float64Array, bits: Uint32Array, p: number, offset: number, slot: number, start: number, end: number, sums: NodeSums): void {
  shard.build(slot, start, end, offset)
  const best = noCandidate()
  shard.bestSplit(slot, sums, best)
  writeCandidate(results, bits, p, 0, best)
}

/** A child job in the args: slot, start, end, find, then its sums (gradient, hessian, count). */
const JOB_WORDS = 7
const SMALL_AT = 3
const LARGE_AT = SMALL_AT + JOB_WORDS

function writeJob(a: Float64Array, at: number, job: ChildJob): void {
  a[at] = job.slot
  a[at + 1] = job.start
  a[at + 2] = job.end
  a[at + 3] = job.find ? 1 : 0
  a[at + 4] = job.sums.gradient
  a[at + 5] = job.sums.hessian
  a[at + 6] = job.sums.count
}

function readJob(a: Float64Array, at: number): ChildJob {
  return { slot: a[at]!, start: a[at + 1]!, end: a[at + 2]!, find: a[at + 3] === 1, sums: { gradient: a[at + 4]!, hessian: a[at + 5]!, count: a[at + 6]! } }
}

function shardChildren(shard: GradientShard, results: Float64Array, bits: Uint32Array, p: number, offset: number, small: ChildJob, large: ChildJob): void {
  shard.build(small.slot, small.start, small.end, offset)
  shard.subtract(large.slot, small.slot)
  ;[small, large].forEach((job, which) => {
    if (!job.find) return
    const best = noCandidate()
    shard.bestSplit(job.slot, job.sums, best)
    writeCandidate(results, bits, p, which, best)
  })
}

function writeCandidate(results: Float64Array, bits: Uint32Array, p: number, which: number, c: Candidate): void {
  const o = (p * 2 + which) * CANDIDATE
  results[o] = c.gain
  results[o + 1] = c.feature
  results[o + 2] = c.bin
  results[o + 3] = c.missingLeft ? 1 : 0
  results[o + 4] = c.categorical ? 1 : 0
  results[o + 5] = c.left.gradient
  results[o + 6] = c.left.hessian
  results[o + 7] = c.left.count
  const b = (p * 2 + which) * CANDIDATE_BITS
  bits.fill(0, b, b + CANDIDATE_BITS)
  if (c.leftCategories) bits.set(c.leftCategories, b)
}

function readCandidate(results: Float64Array, bits: Uint32Array, p: number, which: number, nBins: Int32Array): Candidate {
  const o = (p * 2 + which) * CANDIDATE
  const categorical = results[o + 4] === 1
  const feature = results[o + 1]!
  const b = (p * 2 + which) * CANDIDATE_BITS
  return {
    gain: results[o]!,
    feature,
    bin: results[o + 2]!,
    missingLeft: results[o + 3] === 1,
    categorical,
    // as long as the shard made it: a bitset of the feature's categories
    leftCategories: categorical ? bits.slice(b, b + bitsetWords(nBins[feature]!)) : null,
    left: { gradient: results[o + 5]!, hessian: results[o + 6]!, count: results[o + 7]! },
  }
}

/** A worker thread's side of the team: serve commands until OP_EXIT. Runs inside the worker's message handler. */
export function serveBoostingShard(setup: SharedSetup, reply: (message: WorkerReply) => void): void {
  const m = setup.memory
  const f64 = (name: ArrayName) => new Float64Array(m.buffer, setup.arrays[name]!.ptr, setup.arrays[name]!.length)
  const i32 = (name: ArrayName) => new Int32Array(m.buffer, setup.arrays[name]!.ptr, setup.arrays[name]!.length)
  const u8 = (name: ArrayName) => new Uint8Array(m.buffer, setup.arrays[name]!.ptr, setup.arrays[name]!.length)
  const a = setup.arrays
  const data: GradientData = {
    rows: setup.rows,
    features: setup.features,
    missingBin: setup.missingBin,
    nBins: setup.nBins,
    categorical: setup.categorical,
    constantHessian: setup.constantHessian,
    memory: m,
    ptr: { bins: a.bins!.ptr, gradients: a.gradients!.ptr, hessians: a.hessians!.ptr, index: a.index!.ptr, scratch: a.scratch!.ptr, table: a.table!.ptr },
    bins: u8('bins'),
    gradients: f64('gradients'),
    hessians: f64('hessians'),
    index: i32('index'),
    scratch: i32('scratch'),
    table: u8('table'),
  }
  const target = f64('target')
  const weights = a.weights ? f64('weights') : null
  const raw = f64('raw')
  const train = i32('train')
  const partials = f64('partials')
  const control = new Int32Array(setup.control)
  const args = new Float64Array(setup.args)
  const results = new Float64Array(setup.results)
  const bits = new Uint32Array(setup.resultBits)
  const kernels = instantiateKernels(m)
  const partitioner = new SharedPartition(data, kernels, new Int32Array(setup.counts), setup.threads, setup.participant)
  const shard = new GradientShard(data, kernels, setup.lo, setup.hi, setup.rules, setup.participant, setup.part)
  const loss = lossFor(setup.lossName, setup.classes)
  const p = setup.participant
  let generation = Atomics.load(control, GEN)
  reply({ type: 'ready' })
  for (;;) {
    // a command usually follows within microseconds: spin a little before sleeping (a futex wake costs ~50 µs). Only
    // a new generation is a command: a wake alone may be the last command's notify, come late (futex.ts).
    generation = waitForChange(control, GEN, generation, SPIN)
    const op = args[0]
    if (op === OP_EXIT) break
    try {
      if (op === OP_ROOT) {
        shardRoot(shard, results, bits, p, args[1]!, args[2]!, args[3]!, args[4]!, { gradient: args[5]!, hessian: args[6]!, count: args[7]! })
      } else if (op === OP_CHILDREN) {
        shardChildren(shard, results, bits, p, args[1]!, readJob(args, SMALL_AT), readJob(args, LARGE_AT))
      } else if (op === OP_PARTITION) {
        partitioner.partitionChunk(args[1]!, args[2]!, args[3]!)
      } else if (op === OP_GATHER) {
        partitioner.gather(args[2]!, args[3]!)
      } else if (op === OP_COPY) {
        partitioner.copyBack(args[2]!, args[3]!)
      } else if (op === OP_GRADIENTS) {
        const [from, to] = rowShare(setup.nTrain, setup.threads, p)
        if (from < to) loss.gradients(target, weights, train, from, to, raw, setup.rows, data.gradients, data.hessians, partials)
      }
    } catch (error) {
      writeErrorText(setup.errorText, error instanceof Error ? (error.stack ?? error.message) : String(error))
      Atomics.store(control, FAILED, 1)
    }
    Atomics.add(control, DONE, 1)
    Atomics.notify(control, DONE)
  }
  reply({ type: 'left' })
}

export type { SharedSetup as BoostingShardSetup }
