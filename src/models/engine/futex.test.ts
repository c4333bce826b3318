import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { waitForChange } from './futex.js'

/**
 * A thread that wakes the waiters of word 0 without changing it (as a notify that comes late, for a change the waiter
 * saw already, does) as soon as one waits, notes that in word 1, then changes word 0 to 7 a little later.
 */
const WAKER = `
const { workerData } = require('node:worker_threads')
const words = new Int32Array(workerData)
const nap = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
while (Atomics.notify(words, 0) === 0) nap(1)
Atomics.store(words, 1, 1)
nap(20)
Atomics.store(words, 0, 7)
Atomics.notify(words, 0)
`

describe('waitForChange', () => {
  it('returns only once the word has changed, not on a wake that changed nothing', async () => {
    const buffer = new SharedArrayBuffer(8)
    const words = new Int32Array(buffer)
    const waker = new Worker(WAKER, { eval: true, workerData: buffer })
    try {
      expect(waitForChange(words, 0, 0)).toBe(7)
      // the empty wake came while this thread waited
      expect(Atomics.load(words, 1)).toBe(1)
    } finally {
      await waker.terminate()
    }
  })

  it('returns at once when the word differs already, spinning or not', () => {
    const words = new Int32Array(new SharedArrayBuffer(4))
    words[0] = 3
    expect(waitForChange(words, 0, 0)).toBe(3)
    expect(waitForChange(words, 0, 0, 1000)).toBe(3)
  })
})
