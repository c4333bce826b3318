// The protobuf codec and ONNX's messages: what is written reads back as written, the wire bytes are protobuf's (checked
// against bytes the protobuf documentation gives), a damaged message is refused, never read past its end, and a
// model re-encoded with other outputs keeps everything else.
import { describe, expect, it } from 'vitest'
import { decodeModel, ELEM, encodeModel, withGraphOutputs, type ModelSpec } from './proto.js'
import { byNumber, floatsOf, intOf, intsOf, mergedMessage, ProtoError, ProtoWriter, readFields, stringOf } from './protobuf.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('the protobuf writer and reader', () => {
  it('writes the bytes protobuf\'s encoding guide gives', () => {
    // "150 in field 1" is 08 96 01; the string "testing" in field 2 is 12 07 74 65 73 74 69 6e 67
    expect(hex(new ProtoWriter().int(1, 150).finish())).toBe('089601')
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67')
    // a negative int64 is ten bytes of two's complement
    expect(hex(new ProtoWriter().int(1, -1).finish())).toBe('08ffffffffffffffffff01')
    // packed repeated 3, 270, 86942 in field 4: 22 06 03 8e 02 9e a7 05
    expect(hex(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705')
  })

  it('reads back what it wrote: integers up to 2^53 and below 0, floats, text, nested messages', () => {
    const w = new ProtoWriter()
      .int(1, 0)
      .int(2, 2 ** 53 - 1)
      .int(3, -5)
      .float(4, 0.1)
      .string(5, 'ünïcödé ✓')
      .packedInts(6, [1, 2, 300, 2 ** 40])
      .packedFloats(7, [1.5, -2.25, Math.fround(0.1)])
      .message(8, (m) => m.int(1, 7).string(2, 'inner'))
    const f = byNumber(readFields(w.finish()))
    expect(intOf(f.get(1)![0]!)).toBe(0)
    expect(intOf(f.get(2)![0]!)).toBe(2 ** 53 - 1)
    expect(intOf(f.get(3)![0]!)).toBe(-5)
    expect(floatsOf(f.get(4)!)).toEqual([Math.fround(0.1)])
    expect(stringOf(f.get(5)![0]!)).toBe('ünïcödé ✓')
    expect(intsOf(f.get(6)!)).toEqual([1, 2, 300, 2 ** 40])
    expect(floatsOf(f.get(7)!)).toEqual([1.5, -2.25, Math.fround(0.1)])
    const inner = byNumber(readFields(mergedMessage(f, 8)!))
    expect(intOf(inner.get(1)![0]!)).toBe(7)
    expect(stringOf(inner.get(2)![0]!)).toBe('inner')
  })

  it('reads repeated integers written one field each, as proto2 writers do, like packed ones', () => {
    const w = new ProtoWriter().int(6, 4).int(6, 5).packedInts(6, [6, 7])
    expect(intsOf(byNumber(readFields(w.finish())).get(6)!)).toEqual([4, 5, 6, 7])
  })

  it('merges a message field that occurs twice, as protobuf does', () => {
    const w = new ProtoWriter().message(1, (m) => m.int(1, 1)).message(1, (m) => m.int(2, 2))
    const merged = byNumber(readFields(mergedMessage(byNumber(readFields(w.finish())), 1)!))
    expect([...merged.keys()]).toEqual([1, 2])
  })

  it('refuses a damaged message without reading past its end', () => {
    const good = new ProtoWriter().string(1, 'hello').int(2, 300).finish()
    for (let cut = 1; cut < good.length; cut++) {
      if (cut === 7) continue // the cut between the two fields leaves a whole message
      expect(() => readFields(good.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtoError)
    }
    // a length beyond the buffer, wire types 3/4 (groups) and 6, field 0
    expect(() => readFields(Uint8Array.from([0x0a, 0x7f, 0x41]))).toThrow(/runs past the end/)
    expect(() => readFields(Uint8Array.from([0x0b]))).toThrow(/wire type 3/)
    expect(() => readFields(Uint8Array.from([0x0e]))).toThrow(/wire type 6/)
    expect(() => readFields(Uint8Array.from([0x00, 0x01]))).toThrow(/field number 0/)
    expect(() => readFields(Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/longer than ten bytes/)
    expect(() => stringOf(readFields(Uint8Array.from([0x0a, 0x02, 0xc3, 0x28]))[0]!)).toThrow(/not UTF-8/)
  })
})

const model: ModelSpec = {
  irVersion: 8,
  opsets: [
    { domain: '', version: 17 },
    { domain: 'ai.onnx.ml', version: 3 },
  ],
  producerName: 'test',
  producerVersion: '1.0',
  graph: {
    name: 'g',
    nodes: [
      {
        opType: 'LinearClassifier',
        domain: 'ai.onnx.ml',
        name: 'clf',
        inputs: ['x'],
        outputs: ['label', 'scores'],
        attributes: [
          { name: 'classlabels_strings', type: 'strings', value: ['a', 'b'] },
          { name: 'coefficients', type: 'floats', value: [1, -1, -1, 1] },
          { name: 'post_transform', type: 'string', value: 'SOFTMAX' },
          { name: 'multi_class', type: 'int', value: 0 },
        ],
      },
      { opType: 'ZipMap', domain: 'ai.onnx.ml', name: 'zip', inputs: ['scores'], outputs: ['probabilities'], attributes: [{ name: 'classlabels_strings', type: 'strings', value: ['a', 'b'] }] },
    ],
    inputs: [{ name: 'x', elemType: ELEM.FLOAT, shape: ['N', 2] }],
    outputs: [
      { name: 'label', elemType: ELEM.STRING, shape: ['N'] },
      { name: 'probabilities', elemType: ELEM.FLOAT, shape: ['N', 2] },
    ],
  },
  metadata: [['key', 'value ✓']],
}

describe('ONNX messages', () => {
  it('decodes what encodeModel writes: producer, opsets, metadata, nodes with their attributes, inputs and outputs with shapes', () => {
    const m = decodeModel(encodeModel(model))
    expect(m).toMatchObject({ irVersion: 8, producerName: 'test', producerVersion: '1.0', opsets: model.opsets })
    expect([...m.metadata]).toEqual([['key', 'value ✓']])
    expect(m.graph.inputs).toEqual([{ name: 'x', type: { kind: 'tensor', elemType: ELEM.FLOAT, shape: ['N', 2] } }])
    expect(m.graph.outputs.map((o) => o.type)).toEqual([
      { kind: 'tensor', elemType: ELEM.STRING, shape: ['N'] },
      { kind: 'tensor', elemType: ELEM.FLOAT, shape: ['N', 2] },
    ])
    const clf = m.graph.nodes[0]!
    expect(clf).toMatchObject({ opType: 'LinearClassifier', domain: 'ai.onnx.ml', inputs: ['x'], outputs: ['label', 'scores'] })
    expect(clf.attributes().get('classlabels_strings')!.strings).toEqual(['a', 'b'])
    expect(clf.attributes().get('coefficients')!.floats).toEqual([1, -1, -1, 1])
    expect(clf.attributes().get('post_transform')!.s).toBe('SOFTMAX')
    expect(clf.attributes().get('multi_class')!.i).toBe(0)
  })

  it('refuses bytes without a graph, and damaged bytes', () => {
    expect(() => decodeModel(new ProtoWriter().int(1, 8).finish())).toThrow(/no graph/)
    const bytes = encodeModel(model)
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 3))).toThrow(ProtoError)
  })

  it('re-encodes a model with outputs dropped and added, every other field as it was', () => {
    const bytes = encodeModel(model)
    const rewritten = withGraphOutputs(bytes, new Set(['probabilities']), [{ name: 'scores', elemType: ELEM.FLOAT }])
    const m = decodeModel(rewritten)
    expect(m.graph.outputs.map((o) => o.name)).toEqual(['label', 'scores'])
    expect(m.graph.outputs[1]!.type).toEqual({ kind: 'tensor', elemType: ELEM.FLOAT, shape: null })
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['LinearClassifier', 'ZipMap'])
    expect([...m.metadata]).toEqual([['key', 'value ✓']])
    expect(m.producerName).toBe('test')
    // nothing dropped, nothing added: the same fields (the graph moved to the end)
    expect(decodeModel(withGraphOutputs(bytes, new Set(), []))).toEqual(expect.objectContaining({ producerName: 'test', opsets: model.opsets }))
  })
})
