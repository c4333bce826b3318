// Progress lines: quiet for short trainings; for long ones a line per tenth of the work (or per 10 s), the elapsed
// time and an estimate of what is left, and a last line when done.
import { describe, expect, it } from 'vitest'
import { progressLine, trainingProgress } from './progress.js'

describe('trainingProgress', () => {
  it('says nothing about a training that ends within 2 s', () => {
    const lines: string[] = []
    const report = trainingProgress({ write: (line) => lines.push(line) })
    for (let done = 1; done <= 100; done++) report({ done, total: 100, unit: 'iterations', elapsedMs: done * 15 })
    expect(lines).toEqual([])
  })

  it('prints a line per tenth of a long training, with elapsed time and what is left, then the last one', () => {
    const lines: string[] = []
    const report = trainingProgress({ write: (line) => lines.push(line), prefix: 'train: ' })
    for (let done = 1; done <= 100; done++) report({ done, total: 100, unit: 'iterations', elapsedMs: done * 100 }, 'fold 2/5')
    expect(lines[0]).toBe('train: fold 2/5: 20/100 iterations, 2.0 s, about 8.0 s left')
    expect(lines).toHaveLength(9) // 20%, 30%, … 100%
    expect(lines.at(-1)).toBe('train: fold 2/5: 100/100 iterations in 10.0 s')
  })

  it('prints at least every 10 s when a tenth takes longer, and starts afresh for a new label', () => {
    const lines: string[] = []
    const report = trainingProgress({ write: (line) => lines.push(line) })
    for (let done = 1; done <= 1000; done++) report({ done, total: 1000, unit: 'trees', elapsedMs: done * 1000 }, 'final fit')
    // 100 s per tenth: a line every 10 s, about 100 in all
    expect(lines.length).toBeGreaterThan(90)
    lines.length = 0
    report({ done: 1, total: 10, unit: 'trees', elapsedMs: 10 }, 'again')
    expect(lines).toEqual([])
  })
})

describe('progressLine', () => {
  it('writes minutes for long times', () => {
    expect(progressLine({ done: 1, total: 4, unit: 'trees', elapsedMs: 90_000 })).toBe('1/4 trees, 1 min 30 s, about 4 min 30 s left')
  })
})
