import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveRuntimeFrom } from './runtime.js'

const work = mkdtempSync(join(tmpdir(), 'mlskel-onnx-resolve-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** A folder with a package.json, and onnxruntime-node in its node_modules when `installed`. */
function folder(name: string, installed: boolean): string {
  const root = join(work, name)
  mkdirSync(root, { recursive: true })
  writeFileSync(join(root, 'package.json'), '{"private":true}')
  if (installed) {
    const pkg = join(root, 'node_modules', 'onnxruntime-node')
    mkdirSync(pkg, { recursive: true })
    writeFileSync(join(pkg, 'package.json'), '{"name":"onnxruntime-node","main":"index.js"}')
    writeFileSync(join(pkg, 'index.js'), '')
  }
  return pathToFileURL(join(root, 'package.json')).href
}

describe('resolveRuntimeFrom', () => {
  it('finds onnxruntime-node in the project when mlskel\'s own install has none (a global mlskel, npx)', () => {
    const global = folder('global-mlskel', false)
    const project = folder('project', true)
    expect(resolveRuntimeFrom([global, project])).toBe(join(work, 'project', 'node_modules', 'onnxruntime-node', 'index.js'))
  })

  it('prefers mlskel\'s own, and says why it found none with the first place\'s reason', () => {
    const own = folder('own', true)
    expect(resolveRuntimeFrom([own, folder('other', true)])).toBe(join(work, 'own', 'node_modules', 'onnxruntime-node', 'index.js'))
    expect(() => resolveRuntimeFrom([folder('a', false), folder('b', false)])).toThrow(/Cannot find module 'onnxruntime-node'/)
  })
})
