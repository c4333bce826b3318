// ONNX Runtime, for the `onnx` kind: onnxruntime-node (an optional dependency) runs in a worker thread of its own
// (host.ts), which this module starts on first use and which never keeps the process alive.
//
// Why a worker: mlskel's Predictor.predict is synchronous (the prediction API, reports and the contract suite call
// it so), and onnxruntime-node's public API is asynchronous only (InferenceSession.create and run return promises;
// underneath, run is a synchronous native call deferred by a setImmediate). Its synchronous binding is internal and
// has changed shape between releases. So the sessions live in a worker, and a synchronous call posts its request
// and blocks in Atomics.wait until the worker answers on a port it then reads with receiveMessageOnPort; an
// asynchronous call (predictBatch) awaits the worker's reply and leaves the event loop free meanwhile. Both use
// only onnxruntime-node's documented API. The price is a round trip between threads per call (measured by
// `npm run bench`, bench/onnx.ts).
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { MlskelError } from '../../errors/index.js'
import { distScript } from '../../package/index.js'
import { waitForChange } from '../engine/futex.js'

/** A tensor crossing between the threads: ONNX Runtime's type name, its data, its dimensions. */
export interface HostTensor {
  type: 'float32' | 'float64' | 'int64' | 'int32' | 'string' | string
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | string[]
  dims: number[]
}

export type HostRequest = { seq?: number } & (
  | { type: 'open'; key: string; bytes: Uint8Array }
  | { type: 'close'; key: string }
  | { type: 'run'; key: string; feeds: Record<string, HostTensor>; fetches: string[]; rowByRow?: number }
)

export type HostReply = { ok: true; outputs?: Record<string, HostTensor> } | { ok: false; message: string; code?: string; stage: 'load' | 'run' }

export const ONNX_RUNTIME_PACKAGE = 'onnxruntime-node'

/**
 * From the build, the worker runs dist/models/onnx/host.js (an entry point of its own); from the TypeScript sources
 * (tests, tsx), host.ts through the engine's tsx shim.
 */
function hostEntry(): { url: URL; entry?: string } {
  const here = import.meta.url
  if (here.endsWith('.ts')) return { url: new URL('../engine/worker-dev.mjs', here), entry: new URL('./host.ts', here).href }
  return { url: distScript('models/onnx/host.js') }
}

/**
 * onnxruntime-node's entry, as `require.resolve` finds it from the first of `bases` (module URLs) that has it. By
 * default from mlskel's own location, as an import would, then from the project's (the working folder's): an mlskel
 * installed globally or run by npx finds the package the project installed beside its other dependencies.
 */
export function resolveRuntimeFrom(bases: readonly string[]): string {
  const failures: unknown[] = []
  for (const base of bases) {
    try {
      return createRequire(base).resolve(ONNX_RUNTIME_PACKAGE)
    } catch (error) {
      failures.push(error)
    }
  }
  throw failures[0] ?? new Error(`nowhere to look for ${ONNX_RUNTIME_PACKAGE}`)
}

export interface OnnxHostOptions {
  /** Where onnxruntime-node's entry module is (default: resolveRuntimeFrom mlskel's location, then the working folder's). */
  resolveRuntime?: () => string
}

export interface RunOptions {
  /** The model's batch dimension is fixed at 1: run the rows one by one (their count). */
  rowByRow?: number
}

/**
 * An open model: its runs, synchronous or not. Its session runs on one thread: ONNX Runtime's own threads sum a tree
 * ensemble's trees in chunks, in another order than one thread does, which changes the last bits of a prediction, and
 * a predictor answers the same for a row whether it comes alone or in a batch.
 */
export interface OnnxSession {
  readonly key: string
  run(feeds: Record<string, HostTensor>, fetches: string[], o?: RunOptions): Record<string, HostTensor>
  runAsync(feeds: Record<string, HostTensor>, fetches: string[], o?: RunOptions): Promise<Record<string, HostTensor>>
}

export interface OnnxHost {
  /**
   * Open a model (ONNX bytes), synchronously: ONNX Runtime loads it before this returns, so that a
   * model it cannot load is refused here (MLSKEL_ONNX_UNSUPPORTED), and a missing onnxruntime-node too
   * (MLSKEL_ONNX_RUNTIME_MISSING). The session is released when `owner` is garbage collected and no other owner
   * holds the same model.
   */
  open(bytes: Uint8Array, owner: object): OnnxSession
}

interface Pending {
  resolve: (reply: HostReply) => void
  reject: (error: Error) => void
}

class WorkerHost implements OnnxHost {
  private worker: Worker | undefined
  private signal: Int32Array | undefined
  private port: MessagePort | undefined
  private runtime: string | undefined
  private readonly pending = new Map<number, Pending>()
  private seq = 0
  /** Per model key: its bytes (to open it again in a new worker), owners alive, whether the worker has it open. */
  private readonly models = new Map<string, { bytes: Uint8Array; owners: number; open: boolean }>()
  private readonly released = new FinalizationRegistry<string>((key) => this.release(key))

  constructor(private readonly o: OnnxHostOptions) {}

  /** onnxruntime-node's entry, or a coded error saying how to install it. */
  private runtimeEntry(): string {
    if (this.runtime) return this.runtime
    try {
      this.runtime = (this.o.resolveRuntime ?? (() => resolveRuntimeFrom([import.meta.url, pathToFileURL(join(process.cwd(), 'package.json')).href])))()
    } catch (error) {
      throw new MlskelError('MLSKEL_ONNX_RUNTIME_MISSING', `ONNX models need the optional package ${ONNX_RUNTIME_PACKAGE}, which is not installed (${(error as Error).message.split('\n')[0]})`, { cause: error })
    }
    return this.runtime
  }

  private start(): Worker {
    if (this.worker) return this.worker
    const runtime = pathToFileURL(this.runtimeEntry()).href
    const { url, entry } = hostEntry()
    const signal = new Int32Array(new SharedArrayBuffer(4))
    const { port1, port2 } = new MessageChannel()
    const worker = new Worker(url, { workerData: { runtime, signal, sync: port2, ...(entry ? { entry } : {}) }, transferList: [port2] })
    worker.on('message', (reply: HostReply & { seq: number }) => {
      const p = this.pending.get(reply.seq)
      if (!p) return
      this.pending.delete(reply.seq)
      if (this.pending.size === 0) worker.unref()
      p.resolve(reply)
    })
    const gone = (error: Error) => {
      if (this.worker !== worker) return
      this.worker = undefined
      this.models.forEach((m) => (m.open = false))
      for (const p of this.pending.values()) p.reject(error)
      this.pending.clear()
    }
    worker.on('error', gone)
    worker.on('exit', (code) => gone(new Error(`the ONNX Runtime worker thread exited (code ${code})`)))
    // The worker keeps the process alive only while an async call waits (callAsync refs it). Unref'd after the
    // listeners: adding a 'message' listener refs a Worker again, and before, a process that had opened a model lived
    // on until a collection released it (~15 s for `mlskel models import x.onnx`).
    worker.unref()
    port1.unref()
    this.worker = worker
    this.signal = signal
    this.port = port1
    return worker
  }

  /** Post a request and block until the worker answers it. */
  private call(request: HostRequest): HostReply {
    const worker = this.start()
    const signal = this.signal!
    Atomics.store(signal, 0, 0)
    worker.postMessage(request)
    waitForChange(signal, 0, 0)
    const message = receiveMessageOnPort(this.port!)
    if (!message) throw new Error('the ONNX Runtime worker thread woke without an answer')
    return message.message as HostReply
  }

  private callAsync(request: HostRequest): Promise<HostReply> {
    const worker = this.start()
    const seq = ++this.seq
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject })
      worker.ref()
      worker.postMessage({ ...request, seq })
    })
  }

  private failure(reply: Extract<HostReply, { ok: false }>): MlskelError {
    if (reply.stage === 'load' && /Cannot find (module|package)|ERR_MODULE_NOT_FOUND|ERR_DLOPEN_FAILED|\.node\b/.test(`${reply.code ?? ''} ${reply.message}`)) {
      return new MlskelError('MLSKEL_ONNX_RUNTIME_MISSING', `${ONNX_RUNTIME_PACKAGE} is installed but cannot be loaded here: ${reply.message}`)
    }
    if (reply.stage === 'load') return new MlskelError('MLSKEL_ONNX_UNSUPPORTED', `ONNX Runtime cannot load the model: ${reply.message}`)
    return new MlskelError('MLSKEL_ONNX_RUN_FAILED', `ONNX Runtime failed to predict: ${reply.message}`)
  }

  /** Make sure the worker has the model open (synchronously). */
  private ensure(key: string): void {
    const model = this.models.get(key)!
    if (this.worker && model.open) return
    const reply = this.call({ type: 'open', key, bytes: model.bytes })
    if (!reply.ok) throw this.failure(reply)
    model.open = true
  }

  private release(key: string): void {
    const model = this.models.get(key)
    if (!model || --model.owners > 0) return
    this.models.delete(key)
    // asynchronously: a finalizer must not block
    if (this.worker) void this.callAsync({ type: 'close', key }).catch(() => undefined)
  }

  open(bytes: Uint8Array, owner: object): OnnxSession {
    const key = createHash('sha256').update(bytes).digest('hex')
    const model = this.models.get(key)
    if (model) model.owners++
    else this.models.set(key, { bytes, owners: 1, open: false })
    this.released.register(owner, key, owner)
    try {
      this.ensure(key)
    } catch (error) {
      this.release(key)
      this.released.unregister(owner)
      throw error
    }
    const outputsOf = (reply: HostReply) => {
      if (!reply.ok) throw this.failure(reply)
      return reply.outputs!
    }
    return {
      key,
      run: (feeds, fetches, o = {}) => {
        this.ensure(key)
        return outputsOf(this.call({ type: 'run', key, feeds, fetches, ...(o.rowByRow !== undefined ? { rowByRow: o.rowByRow } : {}) }))
      },
      runAsync: async (feeds, fetches, o = {}) => {
        const model = this.models.get(key)
        if (!this.worker || !model?.open) {
          const opened = await this.callAsync({ type: 'open', key, bytes: model?.bytes ?? bytes })
          if (!opened.ok) throw this.failure(opened)
          if (model) model.open = true
        }
        return outputsOf(await this.callAsync({ type: 'run', key, feeds, fetches, ...(o.rowByRow !== undefined ? { rowByRow: o.rowByRow } : {}) }))
      },
    }
  }
}

/** A host of ONNX Runtime sessions; tests make their own (a runtime that cannot be found, say). */
export function createOnnxHost(o: OnnxHostOptions = {}): OnnxHost {
  return new WorkerHost(o)
}

let shared: OnnxHost | undefined

/** The process's host (one worker thread for every ONNX model of this thread). */
export function onnxHost(): OnnxHost {
  shared ??= createOnnxHost()
  return shared
}
