import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { waitForChange } from './futex.js'

/**
 * waitForChange(word 0 of `buffer`, from 0, spinning `spin` loads) on a thread of its own, so that a wait that never
 * ends fails the test by its timeout rather than blocking the test's thread. The thread runs this module's function,
 * as compiled here.
 */
function waitOnAThread(buffer: SharedArrayBuffer, spin = 0): { worker: Worker; result: Promise<number> } {
  const code = `
const { parentPort, workerData } = require('node:worker_threads')
const waitForChange = ${waitForChange.toString()}
parentPort.postMessage(waitForChange(new Int32Array(workerData.buffer), 0, 0, workerData.spin))
`
  const worker = new Worker(code, { eval: true, workerData: { buffer, spin } })
  const result = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  return { worker, result }
}

describe('waitForChange', () => {
  it('returns only once the word has changed, not on a wake that changed nothing (a notify come late)', async () => {
    const buffer = new SharedArrayBuffer(4)
    const words = new Int32Array(buffer)
    const { worker, result } = waitOnAThread(buffer)
    try {
      // wake the waiter without changing the word, as soon as it waits
      while (Atomics.notify(words, 0) === 0) await sleep(1)
      let returned: number | undefined
      void result.then((value) => (returned = value))
      await sleep(50)
      expect(returned).toBeUndefined()
      Atomics.store(words, 0, 7)
      Atomics.notify(words, 0)
      expect(await result).toBe(7)
    } finally {
      await worker.terminate()
    }
  })

  it('returns at once when the word differs already, spinning or not', async () => {
    const buffer = new SharedArrayBuffer(4)
    new Int32Array(buffer)[0] = 3
    for (const spin of [0, 1000]) {
      const { worker, result } = waitOnAThread(buffer, spin)
      try {
        expect(await result).toBe(3)
      } finally {
        await worker.terminate()
      }
    }
  })
})
