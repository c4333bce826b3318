// Trees: grown in any order, laid out in preorder; prediction from raw values with missing values and categories
// never seen in training taking the default direction.
import { describe, expect, it } from 'vitest'
import { concatTrees, leafOf, TreeRecorder } from './tree.js'

/** root: x0 <= 1.5 ? (x1 in {0, 2} ? A : B) : C, grown right child first. */
function tree() {
  const t = new TreeRecorder(1)
  const root = t.add()
  const right = t.add()
  const left = t.add()
  t.setLeaf(right, [3])
  t.setNumericSplit(root, 0, 1.5, true, left, right)
  const a = t.add()
  const b = t.add()
  t.setCategoricalSplit(left, 1, Uint32Array.of(0b101), false, a, b)
  t.setLeaf(a, [1])
  t.setLeaf(b, [2])
  return t.toFlat()
}

describe('TreeRecorder.toFlat', () => {
  it('lays nodes out in preorder: the left child next, the right one after the left subtree; leaves point at their values', () => {
    const flat = tree()
    expect(Array.from(flat.feature)).toEqual([0, 1, -1, -1, -1])
    expect(flat.right[0]).toBe(4)
    expect(flat.right[1]).toBe(3)
    expect(Array.from(flat.values)).toEqual([1, 2, 3])
    expect([flat.right[2], flat.right[3], flat.right[4]]).toEqual([0, 1, 2])
  })

  it('refuses a leaf without values and nodes its root cannot reach', () => {
    const t = new TreeRecorder(1)
    t.add()
    expect(() => t.toFlat()).toThrow(/without values/)
    const u = new TreeRecorder(1)
    u.setLeaf(u.add(), [0])
    u.setLeaf(u.add(), [0])
    expect(() => u.toFlat()).toThrow(/not reachable/)
  })
})

describe('leafOf', () => {
  const e = concatTrees([tree(), tree()], { features: 2, outputs: 1, categories: Int32Array.of(0, 3), known: Uint32Array.of(0b011), knownOffset: Int32Array.of(-1, 0) })
  const value = (row: number[], t = 1) => e.values[leafOf(e, t, row)]

  it('follows thresholds (a value equal to one goes left) and category sets, in every tree of the ensemble', () => {
    expect(value([1.5, 0])).toBe(1)
    expect(value([1.5000001, 0])).toBe(3)
    expect(value([0, 1])).toBe(2)
    expect(value([0, 0], 0)).toBe(1)
    expect(e.roots[1]).toBe(5)
  })

  it('sends a missing value the node\'s default way, and a category never seen in training the same way', () => {
    expect(value([Number.NaN, 0])).toBe(1) // missing goes left at the root
    expect(value([0, Number.NaN])).toBe(2) // and right at the categorical split
    // category 2 is in the split's left set but was never seen in training (known = {0, 1}): the default way
    expect(value([0, 2])).toBe(2)
    for (const unseen of [3, -1, 0.5, Infinity]) expect(value([0, unseen])).toBe(2)
  })
})
