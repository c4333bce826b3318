// mlskel's trees exported to ONNX, predicted by ONNX Runtime (onnxruntime-node, a dev dependency) through the onnx
// kind, against mlskel's own predictions: every contract-suite data set, both kinds, both input types, with rows on
// and next to every split's threshold, missing values and categories never seen; hand-built trees pin down the
// categorical encoding (chains of BRANCH_EQ, a split with nothing to test) and float32 rounding; two-class models and
// every kind of class label. With ONNX for Python (python3-onnx): the exports pass ONNX's own checker.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PYTHON, requireTool } from '../../../tests/require-tool.js'
import { mixed } from '../contract/test-contract.js'
import type { Dataset, ModelManifest, Predictor, Signature } from '../contract/types.js'
import { concatTrees, TreeRecorder } from '../engine/tree.js'
import { treesOf } from '../engine/test-trees.js'
import { categoryLayout, ensembleToJson } from '../kinds/common.js'
import { loadRandomForest } from '../kinds/random-forest.js'
import { loadSavedModel, readOnnxModel, readXgboostModel, saveModel, trainGradientBoosting, trainRandomForest } from '../index.js'
import { clusters, linear, split } from '../test-data.js'
import { EXPORT_NAMES, exportOnnx, float32AtOrBelow, METADATA_KEYS, type OnnxInputType } from './export.js'
import { decodeModel } from './proto.js'
import { exportSavedModel } from './save.js'
import { errorOf } from '../../errors/test-errors.js'

const run = promisify(execFile)

/** The next double above (or below) x. */
function nextDouble(x: number, up: boolean): number {
  const b = new Float64Array([x])
  const i = new BigInt64Array(b.buffer)
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE
  i[0] = i[0]! + ((x > 0) === up ? 1n : -1n)
  return b[0]!
}

/** The next float32 above (or below) a float32 x. */
function nextFloat32(x: number, up: boolean): number {
  const f = new Float32Array([x])
  const i = new Int32Array(f.buffer)
  if (x === 0) return up ? 2 ** -149 : -(2 ** -149)
  i[0] = i[0]! + ((x > 0) === up ? 1 : -1)
  return f[0]!
}

/**
 * Rows that sit on and next to the numeric thresholds of the model's splits (up to `max` splits), built from `base`
 * rows: for double input the threshold and its neighbouring doubles, for float input the float32 thresholds the
 * export writes and their neighbouring float32s (rows a float32 pipeline can send).
 */
function thresholdRows(model: Predictor, base: readonly number[][], inputType: OnnxInputType, max = 400): number[][] {
  const e = treesOf(model)
  const rows: number[][] = []
  for (let n = 0; n < e.feature.length && rows.length < max * 3; n++) {
    const f = e.feature[n]!
    if (f < 0 || e.flags[n]! & 2) continue
    const t = e.threshold[n]!
    const values = inputType === 'double' ? [t, nextDouble(t, true), nextDouble(t, false)] : [float32AtOrBelow(t), nextFloat32(float32AtOrBelow(t), true), nextFloat32(float32AtOrBelow(t), false)]
    for (const v of values) {
      const row = [...base[rows.length % base.length]!]
      row[f] = v
      rows.push(row)
    }
  }
  return rows
}

/** Rows with missing values: each feature in turn, and all of them. */
function missingRows(base: readonly number[][]): number[][] {
  const width = base[0]!.length
  const rows = base.slice(0, 20).flatMap((row) => Array.from({ length: width }, (_, f) => row.map((v, j) => (j === f ? Number.NaN : v))))
  rows.push(Array.from({ length: width }, () => Number.NaN))
  return rows
}

interface Comparison {
  /** Largest difference of a probability (classifiers) or a value (regressors). */
  maxDifference: number
  /** Labels that differ where the classes' probabilities are not tied within 1e-6. */
  labelsDiffer: number
  /** Labels that differ on such a tie. */
  nearTies: number
  rows: number
}

function compare(model: Predictor, onnx: Predictor, X: number[][]): Comparison {
  const ours = model.predict(X)
  const theirs = onnx.predict(X)
  expect(theirs).toHaveLength(X.length)
  if (model.predictProba) {
    const a = model.predictProba(X).flat()
    const b = onnx.predictProba!(X).flat()
    const K = a.length / X.length
    const classes = (model.signature.target as { classes: (string | number)[] }).classes
    // a label may differ only on a tie in float32 (ONNX Runtime's probabilities; with float input its sums too): where
    // the label ONNX Runtime gave has an mlskel probability within 1e-6 of the largest
    let nearTies = 0
    const labelsDiffer = ours.filter((label, i) => {
      if (label === theirs[i]) return false
      const row = a.slice(i * K, (i + 1) * K)
      if (Math.max(...row) - row[classes.indexOf(theirs[i]!)]! <= 1e-6) {
        nearTies++
        return false
      }
      return true
    }).length
    return { maxDifference: a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0), labelsDiffer, nearTies, rows: X.length }
  }
  const maxDifference = ours.reduce<number>((m, v, i) => Math.max(m, Math.abs(Number(v) - Number(theirs[i]))), 0)
  return { maxDifference, labelsDiffer: 0, nearTies: 0, rows: X.length }
}

const SETS = {
  clusters: () => clusters(40),
  linear: () => linear(200),
  mixed: () => mixed(),
} as const

const TRAINERS = {
  random_forest: (o: { task: 'classification' | 'regression'; signature: Signature; data: Dataset }) => trainRandomForest({ ...o, seed: 1, hyperParameters: { n_estimators: 60, n_jobs: 1 } }),
  gradient_boosting: (o: { task: 'classification' | 'regression'; signature: Signature; data: Dataset }) => trainGradientBoosting({ ...o, seed: 1, hyperParameters: { max_iter: 60, n_jobs: 1 } }),
} as const

describe('mlskel\'s trees exported to ONNX, predicted by ONNX Runtime', () => {
  for (const [setName, makeSet] of Object.entries(SETS)) {
    for (const [kind, train] of Object.entries(TRAINERS)) {
      for (const inputType of ['double', 'float'] as const) {
        it(`${kind} on ${setName}, ${inputType} input: ONNX Runtime's predictions are mlskel's, on held-out rows, rows at every threshold, missing values and unseen categories`, async () => {
          const set = makeSet()
          const s = split(set.data)
          const task = set.signature.target.type === 'category' ? 'classification' : 'regression'
          const model = await train({ task, signature: set.signature, data: s.train })
          const bytes = exportOnnx(model, { modelId: 'abcdef0123456789', inputType })
          const { predictor: onnx, signature, task: readTask } = readOnnxModel(bytes)
          expect(signature).toEqual(set.signature)
          expect(readTask).toBe(task)
          const X = [...s.test.X, ...thresholdRows(model, s.test.X, inputType), ...missingRows(s.test.X)]
          if (setName === 'mixed') for (const code of [3, 99, -1, 1.5, Number.NaN]) X.push(...s.test.X.slice(0, 10).map((row) => [...row.slice(0, 4), code]))
          const c = compare(model, onnx, X)
          expect(c.labelsDiffer).toBe(0)
          // double input: ONNX Runtime chooses the label from float64 sums, as mlskel does, ties included
          if (inputType === 'double') expect(c.nearTies).toBe(0)
          if (task === 'classification' || inputType === 'double') {
            expect(c.maxDifference).toBeLessThanOrEqual(1e-5)
          } else {
            // float input, a regression: ONNX Runtime sums the trees' leaves in float32, each sum rounded by up to
            // 2^-24 of its size, so the error grows with the trees and the target's scale (measured: 6e-7 × scale)
            const scale = Math.max(1, ...model.predict(X).map((v) => Math.abs(Number(v))))
            expect(c.maxDifference).toBeLessThanOrEqual(treesOf(model).trees * 2 ** -24 * scale)
          }
          // the same through predictBatch, on ONNX Runtime's threads
          const batch = await onnx.predictBatch!(X, { probabilities: true, threads: 2 })
          expect(batch.predictions).toEqual(onnx.predict(X))
        })
      }
    }
  }
})

describe('two classes, and every kind of class label', () => {
  // clusters 'a' and 'c', which overlap nowhere, and 'b' mixed in so that the models are not sure everywhere
  const two = clusters(60)
  const keep = two.data.y.map((y) => y !== 'c')
  const X = two.data.X.filter((_, i) => keep[i])
  const y = two.data.y.filter((_, i) => keep[i])
  for (const [name, classes] of [
    ['text', ['a', 'b']],
    ['whole numbers', [0, 1]],
    ['other numbers', [0.5, 1.5]],
    ['text and numbers', ['a', 2]],
  ] as const) {
    for (const [kind, train] of Object.entries(TRAINERS)) {
      it(`${kind}, classes ${name}: the same labels and probabilities (a two-class model follows ONNX Runtime's conventions)`, async () => {
        const relabel = new Map<string, string | number>([
          ['a', classes[0] as string | number],
          ['b', classes[1] as string | number],
        ])
        const signature: Signature = { features: two.signature.features, target: { name: 'label', type: 'category', classes: [...classes] } }
        const labels: (string | number)[] = y.map((label) => relabel.get(label as string)!)
        const data = split({ X, y: labels })
        const model = await train({ task: 'classification', signature, data: data.train })
        const bytes = exportOnnx(model, { modelId: 'abcdef0123456789' })
        const { predictor } = readOnnxModel(bytes)
        // rows between the clusters, where the two classes are close
        const between = data.test.X.map((row, i) => row.map((v, j) => v * (0.3 + (i % 5) * 0.1) + j * 0.01))
        const c = compare(model, predictor, [...data.test.X, ...between, ...missingRows(data.test.X)])
        expect(c.labelsDiffer).toBe(0)
        expect(c.maxDifference).toBeLessThanOrEqual(1e-5)
        const label = decodeModel(bytes).graph.outputs.find((o) => o.name === EXPORT_NAMES.label)!
        expect(label.type).toMatchObject({ elemType: name === 'text' ? 8 : 7 })
      })
    }
  }
})

// ---------------------------------------------------------------------------------------------------------------
// Hand-built trees

/** Leaf values that are powers of two: a row's sum over the trees says which leaf of each tree it reached. */
interface HandNode {
  leaf?: number
  f?: number
  t?: number
  left?: number[]
  missingLeft?: boolean
  l?: HandNode
  r?: HandNode
}

const handSignature: Signature = {
  features: [
    { name: 'x', type: 'number' },
    { name: 'colour', type: 'category', categories: ['red', 'green', 'blue', 'violet', 'grey'] },
  ],
  target: { name: 'y', type: 'number' },
}

/** A random_forest regressor of the given trees (its prediction is their mean), as a loaded model is. */
function handForest(trees: HandNode[], known = [0, 1, 2, 4]): Predictor {
  const layout = categoryLayout(handSignature)
  const knownBits = new Uint32Array(layout.words)
  for (const c of known) knownBits[layout.knownOffset[1]! + (c >>> 5)]! |= 1 << (c & 31)
  const flat = trees.map((root) => {
    const rec = new TreeRecorder(1)
    const build = (node: HandNode): number => {
      const id = rec.add()
      if (node.leaf !== undefined) {
        rec.setLeaf(id, [node.leaf])
        return id
      }
      const l = build(node.l!)
      const r = build(node.r!)
      if (node.left) {
        const bits = new Uint32Array(1)
        for (const c of node.left) bits[0]! |= 1 << c
        rec.setCategoricalSplit(id, node.f!, bits, node.missingLeft ?? false, l, r)
      } else {
        rec.setNumericSplit(id, node.f!, node.t!, node.missingLeft ?? false, l, r)
      }
      return id
    }
    build(root)
    return rec.toFlat()
  })
  const e = concatTrees(flat, { features: 2, outputs: 1, categories: layout.categories, known: knownBits, knownOffset: layout.knownOffset })
  const json = { signature: handSignature, task: 'regression', hyper_parameters: {}, seed: 0, trees: ensembleToJson(e), importances: [], warnings: [] }
  return loadRandomForest(json, { id: 'hand000000000000' } as ModelManifest)
}

const leaf = (v: number): HandNode => ({ leaf: v })

describe('the export of hand-built trees', () => {
  // tree 1: x <= 0.1 (not a float32), missing values left; tree 2: colour in {green, violet} left, missing right
  // (violet was never seen: only green goes left); tree 3: colour in {red, green, blue, grey} left, missing left (every
  // seen category goes the default way: no split); tree 4: colour in {red, blue} left, missing left (green and grey,
  // seen, go right: a chain of two)
  const trees: HandNode[] = [
    { f: 0, t: 0.1, missingLeft: true, l: leaf(1), r: leaf(2) },
    { f: 1, left: [1, 3], missingLeft: false, l: leaf(4), r: leaf(8) },
    { f: 1, left: [0, 1, 2, 4], missingLeft: true, l: leaf(16), r: leaf(32) },
    { f: 1, left: [0, 2], missingLeft: true, l: { f: 0, t: -1, l: leaf(64), r: leaf(128) }, r: leaf(256) },
  ]
  const model = handForest(trees)
  const xs = [Number.NaN, -Infinity, -1, 0, 0.1, nextDouble(0.1, true), nextDouble(0.1, false), Math.fround(0.1), float32AtOrBelow(0.1), 5, Infinity]
  const codes = [Number.NaN, 0, 1, 2, 3, 4, 5, -1, 1.5, 99]
  const grid = xs.flatMap((x) => codes.map((c) => [x, c]))

  it('writes a categorical split as a chain of BRANCH_EQ nodes sharing one subtree, and a split with nothing to test as its default subtree', () => {
    const node = decodeModel(exportOnnx(model, { modelId: 'hand000000000000' })).graph.nodes[0]!
    const a = node.attributes()
    const trees = a.get('nodes_treeids')!.ints!
    const modes = a.get('nodes_modes')!.strings!
    const values = a.get('nodes_values_as_tensor')
    expect(values).toBeDefined()
    const ofTree = (t: number) => modes.filter((_, i) => trees[i] === t)
    expect(ofTree(0)).toEqual(['BRANCH_LEQ', 'LEAF', 'LEAF'])
    // only green is tested: violet was never seen, and goes where missing values go
    expect(ofTree(1)).toEqual(['BRANCH_EQ', 'LEAF', 'LEAF'])
    expect(ofTree(2)).toEqual(['LEAF'])
    expect(ofTree(3)).toEqual(['BRANCH_EQ', 'BRANCH_EQ', 'BRANCH_LEQ', 'LEAF', 'LEAF', 'LEAF'])
    const at = trees.findIndex((t) => t === 3)
    const truth = a.get('nodes_truenodeids')!.ints!
    const falsy = a.get('nodes_falsenodeids')!.ints!
    // the chain tests green, then grey: both true to the right subtree (the leaf 256, laid out last), each false to
    // the next node, the last one's to the default (left) subtree
    expect(a.get('nodes_featureids')!.ints!.slice(at, at + 2)).toEqual([1, 1])
    expect(Array.from(a.get('nodes_values_as_tensor')!.floats ?? [])).toEqual([])
    expect([truth[at], truth[at + 1]]).toEqual([5, 5])
    expect([falsy[at], falsy[at + 1]]).toEqual([1, 2])
  })

  it('double input: ONNX Runtime routes every row as mlskel does, NaN, infinities, unseen and invalid codes included', () => {
    const { predictor } = readOnnxModel(exportOnnx(model, { modelId: 'hand000000000000' }))
    expect(predictor.predict(grid)).toEqual(model.predict(grid))
  })

  it('float input: every float32 row goes mlskel\'s way; a double between a threshold and the float32 above it does not', () => {
    const { predictor } = readOnnxModel(exportOnnx(model, { modelId: 'hand000000000000', inputType: 'float' }))
    const representable = grid.filter(([x]) => Number.isNaN(x!) || Math.fround(x!) === x)
    expect(representable.length).toBe(80)
    expect(predictor.predict(representable)).toEqual(model.predict(representable))
    // 0.1 <= 0.1 in mlskel; as a float32 it is 0.100000001…, above the float32 threshold 0.0999999940…
    expect(model.predict([[0.1, 0]])[0]).not.toBe(predictor.predict([[0.1, 0]])[0])
  })

  it('float32AtOrBelow gives the largest float32 at or below a double', () => {
    for (const x of [0.1, -0.1, 1 / 3, -1 / 3, 1e-40, -1e-40, 1e-46, -1e-46, 3.4e38, -3.4e38, 0, 1, 2 ** 30 + 1]) {
      const f = float32AtOrBelow(x)
      expect(Math.fround(f)).toBe(f)
      expect(f).toBeLessThanOrEqual(x)
      expect(nextFloat32(f, true)).toBeGreaterThan(x)
    }
  })
})

describe('what the export writes, and what it refuses', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlskel-onnx-export-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('puts the model id, kind, signature and input type in the model\'s metadata, and names the producer mlskel', async () => {
    const m = mixed()
    const model = await trainGradientBoosting({ task: 'classification', signature: m.signature, data: m.data, seed: 1, hyperParameters: { max_iter: 5 } })
    const info = decodeModel(exportOnnx(model, { modelId: '0123456789abcdef', inputType: 'float' }))
    expect(info.producerName).toBe('mlskel')
    expect(info.metadata.get(METADATA_KEYS.modelId)).toBe('0123456789abcdef')
    expect(info.metadata.get(METADATA_KEYS.kind)).toBe('gradient_boosting')
    expect(JSON.parse(info.metadata.get(METADATA_KEYS.signature)!)).toEqual(m.signature)
    expect(info.metadata.get(METADATA_KEYS.inputType)).toBe('float')
    expect(info.graph.inputs).toEqual([{ name: EXPORT_NAMES.input, type: { kind: 'tensor', elemType: 1, shape: ['N', 5] } }])
    expect(info.graph.nodes.map((n) => `${n.domain}.${n.opType}`)).toEqual(['ai.onnx.ml.TreeEnsembleClassifier'])
  })

  it('exports a saved model by id prefix into its folder (or --out), atomically, and refuses a kind it did not train', async () => {
    const l = linear(100)
    const model = await trainRandomForest({ task: 'regression', signature: l.signature, data: l.data, seed: 1, hyperParameters: { n_estimators: 5 } })
    const models = join(dir, 'models')
    const saved = await saveModel(models, model, { description: 'rf', inputExample: [] })
    const result = await exportSavedModel({ modelsDir: models, id: saved.id.slice(0, 6) })
    expect(result).toMatchObject({ id: saved.id, kind: 'random_forest', format: 'onnx', inputType: 'double', path: join(saved.dir, 'model.onnx') })
    const bytes = await readFile(result.path)
    expect(bytes.length).toBe(result.bytes)
    expect(decodeModel(bytes).metadata.get(METADATA_KEYS.modelId)).toBe(saved.id)
    // the model folder still loads, its hash untouched
    await expect(loadSavedModel(models, saved.id)).resolves.toMatchObject({ manifest: { id: saved.id } })
    const out = join(dir, 'elsewhere', 'm.onnx')
    await exportSavedModel({ modelsDir: models, id: saved.id, out, inputType: 'float' })
    expect((await stat(out)).size).toBeGreaterThan(0)

    const xgb = readXgboostModel({
      learner: {
        attributes: {},
        feature_names: [],
        feature_types: [],
        gradient_booster: { model: { gbtree_model_param: { num_parallel_tree: '1', num_trees: '1' }, tree_info: [0], trees: [{ tree_param: { num_nodes: '1' }, left_children: [-1], right_children: [-1], split_indices: [0], split_conditions: [0.5], default_left: [0] }] }, name: 'gbtree' },
        learner_model_param: { base_score: '5E-1', num_class: '0', num_feature: '1', num_target: '1' },
        objective: { name: 'reg:squarederror' },
      },
      version: [1, 7, 4],
    }).predictor
    const refused = errorOf(() => exportOnnx(xgb, { modelId: 'x' }))
    expect(refused.code).toBe('MLSKEL_ONNX_EXPORT_UNSUPPORTED')
    expect(refused.message).toContain('"xgboost"')
  })

  const python = requireTool('onnx')
  it.skipIf(python.skip)('passes ONNX\'s own checker (onnx.checker.check_model with full_check), for every kind, task and input type', async () => {
    python.assert()
    const c = clusters(20)
    const l = linear(100)
    const files: string[] = []
    for (const [kind, train] of Object.entries(TRAINERS)) {
      for (const [task, set] of [
        ['classification', c],
        ['regression', l],
      ] as const) {
        const model = await train({ task, signature: set.signature, data: set.data })
        for (const inputType of ['double', 'float'] as const) {
          const file = join(dir, `${kind}-${task}-${inputType}.onnx`)
          await writeFile(file, exportOnnx(model, { modelId: '0123456789abcdef', inputType }))
          files.push(file)
        }
      }
    }
    const script = 'import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok", len(sys.argv) - 1)'
    const { stdout } = await run(PYTHON, ['-c', script, ...files])
    expect(stdout.trim()).toBe(`ok ${files.length}`)
  })
})
