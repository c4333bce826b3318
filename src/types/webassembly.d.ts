// The part of the WebAssembly JavaScript API the training engine uses (src/models/engine/arena.ts). Node.js has it
// as a global, but @types/node 20 does not declare it, and TypeScript declares it only in its DOM libraries.
declare namespace WebAssembly {
  interface MemoryDescriptor {
    initial: number
    maximum?: number
    shared?: boolean
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor)
    readonly buffer: ArrayBuffer | SharedArrayBuffer
    grow(delta: number): number
  }
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer)
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>)
    readonly exports: Record<string, unknown>
  }
}
