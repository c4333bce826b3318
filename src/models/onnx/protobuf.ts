// Protocol Buffers' wire format, as far as ONNX files need it: a writer for the few messages an export builds and a
// reader that splits a message into its fields (kept as byte ranges, so that a model can be re-encoded with one
// field changed and everything else as it was).
//
// Written here rather than taken from protobufjs (the maintained choice): mlskel needs five field encodings and no
// schema. protobufjs would bring a runtime with long.js and either a copy of onnx.proto parsed at start or generated
// code for all of ONNX (ONNX's schema is ~900 lines, of which mlskel reads or writes about 60 fields); this codec is
// the ~200 lines below, and the test suite proves its output with ONNX's own checker and ONNX Runtime.
// Encoding reference: https://protobuf.dev/programming-guides/encoding/

/** Wire types: varint, 64-bit, length-delimited, 32-bit (groups, 3 and 4, are refused: ONNX has none). */
export type WireType = 0 | 1 | 2 | 5

/** A damaged message: the reader never reads past its buffer, and says where it stopped. */
export class ProtoError extends Error {
  override readonly name = 'ProtoError'
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Builds one message. A nested message is built by a writer of its own and copied in behind its length: a message
 * is at most a few levels deep (model, graph, node, attribute), so each byte is copied at most that many times.
 */
export class ProtoWriter {
  private buffer = new Uint8Array(256)
  private view = new DataView(this.buffer.buffer)
  private length = 0

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    let size = this.buffer.length * 2
    while (size < this.length + bytes) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
    this.view = new DataView(next.buffer)
  }

  /** A varint: non-negative integers up to 2^53 as numbers; an int64 below zero takes ten bytes (two's complement). */
  private rawVarint(value: number | bigint): void {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      this.reserve(8)
      let v = value
      while (v >= 0x80) {
        this.buffer[this.length++] = (v % 0x80) | 0x80
        v = Math.floor(v / 0x80)
      }
      this.buffer[this.length++] = v
      return
    }
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`${value} is not an integer protobuf can hold exactly`)
    let v = BigInt.asUintN(64, BigInt(value))
    this.reserve(10)
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buffer[this.length++] = Number(v)
  }

  private tag(field: number, wire: WireType): void {
    this.rawVarint(field * 8 + wire)
  }

  /** An int32, int64 or enum field. */
  int(field: number, value: number | bigint): this {
    this.tag(field, 0)
    this.rawVarint(value)
    return this
  }

  float(field: number, value: number): this {
    this.tag(field, 5)
    this.reserve(4)
    this.view.setFloat32(this.length, value, true)
    this.length += 4
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2)
    this.rawVarint(value.length)
    this.reserve(value.length)
    this.buffer.set(value, this.length)
    this.length += value.length
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value))
  }

  /** A nested message, built by `build` on a writer of its own. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter()
    build(inner)
    return this.bytes(field, inner.finish())
  }

  /** A repeated integer field, packed (one length-delimited run of varints, as proto3 writes them). */
  packedInts(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this
    const inner = new ProtoWriter()
    for (let i = 0; i < values.length; i++) inner.rawVarint(values[i]!)
    return this.bytes(field, inner.finish())
  }

  /** A repeated float field, packed: little-endian float32s (each value rounded to float32 as it is written). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this
    const data = new Uint8Array(values.length * 4)
    const view = new DataView(data.buffer)
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true)
    return this.bytes(field, data)
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

/** One field of a message as it is on the wire; `start` and `end` span the whole field, its tag included. */
export interface ProtoField {
  field: number
  wire: WireType
  /** A varint's value (int64 as two's complement: BigInt.asIntN(64, …) gives the signed value). */
  varint: bigint
  /** The payload of a length-delimited, 32-bit or 64-bit field (a view into the message, not a copy). */
  data: Uint8Array
  start: number
  end: number
}

function readVarint(bytes: Uint8Array, at: number): { value: bigint; next: number } {
  // the common case (values below 2^28) without BigInt arithmetic
  let small = 0
  for (let i = 0; i < 4; i++) {
    if (at + i >= bytes.length) throw new ProtoError(`a varint runs past the end of the message (byte ${at})`)
    const b = bytes[at + i]!
    small |= (b & 0x7f) << (7 * i)
    if (b < 0x80) return { value: BigInt(small >>> 0), next: at + i + 1 }
  }
  let value = BigInt(small >>> 0)
  for (let i = 4; i < 10; i++) {
    if (at + i >= bytes.length) throw new ProtoError(`a varint runs past the end of the message (byte ${at})`)
    const b = bytes[at + i]!
    value |= BigInt(b & 0x7f) << BigInt(7 * i)
    if (b < 0x80) return { value: BigInt.asUintN(64, value), next: at + i + 1 }
  }
  throw new ProtoError(`a varint longer than ten bytes (byte ${at})`)
}

/** The fields of a message in the order they are written. Throws ProtoError on a message that is not well formed. */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = []
  let at = 0
  while (at < bytes.length) {
    const start = at
    const key = readVarint(bytes, at)
    at = key.next
    const field = Number(key.value >> 3n)
    const wire = Number(key.value & 7n)
    if (field === 0) throw new ProtoError(`field number 0 at byte ${start}`)
    if (wire === 0) {
      const v = readVarint(bytes, at)
      at = v.next
      fields.push({ field, wire, varint: v.value, data: bytes.subarray(start, start), start, end: at })
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4
      if (at + size > bytes.length) throw new ProtoError(`a ${size * 8}-bit field runs past the end of the message (byte ${start})`)
      fields.push({ field, wire, varint: 0n, data: bytes.subarray(at, at + size), start, end: at + size })
      at += size
    } else if (wire === 2) {
      const length = readVarint(bytes, at)
      at = length.next
      if (length.value > BigInt(bytes.length - at)) throw new ProtoError(`a field of ${length.value} bytes runs past the end of the message (byte ${start})`)
      const end = at + Number(length.value)
      fields.push({ field, wire, varint: 0n, data: bytes.subarray(at, end), start, end })
      at = end
    } else {
      throw new ProtoError(`wire type ${wire} at byte ${start} (not one protobuf writes for ONNX)`)
    }
  }
  return fields
}

// ---------------------------------------------------------------------------------------------------------------
// Reading typed values from fields

function expectWire(f: ProtoField, wire: WireType, what: string): void {
  if (f.wire !== wire) throw new ProtoError(`field ${f.field} (${what}) has wire type ${f.wire}, not ${wire}`)
}

/** An int64 field as a number (int64 values beyond 2^53 do not occur in the fields mlskel reads). */
export function intOf(f: ProtoField): number {
  expectWire(f, 0, 'an integer')
  return Number(BigInt.asIntN(64, f.varint))
}

export function stringOf(f: ProtoField): string {
  expectWire(f, 2, 'a string')
  try {
    return textDecoder.decode(f.data)
  } catch {
    throw new ProtoError(`field ${f.field} is not UTF-8 text`)
  }
}

export function floatOf(f: ProtoField): number {
  expectWire(f, 5, 'a float')
  return new DataView(f.data.buffer, f.data.byteOffset, 4).getFloat32(0, true)
}

/** A repeated integer field: its values, packed (wire type 2) or one field per value (wire type 0), in order. */
export function intsOf(fields: readonly ProtoField[]): number[] {
  const out: number[] = []
  for (const f of fields) {
    if (f.wire === 0) {
      out.push(intOf(f))
      continue
    }
    expectWire(f, 2, 'packed integers')
    let at = 0
    while (at < f.data.length) {
      const v = readVarint(f.data, at)
      out.push(Number(BigInt.asIntN(64, v.value)))
      at = v.next
    }
  }
  return out
}

/** A repeated float field: its values, packed or not, in order. */
export function floatsOf(fields: readonly ProtoField[]): number[] {
  const out: number[] = []
  for (const f of fields) {
    if (f.wire === 5) {
      out.push(floatOf(f))
      continue
    }
    expectWire(f, 2, 'packed floats')
    if (f.data.length % 4 !== 0) throw new ProtoError(`packed floats of ${f.data.length} bytes`)
    const view = new DataView(f.data.buffer, f.data.byteOffset, f.data.length)
    for (let i = 0; i < f.data.length; i += 4) out.push(view.getFloat32(i, true))
  }
  return out
}

/** The fields of a message grouped by number, each list in the order written. */
export function byNumber(fields: readonly ProtoField[]): Map<number, ProtoField[]> {
  const map = new Map<number, ProtoField[]>()
  for (const f of fields) {
    const list = map.get(f.field)
    if (list) list.push(f)
    else map.set(f.field, [f])
  }
  return map
}

/**
 * A singular field as protobuf reads it: the last occurrence wins, except that a message field that occurs more than
 * once is the merge of all of them (for messages on the wire, merging is concatenating).
 */
export function lastOf(map: Map<number, ProtoField[]>, field: number): ProtoField | undefined {
  const list = map.get(field)
  return list?.[list.length - 1]
}

export function mergedMessage(map: Map<number, ProtoField[]>, field: number): Uint8Array | undefined {
  const list = map.get(field)
  if (!list) return undefined
  for (const f of list) expectWire(f, 2, 'a message')
  if (list.length === 1) return list[0]!.data
  return concatBytes(list.map((f) => f.data))
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
