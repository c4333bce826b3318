// The `onnx` kind: models in the ONNX format, from any producer (PyTorch, scikit-learn's converter, onnx.helper,
// mlskel's own export), predicted by ONNX Runtime for Node (onnxruntime-node, an optional dependency, loaded only
// when an ONNX model is: models/onnx/runtime.ts). A kind that loads, never trains. readOnnxModel makes one from a
// file alone, for `mlskel models import`; model.json keeps the file's bytes (base64) beside the signature, so the
// store's hash of model.json covers them, and the loader checks the two against each other.
//
// What the graph must look like (docs/models-from-elsewhere.md, "ONNX"): one float or double input [N, F], or one
// such input per feature ([N, 1] or [N]); outputs a label and/or probabilities (a tensor [N, K], or a ZipMap's
// sequence of maps) for a classifier, one value per row for a regression.
import { z } from 'zod'
import { MlskelError, quote, type ErrorCode } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import type { ModelKind } from '../contract/kinds.js'
import { withUncheckedRows } from '../contract/checked-rows.js'
import { signatureSchema } from '../contract/signature.js'
import type { FeatureSpec, ModelManifest, Predictor, Signature } from '../contract/types.js'
import { METADATA_KEYS } from '../onnx/export.js'
import { decodeModel, ELEM, elemName, withGraphOutputs, type GraphInfo, type ModelInfo, type NodeInfo, type TypeInfo } from '../onnx/proto.js'
import { ProtoError } from '../onnx/protobuf.js'
import { onnxHost, type HostTensor, type OnnxSession } from '../onnx/runtime.js'
import { checkRows } from './common.js'

export const ONNX = 'onnx'

/** A signature holds at most this many categories per feature (signatureSchema). */
const MAX_SIGNATURE_CATEGORIES = 255
/** Probabilities of a row must sum to 1 within this (float32 outputs), and none be below −this. */
const DISTRIBUTION_TOLERANCE = 1e-3

// ---------------------------------------------------------------------------------------------------------------
// Errors: the same checks serve an import (a file from elsewhere) and a load (a saved model.json); what differs is
// the code of a damaged structure, as in the xgboost kind.

interface Context {
  malformed: Extract<ErrorCode, 'MLSKEL_ONNX_MALFORMED' | 'MLSKEL_MODEL_CORRUPT'>
  /** "the ONNX model" or "model 0123…". */
  what: string
  file: string
}

function unsupported(c: Context, why: string, field: string, fix?: string): MlskelError {
  return new MlskelError('MLSKEL_ONNX_UNSUPPORTED', `${c.what}: ${why}`, { where: { ...(c.file ? { file: c.file } : {}), field }, ...(fix ? { fix } : {}) })
}

function mismatch(c: Context, why: string, field: string): MlskelError {
  if (c.malformed === 'MLSKEL_MODEL_CORRUPT') return new MlskelError('MLSKEL_MODEL_CORRUPT', `${c.what}: its signature does not fit its ONNX model (${why})`, { where: { file: c.file, field } })
  return new MlskelError('MLSKEL_ONNX_SIGNATURE_MISMATCH', `${c.what}: ${why}`, { where: { field } })
}

// ---------------------------------------------------------------------------------------------------------------
// How the graph's inputs and outputs map onto rows and predictions

type FloatElem = 'float32' | 'float64'

interface InputLayout {
  /** One input [N, F] ('matrix'), or one input per feature ('columns', [N, 1] or [N]). */
  kind: 'matrix' | 'columns'
  inputs: { name: string; elem: FloatElem; dims: 1 | 2 }[]
  features: number
  /** The batch dimension is fixed at 1: rows go one at a time. */
  rowByRow: boolean
}

interface OutputLayout {
  task: Task
  label?: { name: string }
  /** `single`: one value per row, a binary classifier's probability of its second class. */
  probabilities?: { name: string; single: boolean }
  value?: { name: string }
  /** Classes (K) of a classifier. */
  classes: number
  /** The graph's own class labels (its classifier's or its ZipMap's), in probability order; null if it has none. */
  labels: (string | number)[] | null
  /** Outputs to fetch instead of a ZipMap's sequence of maps (see withGraphOutputs). */
  rewrite: { drop: Set<string>; add: { name: string; elemType: number }[] } | null
}

const FLOAT_ELEMS: Record<number, FloatElem> = { [ELEM.FLOAT]: 'float32', [ELEM.DOUBLE]: 'float64' }
const LABEL_ELEMS = new Set<number>([ELEM.INT64, ELEM.INT32, ELEM.STRING])

function shapeText(type: TypeInfo | null): string {
  if (!type || type.kind !== 'tensor') return type ? `a ${type.kind}` : 'no type'
  return `${elemName(type.elemType)} ${type.shape ? `[${type.shape.map((d) => d ?? '?').join(', ')}]` : '[rank unknown]'}`
}

/** A fixed batch dimension other than 1 cannot take a batch of any size. */
function batchOf(c: Context, name: string, dim: number | string | null | undefined): boolean {
  if (typeof dim !== 'number' || dim < 0) return false
  if (dim === 1) return true
  throw unsupported(c, `input ${quote(name)} takes exactly ${dim} rows at a time; mlskel predicts batches of any size`, `graph.input.${name}`, 'Export the model with a dynamic batch dimension (torch.onnx.export(..., dynamic_axes={"input": {0: "N"}})), or with a batch of 1.')
}

function inputLayout(g: GraphInfo, c: Context, knownFeatures: number | undefined): InputLayout {
  const inputs = g.inputs.filter((i) => !g.initializers.has(i.name))
  if (inputs.length === 0) throw unsupported(c, 'the graph takes no input', 'graph.input')
  const floatOf = (name: string, type: TypeInfo | null): { elem: FloatElem; shape: (number | string | null)[] } => {
    if (!type || type.kind !== 'tensor') throw unsupported(c, `input ${quote(name)} is ${shapeText(type)}; mlskel feeds float or double tensors`, `graph.input.${name}`)
    const elem = FLOAT_ELEMS[type.elemType]
    if (!elem) throw unsupported(c, `input ${quote(name)} is ${shapeText(type)}; mlskel feeds features as float or double tensors (a category as its code), not ${elemName(type.elemType)}`, `graph.input.${name}`, 'Export the model with float inputs, encoding categories and booleans as numbers.')
    if (!type.shape) throw unsupported(c, `input ${quote(name)} has no shape; mlskel needs [N, F] (or [N, 1] per feature) to map features onto it`, `graph.input.${name}`)
    return { elem, shape: type.shape }
  }
  if (inputs.length === 1) {
    const { name, type } = inputs[0]!
    const { elem, shape } = floatOf(name, type)
    if (shape.length !== 2) throw unsupported(c, `input ${quote(name)} is ${shapeText(type)}; mlskel maps features onto a 2-D input [N, F] (rows, features)`, `graph.input.${name}`)
    const width = shape[1]
    const features = typeof width === 'number' && width > 0 ? width : knownFeatures
    if (features === undefined) throw unsupported(c, `input ${quote(name)} is ${shapeText(type)}: its number of features is not fixed in the graph`, `graph.input.${name}`, 'Give the features\' names (featureNames; on import, --data: its columns name them): their number is the input\'s width.')
    if (typeof width === 'number' && knownFeatures !== undefined && width !== knownFeatures) throw mismatch(c, `${knownFeatures} features given for the input ${quote(name)} of width ${width}`, 'featureNames')
    return { kind: 'matrix', inputs: [{ name, elem, dims: 2 }], features, rowByRow: batchOf(c, name, shape[0]) }
  }
  const columns = inputs.map(({ name, type }) => {
    const { elem, shape } = floatOf(name, type)
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      throw unsupported(c, `input ${quote(name)} is ${shapeText(type)}; a model of several inputs must take one feature per input ([N, 1] or [N])`, `graph.input.${name}`)
    }
    return { name, elem, dims: shape.length as 1 | 2, rowByRow: batchOf(c, name, shape[0]) }
  })
  return { kind: 'columns', inputs: columns.map(({ name, elem, dims }) => ({ name, elem, dims })), features: columns.length, rowByRow: columns.some((x) => x.rowByRow) }
}

/** ai.onnx.ml classifiers and the attributes that hold their class labels. */
const CLASSIFIERS = new Set(['TreeEnsembleClassifier', 'LinearClassifier', 'SVMClassifier'])
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Reshape', 'Squeeze', 'Flatten'])

function labelsOf(node: NodeInfo): (string | number)[] | null {
  const a = node.attributes()
  const strings = a.get('classlabels_strings')?.strings
  if (strings && strings.length > 0) return strings
  const ints = a.get('classlabels_int64s')?.ints ?? a.get('classlabels_ints')?.ints
  if (ints && ints.length > 0) return ints
  return null
}

/** The node that makes `name`, through Identity, Cast and reshaping nodes (a converter's tidying up). */
function producerOf(g: GraphInfo, name: string, through = PASS_THROUGH): NodeInfo | undefined {
  let node = g.nodes.find((n) => n.outputs.includes(name))
  for (let hops = 0; node && through.has(node.opType) && hops < 8; hops++) node = g.nodes.find((n) => n.outputs.includes(node!.inputs[0]!))
  return node
}

function outputLayout(g: GraphInfo, c: Context, hint: { task?: Task; classes?: number }): OutputLayout {
  const labels: string[] = []
  const probabilities: { name: string; columns: number | null; zipmap?: NodeInfo; single?: boolean }[] = []
  const values: string[] = []
  const unread: string[] = []
  for (const { name, type } of g.outputs) {
    if (type?.kind === 'tensor') {
      const shape = type.shape
      const last = shape && shape.length === 2 ? shape[1] : undefined
      const perRow = shape === null || shape.length === 1 || (shape.length === 2 && last === 1)
      if (LABEL_ELEMS.has(type.elemType) && perRow) labels.push(name)
      else if (FLOAT_ELEMS[type.elemType] && perRow) values.push(name)
      else if (FLOAT_ELEMS[type.elemType] && shape?.length === 2) probabilities.push({ name, columns: typeof last === 'number' ? last : null })
      else unread.push(`${name} (${shapeText(type)})`)
    } else if (type?.kind === 'sequence' && type.elem?.kind === 'map') {
      // a ZipMap's output: its probabilities are its input tensor
      const zipmap = g.nodes.find((n) => n.opType === 'ZipMap' && n.outputs.includes(name))
      if (!zipmap) throw unsupported(c, `output ${quote(name)} is a sequence of maps not made by a ZipMap`, `graph.output.${name}`)
      probabilities.push({ name, columns: labelsOf(zipmap)?.length ?? null, zipmap })
    } else {
      unread.push(`${name} (${shapeText(type)})`)
    }
  }
  const names = (list: readonly (string | { name: string })[]) => list.map((x) => quote(typeof x === 'string' ? x : x.name)).join(', ')
  if (labels.length > 1) throw unsupported(c, `outputs ${names(labels)} could each be its label; mlskel reads one label output`, 'graph.output')
  if (probabilities.length > 1) throw unsupported(c, `outputs ${names(probabilities)} could each be its probabilities; mlskel reads one`, 'graph.output')
  const classification = labels.length > 0 || probabilities.length > 0 || hint.task === 'classification'
  if (hint.task === 'regression' && (labels.length > 0 || probabilities.length > 0)) {
    throw mismatch(c, `the task is given as regression, but the graph predicts classes (outputs ${names([...labels, ...probabilities])})`, 'task')
  }
  if (!classification) {
    if (values.length === 1) return { task: 'regression', value: { name: values[0]! }, classes: 0, labels: null, rewrite: null }
    if (values.length > 1) throw unsupported(c, `outputs ${names(values)} could each be its prediction; mlskel reads one value per row`, 'graph.output')
    throw unsupported(c, `no output mlskel can read as a prediction${unread.length ? ` (outputs: ${unread.join(', ')})` : ''}: it reads a label and/or probabilities [N, K], or one value per row`, 'graph.output')
  }
  // a binary classifier giving one probability per row (a sigmoid), told to be a classifier
  if (labels.length === 0 && probabilities.length === 0) {
    if (values.length !== 1) throw unsupported(c, `the task is given as classification, but the graph has no label or probabilities output and ${values.length === 0 ? 'no' : 'more than one'} output of one value per row`, 'graph.output')
    probabilities.push({ name: values[0]!, columns: 2, single: true })
  }
  const label = labels[0]
  const proba = probabilities[0]
  let graphLabels: (string | number)[] | null = null
  const classifier = label ? producerOf(g, label) : proba && !proba.zipmap ? producerOf(g, proba.name) : undefined
  if (classifier && classifier.domain === 'ai.onnx.ml' && CLASSIFIERS.has(classifier.opType)) graphLabels = labelsOf(classifier)
  if (!graphLabels && proba?.zipmap) graphLabels = labelsOf(proba.zipmap)
  const classes = proba?.columns ?? graphLabels?.length ?? hint.classes
  if (classes === undefined || classes === null) {
    throw unsupported(c, `the graph does not say how many classes it predicts (${label ? `label output ${quote(label)}` : ''}${proba ? ` probabilities ${quote(proba.name)} of unknown width` : ''})`, 'graph.output', 'Give the classes (classes; on import, --data: its target\'s values name them), in the order of the model\'s probabilities.')
  }
  if (classes < 2) throw unsupported(c, `output ${quote(proba?.name ?? label)} has ${classes} column; a classifier predicts at least 2 classes`, 'graph.output')
  if (graphLabels && graphLabels.length !== classes) throw unsupported(c, `the graph's ${graphLabels.length} class labels do not fit its probabilities of ${classes} columns`, 'graph.output')
  let rewrite: OutputLayout['rewrite'] = null
  let probaName = proba?.name
  if (proba?.zipmap) {
    probaName = proba.zipmap.inputs[0]!
    rewrite = { drop: new Set([proba.name]), add: g.outputs.some((o) => o.name === probaName) ? [] : [{ name: probaName, elemType: ELEM.FLOAT }] }
  }
  return {
    task: 'classification',
    ...(label ? { label: { name: label } } : {}),
    ...(probaName ? { probabilities: { name: probaName, single: proba!.single === true } } : {}),
    classes,
    labels: graphLabels,
    rewrite,
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Signature

export interface ReadOnnxOptions {
  /** The features' names, in the model's input order (default: the input names of a model with one input per feature, else f0 … fn-1). */
  featureNames?: string[]
  /** A classifier's class labels, in the order of its probabilities (default: the graph's own labels, else 0 … k-1). */
  classes?: (string | number)[]
  /** The target's name (default "target"). */
  target?: string
  /** A categorical feature's categories in code order, by feature name (the model takes the code as a number). */
  categories?: Record<string, (string | number)[]>
  /** classification or regression, when the graph does not say (one value per row: a regression unless told). */
  task?: Task
  /**
   * The whole signature instead (none of the options above but `task` with it): checked against the graph as a saved
   * model's is (as many features, the names of per-feature inputs, the task and classes; an mlskel export's own
   * signature must be it), then kept as it is. `mlskel models import` gives the project's, when the file fits it.
   */
  signature?: Signature
}

export interface ReadOnnxResult {
  predictor: Predictor
  signature: Signature
  task: Task
  /** The producing tool and version, as the file states them (producer_name, producer_version). */
  producer: { tool: string; version: string }
  /** Whether the file names its features: one input per feature, or mlskel's embedded signature. */
  named: boolean
  /** Whether the file names its classes: its classifier's or ZipMap's labels, or mlskel's embedded signature. */
  labelled: boolean
}

/** The signature mlskel's export wrote into the file's metadata, or null. */
function embeddedSignature(m: ModelInfo, c: Context): Signature | null {
  const text = m.metadata.get(METADATA_KEYS.signature)
  if (text === undefined) return null
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new MlskelError(c.malformed, `${c.what}: its metadata ${METADATA_KEYS.signature} is not JSON (${(error as Error).message})`, { where: { field: `metadata_props.${METADATA_KEYS.signature}` } })
  }
  const parsed = signatureSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new MlskelError(c.malformed, `${c.what}: its metadata ${METADATA_KEYS.signature} is not an mlskel signature (${issue.path.join('.') || 'top level'}: ${issue.message})`, { where: { field: `metadata_props.${METADATA_KEYS.signature}` } })
  }
  return parsed.data as Signature
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** The signature of a file: mlskel's own (from its export) when it has one, else from its inputs, outputs and the options. */
function signatureOf(m: ModelInfo, inputs: InputLayout, outputs: OutputLayout, o: ReadOnnxOptions, c: Context): Signature {
  const embedded = embeddedSignature(m, c)
  if (o.signature) {
    const others = (['featureNames', 'classes', 'target', 'categories'] as const).filter((key) => o[key] !== undefined)
    if (others.length > 0) throw mismatch(c, `a signature was given, and ${others.join(', ')} beside it; the signature says them`, others[0]!)
    const parsed = signatureSchema.safeParse(o.signature)
    if (!parsed.success) throw mismatch(c, `the signature given is not one (${parsed.error.issues[0]!.path.join('.') || 'top level'}: ${parsed.error.issues[0]!.message})`, 'signature')
    const signature = structuredClone(parsed.data) as Signature
    if (embedded && !same(signature, embedded)) throw mismatch(c, 'a signature was given, but the file carries mlskel\'s own, which is the model\'s', 'signature')
    checkFits(signature, inputs, outputs, c)
    return signature
  }
  if (embedded) {
    // mlskel's export: the file's signature is the model's; what is given must say the same
    const names = embedded.features.map((f) => f.name)
    if (o.featureNames && !same(o.featureNames, names)) throw mismatch(c, `feature names ${quote(o.featureNames)} were given, but the file's mlskel signature names ${quote(names)}; the file's are the model's`, 'featureNames')
    const classes = embedded.target.type === 'category' ? embedded.target.classes : undefined
    if (o.classes && !same(o.classes, classes)) throw mismatch(c, `classes ${quote(o.classes)} were given, but the file's mlskel signature has ${quote(classes ?? 'none')}`, 'classes')
    if (o.target !== undefined && o.target !== embedded.target.name) throw mismatch(c, `target ${quote(o.target)} was given, but the file's mlskel signature names it ${quote(embedded.target.name)}`, 'target')
    if (o.categories) throw mismatch(c, 'categories were given, but the file carries mlskel\'s signature, which has its categories', 'categories')
    checkFits(embedded, inputs, outputs, c)
    return embedded
  }
  const F = inputs.features
  if (o.featureNames && o.featureNames.length !== F) throw mismatch(c, `${o.featureNames.length} feature names given for the model's ${F} features`, 'featureNames')
  if (o.featureNames && inputs.kind === 'columns') {
    const at = o.featureNames.findIndex((name, i) => name !== inputs.inputs[i]!.name)
    if (at >= 0) throw mismatch(c, `feature ${at} is the graph's input ${quote(inputs.inputs[at]!.name)}, but ${quote(o.featureNames[at])} was given; the graph's input names are the model's`, 'featureNames')
  }
  const names = o.featureNames ?? (inputs.kind === 'columns' ? inputs.inputs.map((i) => i.name) : Array.from({ length: F }, (_, i) => `f${i}`))
  if (new Set(names).size !== names.length) throw mismatch(c, `feature names repeat (${names.join(', ')})`, 'featureNames')
  for (const name of Object.keys(o.categories ?? {})) if (!names.includes(name)) throw mismatch(c, `categories are given for ${quote(name)}, which is not a feature`, `categories.${name}`)
  const features: FeatureSpec[] = names.map((name) => {
    const given = o.categories?.[name]
    if (!given) return { name, type: 'number' }
    if (given.length === 0 || given.length > MAX_SIGNATURE_CATEGORIES) throw mismatch(c, `feature ${quote(name)} has ${given.length} categories given; a signature holds 1 to ${MAX_SIGNATURE_CATEGORIES}`, `categories.${name}`)
    return { name, type: 'category', categories: [...given] }
  })
  const target = o.target ?? 'target'
  if (outputs.task === 'regression') {
    if (o.classes) throw mismatch(c, 'classes are given, but the graph predicts one number per row (a regression)', 'classes')
    return { features, target: { name: target, type: 'number' } }
  }
  const classes = o.classes ?? outputs.labels ?? Array.from({ length: outputs.classes }, (_, i) => i)
  if (classes.length !== outputs.classes) throw mismatch(c, `${classes.length} classes given for the model's ${outputs.classes}`, 'classes')
  if (new Set(classes).size !== classes.length) throw mismatch(c, `class labels repeat (${classes.join(', ')})`, 'classes')
  return { features, target: { name: target, type: 'category', classes: [...classes] } }
}

/** A signature (saved, or embedded by mlskel's export) must describe the graph: its features' count, its task and classes. */
function checkFits(signature: Signature, inputs: InputLayout, outputs: OutputLayout, c: Context): void {
  if (signature.features.length !== inputs.features) throw mismatch(c, `${signature.features.length} features for the graph's ${inputs.features}`, 'signature.features')
  if (inputs.kind === 'columns') {
    const at = signature.features.findIndex((f, i) => f.name !== inputs.inputs[i]!.name)
    if (at >= 0) throw mismatch(c, `feature ${at} is ${quote(signature.features[at]!.name)}, the graph's input is ${quote(inputs.inputs[at]!.name)}`, `signature.features.${at}.name`)
  }
  const classes = signature.target.type === 'category' ? signature.target.classes.length : 0
  if (outputs.task === 'regression' ? classes > 0 : classes !== outputs.classes) {
    throw mismatch(c, `the graph predicts ${outputs.task === 'regression' ? 'a number' : `${outputs.classes} classes`}, the signature ${classes ? `${classes} classes` : 'a number'}`, 'signature.target')
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and loading

function decode(bytes: Uint8Array, c: Context): ModelInfo {
  try {
    return decodeModel(bytes)
  } catch (error) {
    if (error instanceof ProtoError) throw new MlskelError(c.malformed, `${c.what}: not an ONNX model (${error.message})`, { where: { ...(c.file ? { file: c.file } : {}), field: c.malformed === 'MLSKEL_MODEL_CORRUPT' ? 'onnx' : '' } })
    throw error
  }
}

interface Analysis {
  inputs: InputLayout
  outputs: OutputLayout
}

function analyze(m: ModelInfo, c: Context, hint: { features?: number; task?: Task; classes?: number }): Analysis {
  const inputs = inputLayout(m.graph, c, hint.features)
  const outputs = outputLayout(m.graph, c, hint)
  return { inputs, outputs }
}

/**
 * A predictor of the `onnx` kind from an ONNX model alone (its bytes): the signature from the graph's inputs and
 * outputs and the options (or the one mlskel's export embeds), the task from its outputs, the producer as the file
 * states it. A model mlskel cannot map is refused with MLSKEL_ONNX_UNSUPPORTED naming the input or output, a damaged
 * file with MLSKEL_ONNX_MALFORMED, options that do not fit with MLSKEL_ONNX_SIGNATURE_MISMATCH, and a missing
 * onnxruntime-node with MLSKEL_ONNX_RUNTIME_MISSING.
 */
export function readOnnxModel(bytes: Uint8Array, o: ReadOnnxOptions = {}): ReadOnnxResult {
  const c: Context = { malformed: 'MLSKEL_ONNX_MALFORMED', what: 'the ONNX model', file: '' }
  const m = decode(bytes, c)
  const embedded = embeddedSignature(m, c)
  const known = o.signature ?? embedded
  const given = o.classes?.length ?? (o.signature?.target.type === 'category' ? o.signature.target.classes.length : undefined)
  const classes = given ?? (embedded?.target.type === 'category' ? embedded.target.classes.length : undefined)
  const task = o.task ?? (known ? (known.target.type === 'category' ? 'classification' : 'regression') : undefined)
  const a = analyze(m, c, { features: o.featureNames?.length ?? known?.features.length, ...(task ? { task } : {}), ...(classes !== undefined ? { classes } : {}) })
  const signature = signatureOf(m, a.inputs, a.outputs, o, c)
  const own = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const predictor = makePredictor({ signature, onnx: own.toString('base64') }, own, a)
  return {
    predictor,
    signature,
    task: a.outputs.task,
    producer: { tool: m.producerName || 'unknown', version: m.producerVersion || 'unknown' },
    named: embedded !== null || a.inputs.kind === 'columns',
    labelled: (embedded !== null && embedded.target.type === 'category') || a.outputs.labels !== null,
  }
}

/** Whether a saved onnx model.json holds this file: its bytes, to the byte (model.json keeps them as base64). */
function holdsOnnxFile(json: unknown, file: Uint8Array): boolean {
  const saved = (json as { onnx?: unknown } | null)?.onnx
  return typeof saved === 'string' && Buffer.from(saved, 'base64').equals(Buffer.from(file.buffer, file.byteOffset, file.byteLength))
}

/** What model.json holds for this kind (besides the store's envelope): the signature, and the ONNX file as base64. */
interface OnnxModelJson {
  signature: Signature
  onnx: string
}

const modelJsonSchema = z.object({ signature: signatureSchema, onnx: z.base64().min(1) })

export function loadOnnx(json: unknown, manifest: ModelManifest): Predictor {
  const c: Context = { malformed: 'MLSKEL_MODEL_CORRUPT', what: `model ${manifest.id}`, file: 'model.json' }
  const parsed = modelJsonSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: model.json is not an ${ONNX} model (${issue.path.join('.') || 'top level'}: ${issue.message})`, { where: { file: 'model.json', field: issue.path.join('.') } })
  }
  const data = structuredClone(parsed.data) as OnnxModelJson
  const bytes = Buffer.from(data.onnx, 'base64')
  const m = decode(bytes, c)
  const { signature } = data
  const classes = signature.target.type === 'category' ? signature.target.classes.length : undefined
  const a = analyze(m, c, { features: signature.features.length, task: classes ? 'classification' : 'regression', ...(classes ? { classes } : {}) })
  checkFits(signature, a.inputs, a.outputs, c)
  return makePredictor(data, bytes, a)
}

// ---------------------------------------------------------------------------------------------------------------
// The predictor

/** A tensor's values as numbers (int64 labels as numbers; strings stay strings). */
function valuesOf(t: HostTensor): (number | string)[] {
  if (Array.isArray(t.data)) return t.data
  if (t.data instanceof BigInt64Array) return Array.from(t.data, Number)
  return Array.from(t.data as Float32Array)
}

function runFailed(why: string): MlskelError {
  return new MlskelError('MLSKEL_ONNX_RUN_FAILED', `the ONNX model's output cannot be read as a prediction: ${why}`)
}

function makePredictor(frozen: OnnxModelJson, bytes: Uint8Array, a: Analysis): Predictor {
  const { signature } = frozen
  const { inputs, outputs } = a
  const F = signature.features.length
  const classes = signature.target.type === 'category' ? signature.target.classes : null
  const categoryCounts = Int32Array.from(signature.features, (f) => (f.type === 'category' ? f.categories.length : 0))
  const hasCategories = categoryCounts.some((k) => k > 0)
  const model = outputs.rewrite ? withGraphOutputs(bytes, outputs.rewrite.drop, outputs.rewrite.add) : bytes
  const fetches = [outputs.label?.name, outputs.probabilities?.name, outputs.value?.name].filter((n): n is string => n !== undefined)
  // a label the graph gives, to the index of its class: its own labels, or an index into the classes when it has none
  const labelIndex = new Map<string | number, number>((outputs.labels ?? []).map((l, i) => [l, i]))

  /** Rows as the graph's input tensors; a category code the signature does not hold is made missing (NaN). */
  const feedsOf = (X: readonly (readonly number[])[]): Record<string, HostTensor> => {
    const n = X.length
    const value = (row: readonly number[], f: number): number => {
      const v = row[f]!
      if (hasCategories) {
        const k = categoryCounts[f]!
        if (k > 0 && !(Number.isInteger(v) && v >= 0 && v < k)) return Number.NaN
      }
      return v
    }
    if (inputs.kind === 'matrix') {
      const { name, elem } = inputs.inputs[0]!
      const data = elem === 'float32' ? new Float32Array(n * F) : new Float64Array(n * F)
      for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) data[r * F + f] = value(X[r]!, f)
      return { [name]: { type: elem, data, dims: [n, F] } }
    }
    return Object.fromEntries(
      inputs.inputs.map(({ name, elem, dims }, f) => {
        const data = elem === 'float32' ? new Float32Array(n) : new Float64Array(n)
        for (let r = 0; r < n; r++) data[r] = value(X[r]!, f)
        return [name, { type: elem, data, dims: dims === 2 ? [n, 1] : [n] }]
      }),
    )
  }

  /** Predictions (and probabilities) from the graph's outputs for n rows. */
  const read = (out: Record<string, HostTensor>, n: number, wantProbabilities: boolean): { predictions: (string | number)[]; probabilities?: number[][] } => {
    if (!classes) {
      const values = valuesOf(out[outputs.value!.name]!)
      if (values.length !== n) throw runFailed(`output ${quote(outputs.value!.name)} has ${values.length} values for ${n} rows`)
      return { predictions: values.map(Number) }
    }
    const K = classes.length
    let probabilities: number[][] | undefined
    if (outputs.probabilities) {
      const raw = valuesOf(out[outputs.probabilities.name]!) as number[]
      const single = outputs.probabilities.single
      if (raw.length !== n * (single ? 1 : K)) throw runFailed(`output ${quote(outputs.probabilities.name)} has ${raw.length} values for ${n} rows of ${K} classes`)
      probabilities = new Array<number[]>(n)
      for (let r = 0; r < n; r++) {
        const row = single ? [1 - raw[r]!, raw[r]!] : raw.slice(r * K, (r + 1) * K)
        let sum = 0
        for (const p of row) {
          if (!(p >= -DISTRIBUTION_TOLERANCE)) throw runFailed(`row ${r + 1}'s probabilities ${quote(row)} are not a distribution (is the model's last layer a softmax?)`)
          sum += Math.max(0, p)
        }
        if (!(Math.abs(sum - 1) <= DISTRIBUTION_TOLERANCE)) throw runFailed(`row ${r + 1}'s probabilities ${quote(row)} sum to ${sum}, not 1 (is the model's last layer a softmax?)`)
        // ONNX Runtime's are float32: made to sum to 1 in double, as mlskel's own kinds' do
        probabilities[r] = row.map((p) => Math.max(0, p) / sum)
      }
    }
    let predictions: (string | number)[]
    if (outputs.label) {
      const labels = valuesOf(out[outputs.label.name]!)
      if (labels.length !== n) throw runFailed(`output ${quote(outputs.label.name)} has ${labels.length} labels for ${n} rows`)
      predictions = labels.map((label) => {
        const k = outputs.labels ? labelIndex.get(label) : typeof label === 'number' && Number.isInteger(label) && label >= 0 && label < K ? label : undefined
        if (k === undefined) throw runFailed(`it predicted the label ${quote(label)}, which is none of its ${K} classes`)
        return classes[k]!
      })
    } else {
      predictions = probabilities!.map((p) => {
        let best = 0
        for (let k = 1; k < K; k++) if (p[k]! > p[best]!) best = k
        return classes[best]!
      })
    }
    return wantProbabilities && probabilities ? { predictions, probabilities } : { predictions }
  }

  const rowByRow = (X: readonly unknown[]) => (inputs.rowByRow ? { rowByRow: X.length } : {})
  // A model ONNX Runtime cannot load, or a missing onnxruntime-node, is refused here. The session is released when
  // `frozen` (which only this predictor's closures hold) is garbage collected.
  const session: OnnxSession = onnxHost().open(model, frozen)
  // rows checked against the signature (checkRows), by predict or by the caller (CheckedRows)
  const predictRows = (X: readonly (readonly number[])[]): (string | number)[] => (X.length === 0 ? [] : read(session.run(feedsOf(X), fetches, rowByRow(X)), X.length, false).predictions)
  const probaRows = (X: readonly (readonly number[])[]): number[][] => (X.length === 0 ? [] : read(session.run(feedsOf(X), fetches, rowByRow(X)), X.length, true).probabilities!)
  const predictor: Predictor = {
    kind: ONNX,
    signature,
    warnings: inputs.rowByRow ? ['the model\'s batch dimension is fixed at 1: ONNX Runtime predicts its rows one at a time'] : [],
    toJSON: () => structuredClone(frozen),
    predict(X) {
      checkRows(signature, X)
      return predictRows(X)
    },
    ...(classes && outputs.probabilities
      ? {
          predictProba(X: number[][]) {
            checkRows(signature, X)
            return probaRows(X)
          },
        }
      : {}),
    async predictBatch(X, o = {}) {
      checkRows(signature, X)
      if (X.length === 0) return o.probabilities && classes && outputs.probabilities ? { predictions: [], probabilities: [] } : { predictions: [] }
      // on the worker thread, leaving the event loop free; on one core (runtime.ts says why), so `threads` is not used
      return read(await session.runAsync(feedsOf(X), fetches, rowByRow(X)), X.length, o.probabilities === true)
    },
  }
  return withUncheckedRows(predictor, { predict: predictRows, ...(classes && outputs.probabilities ? { predictProba: probaRows } : {}) })
}

export const onnxKind: ModelKind = {
  name: ONNX,
  load: loadOnnx,
  holdsFile: holdsOnnxFile,
  describe: (task) => (task === 'classification' ? 'ONNX classifier' : 'ONNX regressor'),
}
