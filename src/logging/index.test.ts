import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { logFormatFor, textStream } from './index.js'

describe('logs', () => {
  it('writes a readable line for people: name, level, message and the other fields', () => {
    const lines: string[] = []
    const log = pino({ name: 'generate-dataset', base: { name: 'generate-dataset' } }, textStream({ write: (t) => lines.push(t) }))
    log.warn({ file: 'data/raw/x.csv', raw: 154, counts: { a: 1 } }, 'dropped 3 of 154 rows')
    expect(lines).toEqual(['generate-dataset warn: dropped 3 of 154 rows (file=data/raw/x.csv raw=154 counts={"a":1})\n'])
  })

  it('is text on a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    expect(logFormatFor(undefined, true)).toBe('text')
    expect(logFormatFor(undefined, false)).toBe('json')
    expect(logFormatFor('json', true)).toBe('json')
    expect(logFormatFor('text', false)).toBe('text')
  })
})
