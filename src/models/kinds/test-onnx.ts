// ONNX graphs written with mlskel's own protobuf writer (models/onnx/proto.ts): for the onnx kind's tests and those of
// `mlskel models import`, which need ONNX files that no Python library made.
import { ELEM, encodeModel, type AttributeSpec, type NodeSpec, type ValueInfoSpec } from '../onnx/proto.js'

export const floats = (name: string, value: number[]): AttributeSpec => ({ name, type: 'floats', value })
export const tensor = (name: string, shape: (number | string)[], elemType: number = ELEM.FLOAT): ValueInfoSpec => ({ name, elemType, shape })

export function graph(o: { nodes: NodeSpec[]; inputs: ValueInfoSpec[]; outputs: ValueInfoSpec[]; producer?: [string, string] }): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsets: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producerName: o.producer?.[0] ?? 'test',
    producerVersion: o.producer?.[1] ?? '0.1',
    graph: { name: 'g', nodes: o.nodes, inputs: o.inputs, outputs: o.outputs },
    metadata: [],
  })
}

/** y = x·coefficients + intercept, per target (ai.onnx.ml LinearRegressor). */
export function linearNode(input: string, output: string, coefficients: number[], intercepts: number[]): NodeSpec {
  return { opType: 'LinearRegressor', domain: 'ai.onnx.ml', name: 'lin', inputs: [input], outputs: [output], attributes: [floats('coefficients', coefficients), floats('intercepts', intercepts), { name: 'targets', type: 'int', value: intercepts.length }] }
}

/** A linear regression of 3 features: y = x0 + 2·x1 + 3·x2 + 0.5. */
export function linearModel(input: ValueInfoSpec = tensor('x', ['N', 3]), output: ValueInfoSpec = tensor('y', ['N', 1])): Uint8Array {
  return graph({ nodes: [linearNode(input.name, output.name, [1, 2, 3], [0.5])], inputs: [input], outputs: [output] })
}

/** A softmax linear classifier of 2 features and 3 classes; its probabilities as a tensor, or through a ZipMap. */
export function classifierModel(o: { labels: number[] | string[]; zipmap: boolean }): Uint8Array {
  const labelsAttr: AttributeSpec = typeof o.labels[0] === 'string' ? { name: 'classlabels_strings', type: 'strings', value: o.labels as string[] } : { name: 'classlabels_ints', type: 'ints', value: o.labels as number[] }
  const nodes: NodeSpec[] = [
    {
      opType: 'LinearClassifier',
      domain: 'ai.onnx.ml',
      name: 'clf',
      inputs: ['x'],
      outputs: ['label', o.zipmap ? 'probability_tensor' : 'probabilities'],
      attributes: [floats('coefficients', [2, 0, 0, 2, -2, -2]), floats('intercepts', [0, 0, 0.5]), labelsAttr, { name: 'post_transform', type: 'string', value: 'SOFTMAX' }],
    },
  ]
  const stringLabels = typeof o.labels[0] === 'string'
  const outputs: ValueInfoSpec[] = [tensor('label', ['N'], stringLabels ? ELEM.STRING : ELEM.INT64)]
  if (o.zipmap) {
    const zipLabels: AttributeSpec = stringLabels ? { name: 'classlabels_strings', type: 'strings', value: o.labels as string[] } : { name: 'classlabels_int64s', type: 'ints', value: o.labels as number[] }
    nodes.push({ opType: 'ZipMap', domain: 'ai.onnx.ml', name: 'zip', inputs: ['probability_tensor'], outputs: ['probabilities'], attributes: [zipLabels] })
    outputs.push({ name: 'probabilities', elemType: ELEM.FLOAT, shape: [], mapKey: stringLabels ? ELEM.STRING : ELEM.INT64 })
  } else {
    outputs.push(tensor('probabilities', ['N', 3]))
  }
  return graph({ nodes, inputs: [tensor('x', ['N', 2])], outputs })
}

/** The softmax of x·C + b, as the classifier above computes it. */
export function softmaxOf(row: number[]): number[] {
  const [a, b] = row as [number, number]
  const scores = [2 * a, 2 * b, -2 * a - 2 * b + 0.5]
  const max = Math.max(...scores)
  const e = scores.map((s) => Math.exp(s - max))
  const sum = e.reduce((x, y) => x + y, 0)
  return e.map((v) => v / sum)
}

