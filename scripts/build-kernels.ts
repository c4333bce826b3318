// npm run kernels: assemble src/models/engine/kernels.wat with wabt into kernels-wasm.ts (the module's bytes as
// base64), so the engine needs no build step of its own and no .wasm file.
// src/models/engine/kernels.test.ts checks that the committed file is what this script makes of the .wat.
import { readFileSync, writeFileSync } from 'node:fs'
import { assembleKernels } from '../src/models/engine/test-kernels.js'

const dir = new URL('../src/models/engine/', import.meta.url)
const source = readFileSync(new URL('kernels.wat', dir), 'utf8')
writeFileSync(new URL('kernels-wasm.ts', dir), await assembleKernels(source))
console.log('wrote src/models/engine/kernels-wasm.ts')
