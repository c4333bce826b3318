// One training's memory: a shared WebAssembly memory holding the binned data, gradients, row index and histograms,
// so that the WebAssembly kernels (kernels.wat), this thread's code and the worker threads all work on the same
// bytes. Allocation is a bump pointer: everything lives as long as the training. The memory is shared even for one
// thread, so that growing it never detaches a view (growth of an unshared memory would).
import { KERNELS } from './kernels-wasm.js'

const PAGE = 65536
/** WebAssembly's 32-bit limit: 4 GiB. */
const MAX_PAGES = 65536

export interface Kernels {
  build(bins: number, rows: number, index: number, start: number, end: number, g: number, h: number, hist: number, f0: number, f1: number, width: number): void
  build_constant(bins: number, rows: number, index: number, start: number, end: number, g: number, h: number, hist: number, f0: number, f1: number, width: number): void
  zero(ptr: number, bytes: number): void
  subtract(parent: number, small: number, count: number): void
  partition(index: number, start: number, end: number, column: number, table: number, scratch: number): number
  /** XGBoost's trees over rows [from, to): see kernels.wat and xgboost-trees.ts. */
  xgboost_sums(nodes: number, sets: number, trees: number, ntrees: number, rows: number, rowBytes: number, from: number, to: number, out: number, outRow: number, idx: number, block: number): void
  /** raw[index[i]] += value for i in [start, end) (raw a byte address of f64s). */
  add_leaf(index: number, start: number, end: number, raw: number, value: number): void
}

let compiled: WebAssembly.Module | undefined

/** The kernels' compiled module, compiled once per thread. */
export function kernelsModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNELS, 'base64'))
  return compiled
}

export function instantiateKernels(memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(kernelsModule(), { env: { memory } })
  return instance.exports as unknown as Kernels
}

export class Arena {
  readonly kernels: Kernels
  private top = 64 // address 0 stays unused, so that a pointer is never 0

  private constructor(readonly memory: WebAssembly.Memory) {
    this.kernels = instantiateKernels(memory)
  }

  /** An arena of at least `bytes`, growing later as needed. */
  static create(bytes: number): Arena {
    const initial = Math.min(MAX_PAGES, Math.max(1, Math.ceil((bytes + 1024) / PAGE)))
    if (bytes > MAX_PAGES * PAGE - 1024) throw new RangeError(`training needs ${Math.ceil(bytes / 2 ** 20)} MiB of working memory, more than WebAssembly's 4 GiB`)
    return new Arena(new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true }))
  }

  /** `bytes` bytes, aligned to 16, zeroed (fresh memory is zero; nothing is ever freed). */
  alloc(bytes: number): number {
    const ptr = this.top
    const end = ptr + Math.ceil(bytes / 16) * 16
    const have = this.memory.buffer.byteLength
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE)
      if (have / PAGE + pages > MAX_PAGES) throw new RangeError(`training needs more than WebAssembly's 4 GiB of working memory`)
      // grow by at least a quarter, so that histogram slots added one by one do not grow it each time
      this.memory.grow(Math.min(MAX_PAGES - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 4))))
    }
    this.top = end
    return ptr
  }

  f64(length: number): { ptr: number; view: Float64Array } {
    const ptr = this.alloc(length * 8)
    return { ptr, view: new Float64Array(this.memory.buffer, ptr, length) }
  }

  i32(length: number): { ptr: number; view: Int32Array } {
    const ptr = this.alloc(length * 4)
    return { ptr, view: new Int32Array(this.memory.buffer, ptr, length) }
  }

  u8(length: number): { ptr: number; view: Uint8Array } {
    const ptr = this.alloc(length)
    return { ptr, view: new Uint8Array(this.memory.buffer, ptr, length) }
  }
}
