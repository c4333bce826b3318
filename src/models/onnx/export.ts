// mlskel's own tree ensembles (random_forest, gradient_boosting) as ONNX graphs of one ai.onnx.ml operator:
// TreeEnsembleClassifier (label and probabilities) or TreeEnsembleRegressor (ai.onnx.ml opset 3). The graph takes
// the model's features as one tensor [N, F] in the signature's order (a category as its code, a missing value as
// NaN) and predicts what mlskel predicts: docs/models-from-elsewhere.md ("Exporting to ONNX") gives the encoding.
//
// How mlskel's trees map onto the operator's node arrays:
// - A numeric split (a value <= threshold goes left) is a BRANCH_LEQ node whose true branch is the left child, and
//   nodes_missing_value_tracks_true says where a missing value (NaN) goes.
// - A categorical split sends the categories of its left set (and seen in training) left, the other categories seen
//   in training right, and anything else (missing, never seen, not a code) its default way. It becomes a chain of
//   BRANCH_EQ nodes, one per category that does not go the default way: each chain node's true branch is the
//   subtree those categories reach (one subtree, shared by the chain, not copied: ONNX Runtime takes this form,
//   which is how LightGBM's converter writes set membership), its false branch the next chain node, and the last
//   one's false branch the default subtree. Missing values are false at every BRANCH_EQ, and so go the default way.
//   A split whose every seen category goes the default way is no split: the default subtree takes its place.
// - float input: a threshold is written as the largest float32 at or below mlskel's float64 threshold. For a float32
//   value x, x <= that float32 exactly when x <= the float64 threshold, so rows given as float32 go the way mlskel
//   sends them. double input: thresholds, leaf values and sums are float64 in ONNX Runtime (the operator's
//   *_as_tensor attributes), as in mlskel; only the outputs are float32, as the operator defines them.
import { z } from 'zod'
import { MlskelError, quote } from '../../errors/index.js'
import { mlskelVersion } from '../../package/index.js'
import type { Task } from '../../params/index.js'
import { signatureSchema } from '../contract/signature.js'
import type { ModelManifest, Predictor, Signature } from '../contract/types.js'
import { CATEGORICAL, inBitset, MISSING_LEFT, type TreeEnsemble } from '../engine/tree.js'
import { ensembleFromJson, ensembleJsonSchema } from '../kinds/common.js'
import { encodeModel, ELEM, type AttributeSpec, type ModelSpec, type ValueInfoSpec } from './proto.js'

/** The kinds an export takes. */
export const ONNX_EXPORTABLE_KINDS = ['random_forest', 'gradient_boosting'] as const

/** Names in an exported graph: its input, outputs, and the metadata keys mlskel writes (and reads back on import). */
export const EXPORT_NAMES = { input: 'features', label: 'label', probabilities: 'probabilities', prediction: 'prediction' } as const
export const METADATA_KEYS = { modelId: 'mlskel.model_id', kind: 'mlskel.kind', signature: 'mlskel.signature', inputType: 'mlskel.input_type' } as const

export type OnnxInputType = 'double' | 'float'

export interface ExportOnnxOptions {
  /** The model's id, written into the graph's metadata (mlskel.model_id). */
  modelId: string
  /** Element type of the input tensor (default double: mlskel's own arithmetic; float for runtimes without it). */
  inputType?: OnnxInputType
}

const forestJson = z.object({ signature: signatureSchema, task: z.enum(['classification', 'regression']), trees: ensembleJsonSchema })
const boostingJson = forestJson.extend({ baseline: z.array(z.number()).min(1), trees_per_iteration: z.int().min(1) })

/** The largest float32 at or below x (x itself when it is a float32). */
export function float32AtOrBelow(x: number): number {
  const f = Math.fround(x)
  if (f <= x || Number.isNaN(f)) return f
  // one float32 step down: through the bits, as float32 has no nextafter in JavaScript
  const bits = new Float32Array([f])
  const int = new Int32Array(bits.buffer)
  if (f > 0) int[0]!--
  else if (f === 0) int[0] = 0x80000001 | 0 // the smallest negative subnormal, below +0 and -0
  else int[0]!++
  return bits[0]!
}

/** Node arrays of the operator, filled tree by tree. */
class NodeArrays {
  treeIds: number[] = []
  nodeIds: number[] = []
  featureIds: number[] = []
  modes: string[] = []
  values: number[] = []
  trueIds: number[] = []
  falseIds: number[] = []
  missingTrue: number[] = []
  // leaves' weights
  weightTree: number[] = []
  weightNode: number[] = []
  weightTarget: number[] = []
  weights: number[] = []

  /** A node of tree `tree` whose fields are filled later (its branches are known only once its subtrees are laid out). */
  add(tree: number, id: number): number {
    this.treeIds.push(tree)
    this.nodeIds.push(id)
    this.featureIds.push(0)
    this.modes.push('LEAF')
    this.values.push(0)
    this.trueIds.push(0)
    this.falseIds.push(0)
    this.missingTrue.push(0)
    return this.treeIds.length - 1
  }

  weight(tree: number, id: number, target: number, value: number): void {
    this.weightTree.push(tree)
    this.weightNode.push(id)
    this.weightTarget.push(target)
    this.weights.push(value)
  }
}

/** How a leaf's values become the operator's weights: (tree, leaf row) → [target or class, weight][]. */
type LeafWeights = (tree: number, leaf: number) => [number, number][]

/**
 * Lay out the trees of `e` in `out`. Node ids restart at 0 in each tree, and a tree's first node is its root (ONNX
 * Runtime takes the first node of each tree id as its root, and wants a node's false branch laid out right after
 * it, which a preorder with the false branch first gives).
 */
function layOutTrees(e: TreeEnsemble, out: NodeArrays, leafWeights: LeafWeights, thresholdOf: (t: number) => number): void {
  for (let t = 0; t < e.trees; t++) {
    let nextId = 0
    // preorder from the root: a node id is given when the node is laid out; `entry` returns the id of the first
    // ONNX node of mlskel node n (a split that is no split is its default subtree's)
    const entry = (n: number): number => {
      const f = e.feature[n]!
      if (f < 0) {
        const id = nextId++
        out.add(t, id)
        for (const [target, w] of leafWeights(t, e.right[n]!)) out.weight(t, id, target, w)
        return id
      }
      const flags = e.flags[n]!
      const left = n + 1
      const right = e.right[n]!
      const missingLeft = (flags & MISSING_LEFT) !== 0
      if (!(flags & CATEGORICAL)) {
        // BRANCH_LEQ: true (x <= threshold) is left. False first, so that it is laid out right after this node.
        const id = nextId++
        const at = out.add(t, id)
        out.featureIds[at] = f
        out.modes[at] = 'BRANCH_LEQ'
        out.values[at] = thresholdOf(e.threshold[n]!)
        out.missingTrue[at] = missingLeft ? 1 : 0
        out.falseIds[at] = entry(right)
        out.trueIds[at] = entry(left)
        return id
      }
      // the categories seen in training that do not go the default way
      const k = e.categories[f]!
      const codes: number[] = []
      for (let c = 0; c < k; c++) {
        if (!inBitset(e.known, e.knownOffset[f]!, c)) continue
        const goesLeft = inBitset(e.bitsets, e.threshold[n]!, c)
        if (goesLeft !== missingLeft) codes.push(c)
      }
      const [taken, fallback] = missingLeft ? [right, left] : [left, right]
      if (codes.length === 0) return entry(fallback)
      // the chain: node i's false branch is node i + 1 (laid out next), the last one's the default subtree; every
      // true branch is the one subtree of `taken`, laid out once, after the whole chain's false side
      const ids: number[] = []
      const ats: number[] = []
      for (const c of codes) {
        const id = nextId++
        const at = out.add(t, id)
        out.featureIds[at] = f
        out.modes[at] = 'BRANCH_EQ'
        out.values[at] = c
        ids.push(id)
        ats.push(at)
        if (ids.length > 1) out.falseIds[ats[ats.length - 2]!] = id
      }
      out.falseIds[ats[ats.length - 1]!] = entry(fallback)
      const takenId = entry(taken)
      for (const at of ats) out.trueIds[at] = takenId
      return ids[0]!
    }
    entry(e.roots[t]!)
  }
}

/** The classes as the operator's labels: themselves when all are text or all whole numbers, else their indexes. */
function classLabels(classes: readonly (string | number)[]): { attribute: AttributeSpec; elemType: number } {
  if (classes.every((c) => typeof c === 'string')) return { attribute: { name: 'classlabels_strings', type: 'strings', value: classes as string[] }, elemType: ELEM.STRING }
  if (classes.every((c) => typeof c === 'number' && Number.isSafeInteger(c))) return { attribute: { name: 'classlabels_int64s', type: 'ints', value: classes as number[] }, elemType: ELEM.INT64 }
  return { attribute: { name: 'classlabels_int64s', type: 'ints', value: classes.map((_, i) => i) }, elemType: ELEM.INT64 }
}

/** A float attribute, or its float64 *_as_tensor twin for double input. */
function numbers(name: string, values: readonly number[], double: boolean): AttributeSpec {
  return double ? { name: `${name}_as_tensor`, type: 'tensor', value: { dims: [values.length], dataType: ELEM.DOUBLE, values } } : { name, type: 'floats', value: values }
}

/**
 * An mlskel `random_forest` or `gradient_boosting` model as the bytes of an ONNX model (ModelProto, IR version 8,
 * ai.onnx.ml opset 3), its id, kind and signature in the model's metadata_props. Any other kind is refused with
 * MLSKEL_ONNX_EXPORT_UNSUPPORTED.
 */
export function exportOnnx(predictor: Predictor, o: ExportOnnxOptions): Uint8Array {
  const kind = predictor.kind
  if (!(ONNX_EXPORTABLE_KINDS as readonly string[]).includes(kind)) {
    throw new MlskelError('MLSKEL_ONNX_EXPORT_UNSUPPORTED', `model ${o.modelId} is of kind ${quote(kind)}; mlskel exports to ONNX only the kinds it trains (${ONNX_EXPORTABLE_KINDS.join(', ')})`, { where: { field: 'kind' } })
  }
  const double = (o.inputType ?? 'double') === 'double'
  const json = predictor.toJSON()
  const parsed = (kind === 'gradient_boosting' ? boostingJson : forestJson).safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${o.modelId}: not a ${kind} model (${issue.path.join('.') || 'top level'}: ${issue.message})`, { where: { file: 'model.json', field: issue.path.join('.') } })
  }
  const data = parsed.data as z.output<typeof boostingJson> & z.output<typeof forestJson>
  const signature: Signature = data.signature
  const task: Task = data.task
  const e = ensembleFromJson(data.trees, signature, { id: o.modelId } as ModelManifest)
  const F = signature.features.length
  const classes = task === 'classification' && signature.target.type === 'category' ? signature.target.classes : null
  const thresholdOf = double ? (t: number) => t : float32AtOrBelow
  const out = new NodeArrays()
  const attributes: AttributeSpec[] = []
  const elemIn = double ? ELEM.DOUBLE : ELEM.FLOAT
  let outputs: ValueInfoSpec[]
  let opType: 'TreeEnsembleClassifier' | 'TreeEnsembleRegressor'
  let nodeOutputs: string[]

  if (kind === 'random_forest') {
    const T = e.trees
    const K = e.outputs
    if (classes && K === 2) {
      // Two classes: the second class's probability alone, as weights of class id 0, all ≥ 0 — the form scikit-learn's
      // converter writes and ONNX Runtime reads as probabilities [1 − p, p] and the label p > 0.5. (With weights for
      // both classes it labels the second class whenever its score is above 0; with weights for class id 1 alone it
      // gives [0, p].)
      layOutTrees(e, out, (_, leaf) => [[0, e.values[leaf * 2 + 1]! / T]], thresholdOf)
    } else if (classes) {
      layOutTrees(e, out, (_, leaf) => Array.from({ length: K }, (_, k) => [k, e.values[leaf * K + k]! / T] as [number, number]), thresholdOf)
    } else {
      layOutTrees(e, out, (_, leaf) => [[0, e.values[leaf]!]], thresholdOf)
      attributes.push({ name: 'aggregate_function', type: 'string', value: 'AVERAGE' })
    }
    attributes.push({ name: 'post_transform', type: 'string', value: 'NONE' })
  } else {
    const K = data.trees_per_iteration
    const baseline = data.baseline
    if (classes && K === 1) {
      // Two classes from one margin m: scores [−m/2, m/2], whose softmax is [1 − sigmoid(m), sigmoid(m)] and whose
      // larger is the second class exactly when m > 0, as mlskel decides. The baseline is added to the first tree's
      // leaves: ONNX Runtime reads two base values of a two-class model in a way of its own.
      layOutTrees(e, out, (t, leaf) => {
        const m = e.values[leaf]! + (t === 0 ? baseline[0]! : 0)
        return [
          [0, -m / 2],
          [1, m / 2],
        ]
      }, thresholdOf)
      attributes.push({ name: 'post_transform', type: 'string', value: 'SOFTMAX' })
    } else if (classes) {
      layOutTrees(e, out, (t, leaf) => [[t % K, e.values[leaf]!]], thresholdOf)
      attributes.push({ name: 'post_transform', type: 'string', value: 'SOFTMAX' }, numbers('base_values', baseline, double))
    } else {
      layOutTrees(e, out, (_, leaf) => [[0, e.values[leaf]!]], thresholdOf)
      attributes.push({ name: 'aggregate_function', type: 'string', value: 'SUM' }, { name: 'post_transform', type: 'string', value: 'NONE' }, numbers('base_values', baseline, double))
    }
  }

  attributes.push(
    { name: 'nodes_treeids', type: 'ints', value: out.treeIds },
    { name: 'nodes_nodeids', type: 'ints', value: out.nodeIds },
    { name: 'nodes_featureids', type: 'ints', value: out.featureIds },
    { name: 'nodes_modes', type: 'strings', value: out.modes },
    numbers('nodes_values', out.values, double),
    { name: 'nodes_truenodeids', type: 'ints', value: out.trueIds },
    { name: 'nodes_falsenodeids', type: 'ints', value: out.falseIds },
    { name: 'nodes_missing_value_tracks_true', type: 'ints', value: out.missingTrue },
  )
  if (classes) {
    opType = 'TreeEnsembleClassifier'
    const labels = classLabels(classes)
    attributes.push(
      labels.attribute,
      { name: 'class_treeids', type: 'ints', value: out.weightTree },
      { name: 'class_nodeids', type: 'ints', value: out.weightNode },
      { name: 'class_ids', type: 'ints', value: out.weightTarget },
      numbers('class_weights', out.weights, double),
    )
    nodeOutputs = [EXPORT_NAMES.label, EXPORT_NAMES.probabilities]
    outputs = [
      { name: EXPORT_NAMES.label, elemType: labels.elemType, shape: ['N'], docString: `the predicted class of each row${labels.elemType === ELEM.INT64 && classes.some((c) => typeof c !== 'number') ? ' (its index in the classes of mlskel.signature)' : ''}` },
      { name: EXPORT_NAMES.probabilities, elemType: ELEM.FLOAT, shape: ['N', classes.length], docString: `per row, the probability of each class, in the order ${JSON.stringify(classes)}` },
    ]
  } else {
    opType = 'TreeEnsembleRegressor'
    attributes.push(
      { name: 'n_targets', type: 'int', value: 1 },
      { name: 'target_treeids', type: 'ints', value: out.weightTree },
      { name: 'target_nodeids', type: 'ints', value: out.weightNode },
      { name: 'target_ids', type: 'ints', value: out.weightTarget },
      numbers('target_weights', out.weights, double),
    )
    nodeOutputs = [EXPORT_NAMES.prediction]
    outputs = [{ name: EXPORT_NAMES.prediction, elemType: ELEM.FLOAT, shape: ['N', 1], docString: `the predicted ${signature.target.name} of each row` }]
  }

  const inputDoc = `the features of each row, in the order ${JSON.stringify(signature.features.map((f) => f.name))}: a number as itself, a boolean as 1 or 0, a category as its code (its index in the categories of mlskel.signature), a missing value as NaN`
  const spec: ModelSpec = {
    irVersion: 8,
    opsets: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producerName: 'mlskel',
    producerVersion: mlskelVersion(),
    docString: `mlskel ${kind} model ${o.modelId}`,
    graph: {
      name: `mlskel_${kind}_${o.modelId}`,
      nodes: [{ opType, domain: 'ai.onnx.ml', name: opType, inputs: [EXPORT_NAMES.input], outputs: nodeOutputs, attributes }],
      inputs: [{ name: EXPORT_NAMES.input, elemType: elemIn, shape: ['N', F], docString: inputDoc }],
      outputs,
    },
    metadata: [
      [METADATA_KEYS.modelId, o.modelId],
      [METADATA_KEYS.kind, kind],
      [METADATA_KEYS.signature, JSON.stringify(signature)],
      [METADATA_KEYS.inputType, double ? 'double' : 'float'],
    ],
  }
  return encodeModel(spec)
}
