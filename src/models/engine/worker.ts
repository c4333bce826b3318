// Entry of the engine's worker threads (pool.ts starts them): each message is a job, answered by messages and, for
// boosting, by lock-step work over shared memory until the job says it is over.
import { parentPort } from 'node:worker_threads'
import { binJob, type BinJob } from './bin-team.js'
import { forestWorker, type ForestWorkerSetup } from './forest.js'
import { serveBoostingShard, type BoostingShardSetup } from './gradient-team.js'
import type { WorkerReply } from './pool.js'
import { predictRange, type PredictJob } from './predict-team.js'
import { xgboostRows, type XgboostRowsJob } from './xgboost-trees.js'

type Job =
  | { type: 'boosting-shard'; setup: BoostingShardSetup }
  | { type: 'forest-setup'; setup: ForestWorkerSetup }
  | { type: 'forest-tree'; index: number }
  | { type: 'predict-rows'; job: PredictJob }
  | { type: 'bin-features'; job: BinJob }
  | { type: 'xgboost-rows'; job: XgboostRowsJob }

const port = parentPort
if (!port) throw new Error('worker.ts runs as a worker thread of the training engine')
const reply = (message: WorkerReply, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer)
const forest = forestWorker()

port.on('message', (job: Job) => {
  try {
    switch (job.type) {
      case 'boosting-shard':
        serveBoostingShard(job.setup, reply)
        break
      case 'forest-setup':
        forest.setup(job.setup)
        reply({ type: 'ready' })
        break
      case 'forest-tree': {
        const { tree, transfer } = forest.grow(job.index)
        reply({ type: 'tree', index: job.index, tree }, transfer)
        break
      }
      case 'bin-features':
        reply({ type: 'binned', features: binJob(job.job) })
        break
      case 'predict-rows':
        predictRange(job.job)
        reply({ type: 'predicted' })
        break
      case 'xgboost-rows':
        xgboostRows(job.job)
        reply({ type: 'predicted' })
        break
      default:
        reply({ type: 'error', message: `unknown job ${JSON.stringify((job as { type?: unknown }).type)}` })
    }
  } catch (error) {
    reply({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  }
})
