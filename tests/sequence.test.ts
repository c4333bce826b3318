import { describe, expect, it } from 'vitest'
import { apartFromSharedMaker } from './sequence.js'

// s: uses the shared project; e: an end-to-end file that does not; u: a unit file
const order = (names: string[]) => apartFromSharedMaker(names, (n) => n.startsWith('s'), (n) => n.startsWith('e'))

describe('the order test files start in', () => {
  it('starts an independent end-to-end file between the first two that wait for the shared project', () => {
    // a clean clone's order (no durations of an earlier run): the listing's
    expect(order(['u1', 's-imports', 's-image', 's-project', 'e-crash', 's-datasets', 'e-orphaned', 'u2'])).toEqual(['u1', 's-imports', 'e-crash', 's-image', 's-project', 's-datasets', 'e-orphaned', 'u2'])
  })

  it('keeps an order that already has one there, or has nothing to move', () => {
    const warm = ['s-project', 'e-crash', 's-image', 's-datasets', 'u1']
    expect(order(warm)).toEqual(warm)
    expect(order(['s-project', 'u1', 's-image', 'u2'])).toEqual(['s-project', 'u1', 's-image', 'u2'])
    expect(order(['e-crash', 's-project', 'u1'])).toEqual(['e-crash', 's-project', 'u1'])
  })

  it('does not count a unit file as filling the wait', () => {
    expect(order(['s-a', 'u1', 's-b', 'e-c'])).toEqual(['s-a', 'u1', 'e-c', 's-b'])
  })
})
