// The worker entry when the engine runs from its TypeScript sources (mlskel's own tests and scripts): Node cannot
// load worker.ts itself, and a worker does not inherit the --import of tsx, so it registers tsx and then loads it.
// Never used from dist/, where worker.js is the entry.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
