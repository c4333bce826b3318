// The worker thread that holds ONNX Runtime's sessions (runtime.ts starts it). ONNX Runtime for Node is imported
// here, on first use, and nowhere else: a process that never loads an ONNX model never loads its 50 MB library.
//
// A request comes as a message; its reply goes back either as a message to the parent (an async call: `seq` says
// which) or, for a call the parent waits for synchronously, on the `sync` port, after which the shared `signal` is
// set and notified (the parent is blocked in Atomics.wait and reads the reply with receiveMessageOnPort).
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import type { HostReply, HostRequest, HostTensor } from './runtime.js'

if (isMainThread || !parentPort) throw new Error('models/onnx/host.ts runs as a worker thread (runtime.ts starts it)')

const data = workerData as { runtime: string; signal: Int32Array; sync: MessagePort }
const parent = parentPort

// The few parts of onnxruntime-node's API used here (its types are a dev dependency of mlskel only).
interface OrtTensor {
  type: string
  data: ArrayLike<unknown> & { buffer?: ArrayBufferLike }
  dims: readonly number[]
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>, fetches: string[]): Promise<Record<string, OrtTensor>>
  release(): Promise<void>
}
interface Ort {
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor
  InferenceSession: { create(bytes: Uint8Array, options: Record<string, unknown>): Promise<OrtSession> }
}

let ort: Promise<Ort> | undefined
/** Sessions by model key. */
const sessions = new Map<string, Promise<OrtSession>>()
const models = new Map<string, Uint8Array>()

function loadOrt(): Promise<Ort> {
  ort ??= import(data.runtime).then((m: { default?: Ort } & Ort) => (m.default?.InferenceSession ? m.default : m))
  return ort
}

function session(key: string): Promise<OrtSession> {
  let s = sessions.get(key)
  if (!s) {
    const bytes = models.get(key)
    if (!bytes) return Promise.reject(new Error(`no model ${key} is open`))
    s = loadOrt().then((o) =>
      o.InferenceSession.create(bytes, {
        // one thread: the same bits for a row alone or in a batch (runtime.ts), and no pool of threads spinning
        // between one-row requests
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // fatal only: ONNX Runtime writes warnings (unused initializers …) and the errors it also returns (which mlskel
        // turns into coded errors) to stderr, which is the server's log
        logSeverityLevel: 4,
      }),
    )
    sessions.set(key, s)
    // a session that failed to load is not kept: the next request tries again (and fails again, saying why)
    s.catch(() => sessions.delete(key))
  }
  return s
}

function toTensor(o: Ort, t: HostTensor): OrtTensor {
  return new o.Tensor(t.type, t.data, t.dims)
}

function fromTensor(t: OrtTensor): HostTensor {
  // strings and bigints as ONNX Runtime gives them; numbers in a copy of their own (the tensor's memory is its)
  const d = t.data
  const copy = ArrayBuffer.isView(d) ? (d as unknown as { slice(): ArrayLike<unknown> }).slice() : Array.from(d)
  return { type: t.type, data: copy as HostTensor['data'], dims: [...t.dims] }
}

/** Rows one at a time (a model whose batch dimension is fixed at 1), the outputs joined along that dimension. */
async function runRowByRow(s: OrtSession, o: Ort, feeds: Record<string, HostTensor>, fetches: string[], rows: number): Promise<Record<string, HostTensor>> {
  const parts: Record<string, HostTensor[]> = Object.fromEntries(fetches.map((f) => [f, []]))
  for (let r = 0; r < rows; r++) {
    const one: Record<string, OrtTensor> = {}
    for (const [name, t] of Object.entries(feeds)) {
      const width = t.data.length / rows
      one[name] = toTensor(o, { type: t.type, data: (t.data as Float32Array).slice(r * width, (r + 1) * width), dims: [1, ...t.dims.slice(1)] })
    }
    const out = await s.run(one, fetches)
    for (const f of fetches) parts[f]!.push(fromTensor(out[f]!))
  }
  return Object.fromEntries(
    fetches.map((f) => {
      const list = parts[f]!
      if (list.length === 0) return [f, { type: 'float32', data: new Float32Array(0), dims: [0] }]
      const first = list[0]!
      const data = first.data instanceof Array ? list.flatMap((p) => p.data as unknown[]) : concatTyped(list.map((p) => p.data as Float32Array))
      return [f, { type: first.type, data: data as HostTensor['data'], dims: [rows, ...first.dims.slice(1)] }]
    }),
  )
}

function concatTyped(parts: Float32Array[]): Float32Array {
  const Type = parts[0]!.constructor as new (n: number) => Float32Array
  const out = new Type(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

async function handle(request: HostRequest): Promise<HostReply> {
  switch (request.type) {
    case 'open': {
      if (!models.has(request.key)) models.set(request.key, request.bytes)
      await session(request.key)
      return { ok: true }
    }
    case 'close': {
      models.delete(request.key)
      const s = sessions.get(request.key)
      sessions.delete(request.key)
      await s?.then((x) => x.release()).catch(() => undefined)
      return { ok: true }
    }
    case 'run': {
      const o = await loadOrt()
      const s = await session(request.key)
      const outputs = request.rowByRow !== undefined
        ? await runRowByRow(s, o, request.feeds, request.fetches, request.rowByRow)
        : Object.fromEntries(Object.entries(await s.run(Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, toTensor(o, t)])), request.fetches)).map(([name, t]) => [name, fromTensor(t)]))
      return { ok: true, outputs }
    }
  }
}

function reply(request: HostRequest, answer: HostReply): void {
  if (request.seq === undefined) {
    data.sync.postMessage(answer)
    Atomics.store(data.signal, 0, 1)
    Atomics.notify(data.signal, 0)
  } else {
    parent.postMessage({ ...answer, seq: request.seq })
  }
}

// One request at a time, in order: ONNX Runtime's run is a synchronous native call behind its promise anyway.
let queue: Promise<void> = Promise.resolve()
parent.on('message', (request: HostRequest) => {
  queue = queue.then(async () => {
    let answer: HostReply
    try {
      answer = await handle(request)
    } catch (error) {
      const e = error as Error & { code?: string }
      answer = { ok: false, message: e?.message ?? String(error), ...(e?.code ? { code: e.code } : {}), stage: request.type === 'run' ? 'run' : 'load' }
    }
    reply(request, answer)
  })
})
