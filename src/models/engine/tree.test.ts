// Trees: grown in any order, laid out in preorder; prediction from raw values with missing values and categories
// never seen in training taking the default direction.
import { describe, expect, it } from 'vitest'
import { addFlatLeafValues, addLeafValues, concatTrees, leafOf, TreeRecorder } from './tree.js'

/** root: x0 <= 1.5 ? (x1 in {0, 2} ? A : B) : C, grown right child first; leaves 1, 2, 3 (times `scale`, `outputs` values each). */
function tree(outputs = 1, scale = 1) {
  const t = new TreeRecorder(outputs)
  const leaf = (value: number) => Array.from({ length: outputs }, (_, k) => value * scale + k / 7)
  const root = t.add()
  const right = t.add()
  const left = t.add()
  t.setLeaf(right, leaf(3))
  t.setNumericSplit(root, 0, 1.5, true, left, right)
  const a = t.add()
  const b = t.add()
  t.setCategoricalSplit(left, 1, Uint32Array.of(0b101), false, a, b)
  t.setLeaf(a, leaf(1))
  t.setLeaf(b, leaf(2))
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

describe('addLeafValues', () => {
  const categorical = { features: 2, categories: Int32Array.of(0, 3), known: Uint32Array.of(0b011), knownOffset: Int32Array.of(-1, 0) }
  // more rows than one block (65,536 rows of 2 features), picked out of a larger table as a cross-validation fold is,
  // with missing values, unseen categories and a short row among them
  const table = Array.from({ length: 150_000 }, (_, i) => [((i * 7919) % 400) / 100 - 0.5, (i * 31) % 5])
  const X: number[][] = table.filter((_, i) => i % 2 === 1)
  X[3] = [Number.NaN, 0]
  X[70_000] = [0, Number.NaN]
  X[70_001] = [0.5]

  it('adds every tree\'s leaf to every row, block after block, to the bit as leafOf does row by row', () => {
    // boosting: a value per leaf, tree t adds to output t % 2; a forest: a leaf of 2 values adds both
    for (const [e, width] of [
      [concatTrees([tree(1, 1), tree(1, 10), tree(1, 0.1)], { ...categorical, outputs: 1 }), 2],
      [concatTrees([tree(2, 1), tree(2, 0.3)], { ...categorical, outputs: 2 }), 2],
    ] as const) {
      const out = new Float64Array(X.length * width).fill(0.25)
      addLeafValues(e, X, out, width)
      const expected = new Float64Array(X.length * width).fill(0.25)
      X.forEach((row, r) => {
        for (let t = 0; t < e.trees; t++) {
          const leaf = leafOf(e, t, row)
          if (e.outputs === width) for (let k = 0; k < width; k++) expected[r * width + k]! += e.values[leaf * width + k]!
          else expected[r * width + (t % width)]! += e.values[leaf]!
        }
      })
      expect(out).toEqual(expected)

      // the same rows side by side in one array
      const flat = new Float64Array(X.length * 2)
      X.forEach((row, r) => flat.set([row[0]!, row[1] ?? Number.NaN], r * 2))
      const fromFlat = new Float64Array(X.length * width).fill(0.25)
      addFlatLeafValues(e, flat, fromFlat, width)
      expect(fromFlat).toEqual(expected)
    }
  })
})
