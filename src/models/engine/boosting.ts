// Gradient boosting on the histogram engine, as scikit-learn's HistGradientBoosting does it: bin the training rows,
// start from the loss's intercept, then per iteration one tree per output (one per class for more than two
// classes) fitted best-first to the gradients and hessians, its leaves shrunk by the learning rate. With early
// stopping, a stratified share of the rows is held out and training stops when its loss has not improved by `tol`
// for `nIterNoChange` iterations.
import { Arena, type Kernels } from './arena.js'
import { binInParallel } from './bin-team.js'
import type { BinMapper } from './binning.js'
import { openTeam } from './gradient-team.js'
import type { GradientData } from './gradient-shard.js'
import { growGradientTree, SlotPool, type GrownTree } from './gradient-tree.js'
import { BLOCK, lossFor, partialsStride, weightedMedian, type LossName } from './losses.js'
import { rngFor, STREAM } from './random.js'
import { concatTrees, leafOf, type FlatTree, type TreeEnsemble } from './tree.js'
import { knownCategories, validationSplit, type Progress, type TrainingProblem } from './problem.js'

/** A split must leave at least this hessian on each side (scikit-learn's min_hessian_to_split). */
export const MIN_HESSIAN = 1e-3

export interface BoostingOptions {
  loss: LossName
  /** Classification: the number of classes (2 or more); regression: 0. */
  classes: number
  maxIter: number
  learningRate: number
  maxLeafNodes: number | null
  maxDepth: number | null
  minSamplesLeaf: number
  l2Regularization: number
  maxBins: number
  earlyStopping: boolean
  /** Held-out share for early stopping; null: stop on the training loss. */
  validationFraction: number | null
  nIterNoChange: number
  tol: number
  seed: number
  nJobs: number
  onProgress?: (p: Progress) => void
}

export interface BoostedTrees {
  ensemble: TreeEnsemble
  /** Trees per iteration: the number of classes for multinomial log loss, else 1. Tree t predicts output t % it. */
  treesPerIteration: number
  baseline: number[]
  iterations: number
  /** Mean training loss before each iteration, and after the last. */
  trainLoss: number[]
  /** Mean validation loss, likewise, when early stopping held rows out. */
  validationLoss: number[] | null
  /** Per feature: the summed gain of its splits, and their number. */
  gain: number[]
  splits: number[]
}

export async function trainBoosting(problem: TrainingProblem, o: BoostingOptions): Promise<BoostedTrees> {
  const started = Date.now()
  const { columns, kinds, target: y, weights: w } = problem
  const n = problem.rows
  const loss = lossFor(o.loss, o.classes)
  const K = loss.outputs

  // 1. rows for training and for early stopping
  const all = Int32Array.from({ length: n }, (_, i) => i)
  const { train, validation } =
    o.earlyStopping && o.validationFraction !== null ? validationSplit(all, o.validationFraction, o.classes > 0 ? y : null, rngFor(o.seed, STREAM.validation)) : { train: all, validation: null }

  // 2. the arena: bins fitted on the training rows, every row binned (validation rows are predicted from raw
  // values), gradients, the row index and the raw predictions
  const threads = Math.max(1, Math.min(o.nJobs, problem.features))
  const F = problem.features
  const blocks = Math.ceil(train.length / BLOCK)
  const arena = Arena.create(n * F + 8 * (2 * K * n + K * n + 2 * n + blocks * partialsStride(K)) + 4 * (3 * n) + 256 + 40 * F * (o.maxBins + 1) * 24)
  const bins = arena.u8(n * F)
  const mapper = await binInParallel(columns, kinds, train, o.maxBins, rngFor(o.seed, STREAM.binning), threads, { buffer: arena.memory.buffer as SharedArrayBuffer, offset: bins.ptr })
  const known = knownCategories(columns, kinds, train)
  const gradients = arena.f64(K * n)
  const hessians = arena.f64(K * n)
  const index = arena.i32(n)
  const scratch = arena.i32(n)
  const table = arena.u8(256)
  const data: GradientData = {
    rows: n,
    features: F,
    missingBin: mapper.missingBin,
    nBins: Int32Array.from(mapper.features, (f) => f.bins),
    categorical: Uint8Array.from(mapper.features, (f) => (f.categorical ? 1 : 0)),
    constantHessian: loss.constantHessian && w === null,
    memory: arena.memory,
    ptr: { bins: bins.ptr, gradients: gradients.ptr, hessians: hessians.ptr, index: index.ptr, scratch: scratch.ptr, table: table.ptr },
    bins: bins.view,
    gradients: gradients.view,
    hessians: hessians.view,
    index: index.view,
    scratch: scratch.view,
    table: table.view,
  }
  const copy = <T extends Float64Array | Int32Array>(into: { view: T }, values: T): T => {
    into.view.set(values as never)
    return into.view
  }
  const rawAt = arena.f64(K * n)
  const raw = rawAt.view
  const state = {
    data,
    kernels: arena.kernels,
    lossName: o.loss,
    classes: o.classes,
    target: copy(arena.f64(n), y),
    weights: w ? copy(arena.f64(n), w) : null,
    raw,
    train: copy(arena.i32(train.length), train),
    partials: arena.f64(blocks * partialsStride(K)).view,
  }
  const rules = { minSamplesLeaf: o.minSamplesLeaf, minHessian: MIN_HESSIAN, l2: o.l2Regularization }
  const team = await openTeam(state, rules, threads)
  const slots = new SlotPool(() => arena.alloc(team.slotBytes()))

  try {
    // 3. the intercept, then the iterations
    const baseline = loss.baseline(y, w, train)
    for (let k = 0; k < K; k++) raw.fill(baseline[k]!, k * n, (k + 1) * n)
    const m = validation?.length ?? 0
    const rawValidation = new Float64Array(K * m)
    for (let k = 0; k < K; k++) rawValidation.fill(baseline[k]!, k * m, (k + 1) * m)
    const rowValues = new Float64Array(problem.features)

    const trees: FlatTree[] = []
    const gain = new Array<number>(problem.features).fill(0)
    const splits = new Array<number>(problem.features).fill(0)
    const trainLoss: number[] = []
    const validationLoss: number[] | null = validation ? [] : null
    if (validationLoss && validation) validationLoss.push(loss.mean(y, w, validation, rawValidation))
    const options = { ...rules, maxLeafNodes: o.maxLeafNodes, maxDepth: o.maxDepth, learningRate: o.learningRate }
    let iterations = 0
    let lossIsCurrent = false

    for (let iteration = 0; iteration < o.maxIter; iteration++) {
      const gradients = team.gradients()
      trainLoss.push(gradients.loss)
      // without held-out rows, early stopping watches the training loss, known once the gradients are
      if (o.earlyStopping && !validationLoss && shouldStop(trainLoss, o.nIterNoChange, o.tol)) {
        lossIsCurrent = true
        break
      }
      const flats: FlatTree[] = []
      for (let k = 0; k < K; k++) {
        const offset = k * n
        data.index.set(train)
        const sums = { gradient: gradients.gradient[k]!, hessian: gradients.hessian[k]!, count: train.length }
        const grown = growGradientTree(team, slots, mapper, offset, train.length, sums, options)
        if (o.loss === 'absolute_error') medianLeaves(grown, data.index, y, raw, o.learningRate)
        for (const { feature, gain: g } of grown.splits) {
          gain[feature]! += g
          splits[feature]!++
        }
        // training rows take their leaf's value from the rows each leaf holds (no walk down the tree)
        const flat = grown.recorder.toFlat()
        addLeafValues(grown, arena.kernels, data.ptr.index, rawAt.ptr + 8 * offset)
        flats.push(flat)
      }
      trees.push(...flats)
      iterations++
      if (validation && validationLoss) {
        const step = concatTrees(flats, { features: problem.features, outputs: 1, categories: known.categories, known: known.bitsets, knownOffset: known.offsets })
        for (let i = 0; i < m; i++) {
          const r = validation[i]!
          for (let f = 0; f < problem.features; f++) rowValues[f] = columns[f]![r]!
          for (let k = 0; k < K; k++) rawValidation[k * m + i]! += step.values[leafOf(step, k, rowValues)]!
        }
        validationLoss.push(loss.mean(y, w, validation, rawValidation))
      }
      o.onProgress?.({ done: iterations, total: o.maxIter, unit: 'iterations', elapsedMs: Date.now() - started })
      if (o.earlyStopping && validationLoss && shouldStop(validationLoss, o.nIterNoChange, o.tol)) break
    }
    if (!lossIsCurrent) trainLoss.push(trainLossNow(loss, y, w, train, raw, n))

    return {
      ensemble: concatTrees(trees, { features: problem.features, outputs: 1, categories: known.categories, known: known.bitsets, knownOffset: known.offsets }),
      treesPerIteration: K,
      baseline: [...baseline],
      iterations,
      trainLoss,
      validationLoss,
      gain,
      splits,
    }
  } finally {
    await team.close()
  }
}

function trainLossNow(loss: ReturnType<typeof lossFor>, y: Float64Array, w: Float64Array | null, rows: Int32Array, raw: Float64Array, n: number): number {
  // the loss at the current predictions, laid out per row for mean()
  const K = loss.outputs
  const m = rows.length
  const gathered = new Float64Array(K * m)
  for (let k = 0; k < K; k++) for (let i = 0; i < m; i++) gathered[k * m + i] = raw[k * n + rows[i]!]!
  return loss.mean(y, w, rows, gathered)
}

/** scikit-learn's rule: stop when none of the last `n` losses is below the one before them by more than `tol`. */
export function shouldStop(losses: readonly number[], n: number, tol: number): boolean {
  if (losses.length < n + 1) return false
  const reference = losses[losses.length - n - 1]!
  for (let i = losses.length - n; i < losses.length; i++) if (losses[i]! < reference - tol) return false
  return true
}

/** Each leaf's value added to its rows' raw predictions (raw: the byte address of the tree's class's row). */
function addLeafValues(grown: GrownTree, kernels: Kernels, index: number, raw: number): void {
  for (const leaf of grown.leaves) kernels.add_leaf(index, leaf.start, leaf.end, raw, leafValueOf(grown, leaf.node))
}

function leafValueOf(grown: GrownTree, node: number): number {
  return grown.recorder.leafValues(node)[0]!
}

/** Absolute error: each leaf's value becomes the median of its rows' residuals, shrunk by the learning rate. */
function medianLeaves(grown: GrownTree, index: Int32Array, y: Float64Array, raw: Float64Array, learningRate: number): void {
  for (const leaf of grown.leaves) {
    const residuals = new Float64Array(leaf.end - leaf.start)
    for (let i = leaf.start; i < leaf.end; i++) residuals[i - leaf.start] = y[index[i]!]! - raw[index[i]!]!
    grown.recorder.setLeaf(leaf.node, [learningRate * weightedMedian(residuals, null)])
  }
}

export type { BinMapper }
