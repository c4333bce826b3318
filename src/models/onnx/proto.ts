// The ONNX messages mlskel writes and reads (onnx/onnx.proto, IR version 8): a model with its graph, the graph's
// nodes, inputs and outputs, their types, and node attributes. Writing covers what an export of tree ensembles needs;
// reading covers what the `onnx` kind needs to find a model's signature (inputs, outputs, class labels, metadata)
// and to re-encode it with other graph outputs. Field numbers are onnx.proto's.
import { byNumber, concatBytes, floatOf, floatsOf, intOf, intsOf, lastOf, mergedMessage, ProtoError, ProtoWriter, readFields, stringOf, type ProtoField } from './protobuf.js'

/** TensorProto.DataType values mlskel meets. */
export const ELEM = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13 } as const

const ELEM_NAMES: Record<number, string> = { 1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'double', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16' }

export function elemName(elem: number): string {
  return ELEM_NAMES[elem] ?? `element type ${elem}`
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** A dimension: a fixed size, or a name for a size known only at run time (the batch's rows). */
export type Dim = number | string

export interface ValueInfoSpec {
  name: string
  /** A tensor's element type; with `mapKey`, the float values' type of a sequence of maps (a ZipMap's output). */
  elemType: number
  shape: Dim[]
  /** A sequence of maps from this key type (ELEM.INT64 or ELEM.STRING) to elemType, rather than a tensor. */
  mapKey?: number
  docString?: string
}

export interface TensorSpec {
  name?: string
  dims: number[]
  /** ELEM.DOUBLE: written as little-endian raw_data. */
  dataType: typeof ELEM.DOUBLE
  values: ArrayLike<number>
}

export type AttributeSpec =
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'ints'; value: ArrayLike<number> }
  | { name: string; type: 'floats'; value: ArrayLike<number> }
  | { name: string; type: 'strings'; value: readonly string[] }
  | { name: string; type: 'tensor'; value: TensorSpec }

export interface NodeSpec {
  opType: string
  domain: string
  name: string
  inputs: string[]
  outputs: string[]
  attributes: AttributeSpec[]
}

export interface ModelSpec {
  irVersion: number
  opsets: { domain: string; version: number }[]
  producerName: string
  producerVersion: string
  docString?: string
  graph: { name: string; nodes: NodeSpec[]; inputs: ValueInfoSpec[]; outputs: ValueInfoSpec[]; docString?: string }
  metadata: [string, string][]
}

// AttributeProto.AttributeType
const ATTR_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const

function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  w.packedInts(1, t.dims) // dims
  w.int(2, t.dataType) // data_type
  if (t.name !== undefined) w.string(8, t.name)
  const raw = new Uint8Array(t.values.length * 8)
  const view = new DataView(raw.buffer)
  for (let i = 0; i < t.values.length; i++) view.setFloat64(i * 8, t.values[i]!, true)
  w.bytes(9, raw) // raw_data
}

function writeAttribute(w: ProtoWriter, a: AttributeSpec): void {
  w.string(1, a.name)
  switch (a.type) {
    case 'int':
      w.int(20, ATTR_TYPE.INT).int(3, a.value)
      break
    case 'string':
      w.int(20, ATTR_TYPE.STRING).string(4, a.value)
      break
    case 'ints':
      w.int(20, ATTR_TYPE.INTS).packedInts(8, a.value)
      break
    case 'floats':
      w.int(20, ATTR_TYPE.FLOATS).packedFloats(7, a.value)
      break
    case 'strings':
      w.int(20, ATTR_TYPE.STRINGS)
      for (const s of a.value) w.string(9, s)
      break
    case 'tensor':
      w.int(20, ATTR_TYPE.TENSOR).message(5, (t) => writeTensor(t, a.value))
      break
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoSpec): void {
  w.string(1, v.name)
  // TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1: { dim_value = 1 | dim_param = 2 } } } }
  const tensor = (type: ProtoWriter, shape: Dim[]) =>
    type.message(1, (t) => {
      t.int(1, v.elemType)
      t.message(2, (s) => {
        for (const d of shape) s.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)))
      })
    })
  // TypeProto { sequence_type = 4: { elem_type = 1: { map_type = 5: { key_type = 1, value_type = 2 } } } }
  if (v.mapKey !== undefined) w.message(2, (type) => type.message(4, (seq) => seq.message(1, (elem) => elem.message(5, (map) => map.int(1, v.mapKey!).message(2, (value) => tensor(value, []))))))
  else w.message(2, (type) => tensor(type, v.shape))
  if (v.docString) w.string(3, v.docString)
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const input of n.inputs) w.string(1, input)
  for (const output of n.outputs) w.string(2, output)
  w.string(3, n.name)
  w.string(4, n.opType)
  for (const a of n.attributes) w.message(5, (aw) => writeAttribute(aw, a))
  if (n.domain) w.string(7, n.domain)
}

/** A ModelProto's bytes. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new ProtoWriter()
  w.int(1, m.irVersion)
  w.string(2, m.producerName)
  w.string(3, m.producerVersion)
  if (m.docString) w.string(6, m.docString)
  w.message(7, (g) => {
    for (const n of m.graph.nodes) g.message(1, (nw) => writeNode(nw, n))
    g.string(2, m.graph.name)
    if (m.graph.docString) g.string(10, m.graph.docString)
    for (const v of m.graph.inputs) g.message(11, (vw) => writeValueInfo(vw, v))
    for (const v of m.graph.outputs) g.message(12, (vw) => writeValueInfo(vw, v))
  })
  for (const o of m.opsets) w.message(8, (ow) => ow.string(1, o.domain).int(2, o.version))
  for (const [key, value] of m.metadata) w.message(14, (kv) => kv.string(1, key).string(2, value))
  return w.finish()
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** A value's type, as far as mlskel tells types apart. A shape is null when its rank is unknown. */
export type TypeInfo =
  | { kind: 'tensor'; elemType: number; shape: (number | string | null)[] | null }
  | { kind: 'sequence'; elem: TypeInfo | null }
  | { kind: 'map'; keyType: number; value: TypeInfo | null }
  | { kind: 'other' }

export interface ValueInfo {
  name: string
  type: TypeInfo | null
}

export interface AttributeInfo {
  name: string
  ints?: number[]
  floats?: number[]
  strings?: string[]
  i?: number
  f?: number
  s?: string
}

export interface NodeInfo {
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  /** The node's attributes, read when asked for (a tree ensemble's are large, and mostly not needed). */
  attributes(): Map<string, AttributeInfo>
}

export interface GraphInfo {
  name: string
  nodes: NodeInfo[]
  inputs: ValueInfo[]
  outputs: ValueInfo[]
  /** Names of the graph's initializers (IR versions before 4 list them among the inputs too). */
  initializers: Set<string>
}

export interface ModelInfo {
  irVersion: number
  producerName: string
  producerVersion: string
  opsets: { domain: string; version: number }[]
  metadata: Map<string, string>
  graph: GraphInfo
}

function readType(bytes: Uint8Array, depth = 0): TypeInfo {
  if (depth > 16) throw new ProtoError('a type nested more than 16 deep')
  const f = byNumber(readFields(bytes))
  const tensor = mergedMessage(f, 1)
  if (tensor) {
    const t = byNumber(readFields(tensor))
    const elem = lastOf(t, 1)
    const shapeBytes = mergedMessage(t, 2)
    let shape: (number | string | null)[] | null = null
    if (shapeBytes) {
      shape = (byNumber(readFields(shapeBytes)).get(1) ?? []).map((dimField) => {
        const d = byNumber(readFields(dimField.data))
        const value = lastOf(d, 1)
        const param = lastOf(d, 2)
        return value ? intOf(value) : param ? stringOf(param) : null
      })
    }
    return { kind: 'tensor', elemType: elem ? intOf(elem) : 0, shape }
  }
  const sequence = mergedMessage(f, 4)
  if (sequence) {
    const elem = mergedMessage(byNumber(readFields(sequence)), 1)
    return { kind: 'sequence', elem: elem ? readType(elem, depth + 1) : null }
  }
  const map = mergedMessage(f, 5)
  if (map) {
    const m = byNumber(readFields(map))
    const key = lastOf(m, 1)
    const value = mergedMessage(m, 2)
    return { kind: 'map', keyType: key ? intOf(key) : 0, value: value ? readType(value, depth + 1) : null }
  }
  return { kind: 'other' }
}

function readValueInfo(bytes: Uint8Array): ValueInfo {
  const f = byNumber(readFields(bytes))
  const name = lastOf(f, 1)
  const type = mergedMessage(f, 2)
  return { name: name ? stringOf(name) : '', type: type ? readType(type) : null }
}

function readAttribute(bytes: Uint8Array): AttributeInfo {
  const f = byNumber(readFields(bytes))
  const name = lastOf(f, 1)
  const a: AttributeInfo = { name: name ? stringOf(name) : '' }
  const i = lastOf(f, 3)
  if (i) a.i = intOf(i)
  const fl = lastOf(f, 2)
  if (fl) a.f = floatOf(fl)
  const s = lastOf(f, 4)
  if (s) a.s = stringOf(s)
  if (f.has(7)) a.floats = floatsOf(f.get(7)!)
  if (f.has(8)) a.ints = intsOf(f.get(8)!)
  if (f.has(9)) a.strings = f.get(9)!.map(stringOf)
  return a
}

function readNode(bytes: Uint8Array): NodeInfo {
  const f = byNumber(readFields(bytes))
  const strings = (n: number) => (f.get(n) ?? []).map(stringOf)
  const opType = lastOf(f, 4)
  const domain = lastOf(f, 7)
  let attributes: Map<string, AttributeInfo> | undefined
  return {
    opType: opType ? stringOf(opType) : '',
    domain: domain ? stringOf(domain) : '',
    inputs: strings(1),
    outputs: strings(2),
    attributes() {
      attributes ??= new Map((f.get(5) ?? []).map((field) => readAttribute(field.data)).map((a) => [a.name, a]))
      return attributes
    },
  }
}

function readGraph(bytes: Uint8Array): GraphInfo {
  const f = byNumber(readFields(bytes))
  const name = lastOf(f, 2)
  const initializers = new Set<string>()
  for (const init of f.get(5) ?? []) {
    const t = lastOf(byNumber(readFields(init.data)), 8)
    if (t) initializers.add(stringOf(t))
  }
  return {
    name: name ? stringOf(name) : '',
    nodes: (f.get(1) ?? []).map((n) => readNode(n.data)),
    inputs: (f.get(11) ?? []).map((v) => readValueInfo(v.data)),
    outputs: (f.get(12) ?? []).map((v) => readValueInfo(v.data)),
    initializers,
  }
}

/** A ModelProto, as far as mlskel reads it. Throws ProtoError when the bytes are not one. */
export function decodeModel(bytes: Uint8Array): ModelInfo {
  const f = byNumber(readFields(bytes))
  const graph = mergedMessage(f, 7)
  if (!graph) throw new ProtoError('no graph (ModelProto field 7)')
  const str = (n: number) => {
    const field = lastOf(f, n)
    return field ? stringOf(field) : ''
  }
  const ir = lastOf(f, 1)
  return {
    irVersion: ir ? intOf(ir) : 0,
    producerName: str(2),
    producerVersion: str(3),
    opsets: (f.get(8) ?? []).map((o) => {
      const m = byNumber(readFields(o.data))
      const domain = lastOf(m, 1)
      const version = lastOf(m, 2)
      return { domain: domain ? stringOf(domain) : '', version: version ? intOf(version) : 0 }
    }),
    metadata: new Map(
      (f.get(14) ?? []).map((kv) => {
        const m = byNumber(readFields(kv.data))
        const key = lastOf(m, 1)
        const value = lastOf(m, 2)
        return [key ? stringOf(key) : '', value ? stringOf(value) : '']
      }),
    ),
    graph: readGraph(graph),
  }
}

/**
 * The model re-encoded with other graph outputs: the outputs `drop` names removed, `add` appended (a tensor type of
 * the element type given, its shape left to ONNX Runtime's inference). Every other field keeps its bytes. ONNX
 * Runtime for Node fetches tensors only, so a classifier's probabilities behind a ZipMap (a sequence of maps) are
 * fetched from the ZipMap's input instead; the ZipMap, then used by no output, is never run.
 */
export function withGraphOutputs(bytes: Uint8Array, drop: ReadonlySet<string>, add: readonly { name: string; elemType: number }[]): Uint8Array {
  const modelFields = readFields(bytes)
  const graphParts: Uint8Array[] = []
  const rest: Uint8Array[] = []
  for (const f of modelFields) {
    if (f.field === 7 && f.wire === 2) graphParts.push(f.data)
    else rest.push(bytes.subarray(f.start, f.end))
  }
  const graph = concatBytes(graphParts)
  const kept: Uint8Array[] = []
  for (const f of readFields(graph)) {
    if (f.field === 12 && f.wire === 2 && drop.has(readValueInfo(f.data).name)) continue
    kept.push(graph.subarray(f.start, f.end))
  }
  const added = new ProtoWriter()
  for (const o of add) added.message(12, (v) => v.string(1, o.name).message(2, (t) => t.message(1, (tt) => tt.int(1, o.elemType))))
  const newGraph = concatBytes([...kept, added.finish()])
  const w = new ProtoWriter()
  w.bytes(7, newGraph)
  return concatBytes([...rest, w.finish()])
}

export type { ProtoField }
