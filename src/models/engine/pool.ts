// The engine's worker threads: started on first use, kept for the next training (cross-validation trains six
// models in a row), and never keeping the process alive. A worker serves one job at a time; jobs talk to it through
// request/expect (messages) and, while a job runs, through shared memory.
import { Worker } from 'node:worker_threads'
import { distScript } from '../../package/index.js'

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'left' }
  | { type: 'error'; message: string }
  | { type: 'tree'; index: number; tree: unknown }
  | { type: 'predicted' }
  | { type: 'binned'; features: unknown[] }

interface Waiter {
  type: WorkerReply['type']
  resolve: (reply: WorkerReply) => void
  reject: (error: Error) => void
}

/**
 * From the build, workers run dist/models/engine/worker.js (its own entry point: this module is bundled into a chunk
 * elsewhere); from the TypeScript sources (tests, tsx), worker.ts through worker-dev.mjs.
 */
function workerEntry(): { url: URL; workerData?: { entry: string } } {
  const here = import.meta.url
  if (here.endsWith('.ts')) return { url: new URL('./worker-dev.mjs', here), workerData: { entry: new URL('./worker.ts', here).href } }
  return { url: distScript('models/engine/worker.js') }
}

class WorkerPool {
  private readonly idle: Worker[] = []
  private readonly waiters = new Map<Worker, Waiter[]>()

  /** `count` workers for one job, started if need be. Give them back with give(). */
  async take(count: number): Promise<Worker[]> {
    const taken = this.idle.splice(0, count)
    for (const worker of taken) worker.ref()
    const started = Array.from({ length: count - taken.length }, () => this.start())
    return [...taken, ...(await Promise.all(started))]
  }

  /** Back to the pool: idle workers never keep the process alive (unref after the listeners, which ref the port). */
  give(workers: readonly Worker[]): void {
    for (const worker of workers) {
      if (!this.waiters.has(worker)) continue
      this.idle.push(worker)
      worker.unref()
    }
  }

  /** Post `message` and wait for the worker's reply of type `until`. */
  request(worker: Worker, message: unknown, until: WorkerReply['type']): Promise<WorkerReply> {
    const reply = this.expect(worker, until)
    worker.postMessage(message)
    return reply
  }

  /** The worker's next reply of type `type`; an error reply or the worker's exit rejects it. */
  expect(worker: Worker, type: WorkerReply['type']): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiters.get(worker)
      if (!waiters) reject(new Error('the training worker thread has exited'))
      else waiters.push({ type, resolve, reject })
    })
  }

  private async start(): Promise<Worker> {
    const { url, workerData } = workerEntry()
    const worker = new Worker(url, { workerData })
    this.waiters.set(worker, [])
    worker.on('message', (reply: WorkerReply) => {
      const waiters = this.waiters.get(worker) ?? []
      if (reply.type === 'error') {
        for (const w of waiters.splice(0)) w.reject(new Error(`training worker thread: ${reply.message}`))
        return
      }
      const i = waiters.findIndex((w) => w.type === reply.type)
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(reply)
    })
    const gone = (error: Error) => {
      const waiters = this.waiters.get(worker) ?? []
      this.waiters.delete(worker)
      const at = this.idle.indexOf(worker)
      if (at >= 0) this.idle.splice(at, 1)
      for (const w of waiters) w.reject(error)
    }
    worker.on('error', (error) => gone(error))
    worker.on('exit', (code) => gone(new Error(`the training worker thread exited with code ${code}`)))
    await new Promise<void>((resolve, reject) => {
      worker.once('online', resolve)
      worker.once('error', reject)
    })
    return worker
  }
}

let pool: WorkerPool | undefined

export function workerPool(): WorkerPool {
  pool ??= new WorkerPool()
  return pool
}
