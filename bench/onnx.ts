// The onnx kind's benchmark (part of `npm run bench`; alone: `npx tsx bench/onnx.ts`): what a one-row prediction
// costs through the onnx kind, whose synchronous predict is a round trip to the worker thread that holds ONNX
// Runtime (src/models/onnx/runtime.ts), as calls per second beside a baseline measured in the same run: ONNX
// Runtime's own asynchronous API on this thread (`await session.run` of the same row, the same model bytes and
// session options, no mlskel). The ratio onnx kind / ONNX Runtime is the price of the synchronous bridge. For the
// exported model, mlskel's own predictor of the model it came from is shown too. Models: a gradient_boosting
// classifier (3 classes, 100 iterations: 300 trees) exported to ONNX with double input, and a LinearRegressor of 8
// features (next to no work: the fixed cost of a call). Rows cycle through 1,000 distinct rows. 3 rounds in which the
// sides take turns, each timing one-row calls for at least a second after 500 warm-up calls; the figures are medians
// over the rounds, the ratio the median of the rounds' ratios; load = the highest 1-minute load average at the rounds.
// The kind's predictions must be ONNX Runtime's (and the exported model's mlskel's within 1e-5), or the row fails.
// Target, on the exported model: ≥ 0.5× ONNX Runtime's own one-row rate. The LinearRegressor's row has no target: it
// shows the bridge's fixed cost per call (µs), which is two hand-offs between threads and grows with the machine's
// load (a bare postMessage/Atomics.wait round trip, measured alone: 44 µs per call at a load of 5 on 2 cores).
import { availableParallelism, cpus, loadavg } from 'node:os'
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { mixed } from '../src/models/contract/test-contract.js'
import { exportOnnx, readOnnxModel, trainGradientBoosting, type Predictor } from '../src/models/index.js'
import { ELEM, encodeModel } from '../src/models/onnx/proto.js'

const self = fileURLToPath(import.meta.url)
const ROUNDS = 3
const MIN_MS = 1000
const WARM_UP = 500
/** The synchronous bridge may cost at most half of ONNX Runtime's own one-row rate. */
const TARGET = 0.5

export interface OnnxRow {
  model: string
  /** One-row calls per second, medians over the rounds. */
  kindPerSecond: number
  runtimePerSecond: number
  /** mlskel's own predictor of the exported model, or null. */
  nativePerSecond: number | null
  /** Median of the rounds' kind / ONNX Runtime. */
  ratio: number
  /** What the bridge adds to a call, µs: 1/kind − 1/ONNX Runtime, from the medians. */
  bridgeMicros: number
  /** Whether the row is held to the target (the exported model), or shows the fixed cost (a model of no work). */
  targeted: boolean
  /** Largest difference of the kind's predictions from ONNX Runtime's own, and from mlskel's (exported model). */
  runtimeDifference: number
  nativeDifference: number | null
  load: number
  ok: boolean
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const load1 = (): number => loadavg()[0]!

/** Calls per second of `call`, one row each, cycling through `rows`. */
async function rate(rows: readonly number[][], call: (row: number[]) => unknown): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await call(rows[i % rows.length]!)
  let calls = 0
  const started = performance.now()
  while (performance.now() - started < MIN_MS || calls < 1000) {
    await call(rows[calls % rows.length]!)
    calls++
  }
  return calls / ((performance.now() - started) / 1000)
}

interface Ort {
  Tensor: new (type: string, data: Float32Array | Float64Array, dims: number[]) => unknown
  InferenceSession: { create(bytes: Uint8Array, o: Record<string, unknown>): Promise<{ run(feeds: Record<string, unknown>, fetches: string[]): Promise<Record<string, { data: ArrayLike<number | bigint | string> }>> }> }
}

interface Case {
  name: string
  bytes: Uint8Array
  input: { name: string; type: 'float32' | 'float64' }
  /** The output to compare, and how the kind's prediction of a row reads from it. */
  output: string
  rows: number[][]
  native: Predictor | null
  targeted: boolean
}

async function cases(): Promise<Case[]> {
  const m = mixed(2000, 5)
  const model = await trainGradientBoosting({ task: 'classification', signature: m.signature, data: m.data, seed: 1, hyperParameters: { max_iter: 100, early_stopping: false } })
  const exported = exportOnnx(model, { modelId: 'bench000000000000' })
  const F = 8
  const linear = encodeModel({
    irVersion: 8,
    opsets: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producerName: 'bench',
    producerVersion: '0',
    graph: {
      name: 'linear',
      nodes: [{ opType: 'LinearRegressor', domain: 'ai.onnx.ml', name: 'lin', inputs: ['x'], outputs: ['y'], attributes: [{ name: 'coefficients', type: 'floats', value: Array.from({ length: F }, (_, i) => i + 1) }, { name: 'intercepts', type: 'floats', value: [0.5] }] }],
      inputs: [{ name: 'x', elemType: ELEM.FLOAT, shape: ['N', F] }],
      outputs: [{ name: 'y', elemType: ELEM.FLOAT, shape: ['N', 1] }],
    },
    metadata: [],
  })
  const linearRows = Array.from({ length: 1000 }, (_, r) => Array.from({ length: F }, (_, f) => Math.fround(Math.sin(r * 7 + f) * 3)))
  return [
    { name: 'gradient_boosting export, 300 trees', bytes: exported, input: { name: 'features', type: 'float64' }, output: 'probabilities', rows: mixed(1000, 6).data.X, native: model, targeted: true },
    { name: 'LinearRegressor, 8 features', bytes: linear, input: { name: 'x', type: 'float32' }, output: 'y', rows: linearRows, native: null, targeted: false },
  ]
}

export async function onnxBench(): Promise<OnnxRow[]> {
  let ort: Ort
  try {
    ort = (await import('onnxruntime-node')) as unknown as Ort
  } catch (error) {
    console.log(`\nonnx: skipped: onnxruntime-node cannot be loaded (${(error as Error).message.split('\n')[0]}); npm ci installs it`)
    return []
  }
  const out: OnnxRow[] = []
  for (const c of await cases()) {
    console.log(`onnx: ${c.name}, one-row calls…`)
    const { predictor } = readOnnxModel(c.bytes)
    const session = await ort.InferenceSession.create(c.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3 })
    const F = c.rows[0]!.length
    const Data = c.input.type === 'float32' ? Float32Array : Float64Array
    const direct = (row: number[]) => session.run({ [c.input.name]: new ort.Tensor(c.input.type, Data.from(row), [1, F]) }, [c.output])
    const kind = (row: number[]) => (predictor.predictProba ? predictor.predictProba([row]) : predictor.predict([row]))
    // agreement, on every row: the kind against ONNX Runtime's own answer, and against mlskel's for the export
    let runtimeDifference = 0
    let nativeDifference: number | null = c.native ? 0 : null
    for (const row of c.rows) {
      const theirs = Array.from((await direct(row))[c.output]!.data, Number)
      const mine = (kind(row) as number[][] | number[]).flat()
      // the kind's probabilities are ONNX Runtime's made to sum to 1 in double
      mine.forEach((v, k) => (runtimeDifference = Math.max(runtimeDifference, Math.abs(v - theirs[k]!))))
      if (c.native) c.native.predictProba!([row])[0]!.forEach((v, k) => (nativeDifference = Math.max(nativeDifference!, Math.abs(v - mine[k]!))))
    }
    const kindRates: number[] = []
    const runtimeRates: number[] = []
    const nativeRates: number[] = []
    const loads: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      loads.push(load1())
      kindRates.push(await rate(c.rows, kind))
      runtimeRates.push(await rate(c.rows, direct))
      if (c.native) nativeRates.push(await rate(c.rows, (row) => c.native!.predictProba!([row])))
      loads.push(load1())
    }
    const ratio = median(kindRates.map((k, i) => k / runtimeRates[i]!))
    const kindPerSecond = median(kindRates)
    const runtimePerSecond = median(runtimeRates)
    out.push({
      model: c.name,
      kindPerSecond,
      runtimePerSecond,
      nativePerSecond: c.native ? median(nativeRates) : null,
      ratio,
      bridgeMicros: 1e6 / kindPerSecond - 1e6 / runtimePerSecond,
      targeted: c.targeted,
      runtimeDifference,
      nativeDifference,
      load: Math.max(...loads),
      ok: (!c.targeted || ratio >= TARGET) && runtimeDifference <= 1e-6 && (nativeDifference === null || nativeDifference <= 1e-5),
    })
  }
  return out
}

const perSecond = (r: number): string => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(1)}k`)

export function printOnnxRows(rows: readonly OnnxRow[]): void {
  if (rows.length === 0) return
  console.log(
    `\nonnx: one-row predictions of the onnx kind (its synchronous predict, through ONNX Runtime's worker thread) vs ONNX Runtime's own ` +
      `\`await session.run\` on this thread, one thread each (Node ${process.version}, src/ through tsx, ${availableParallelism()} cores: ${cpus()[0]?.model.trim() ?? '?'}); ` +
      `calls/s = medians of ${ROUNDS} rounds; × = onnx kind / ONNX Runtime (median of the rounds' ratios); mlskel = its own predictor of the exported model; ` +
      `agreement = largest difference from ONNX Runtime's answer (and from mlskel's); load = highest 1-minute load average\n`,
  )
  console.log(`${'model'.padEnd(38)}${'onnx kind'.padStart(11)}${'ONNX RT'.padStart(10)}${'×'.padStart(7)}${'bridge'.padStart(9)}${'mlskel'.padStart(9)}${'agreement'.padStart(14)}${'load'.padStart(6)}  verdict`)
  for (const r of rows) {
    const agreement = `${r.runtimeDifference.toExponential(0)}${r.nativeDifference === null ? '' : ` / ${r.nativeDifference.toExponential(0)}`}`
    const verdict = !r.ok ? 'MISSED' : r.targeted ? 'ok' : 'ok (fixed cost, no target)'
    console.log(
      `${r.model.padEnd(38)}${perSecond(r.kindPerSecond).padStart(11)}${perSecond(r.runtimePerSecond).padStart(10)}${`${r.ratio.toFixed(2)}×`.padStart(7)}${`${r.bridgeMicros.toFixed(0)} µs`.padStart(9)}${(r.nativePerSecond === null ? '—' : perSecond(r.nativePerSecond)).padStart(9)}${agreement.padStart(14)}${r.load.toFixed(1).padStart(6)}  ${verdict}`,
    )
  }
  console.log(`target: on the exported model, the onnx kind's one-row calls/s ≥ ${TARGET}× ONNX Runtime's own asynchronous run of one row, with its answers; bridge = µs the synchronous bridge adds to a call`)
}

if (process.argv[1] && resolve(process.argv[1]) === self) {
  const rows = await onnxBench()
  printOnnxRows(rows)
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1
}
