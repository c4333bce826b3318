// The build (scripts/build.ts) as it left dist/: bundles and declarations, the licences of what it bundled, and its
// guard against dynamic imports in the large files a stage loads.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Metafile } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { canonicalDeclarations, checkDynamicImports } from '../scripts/build.js'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))

describe('dist/', () => {
  it('holds a bundle per entry point, shared chunks, and the declarations of every module', () => {
    for (const entry of ['index.js', 'serve/index.js', 'report/index.js', 'cli/index.js', 'models/engine/worker.js', 'models/onnx/host.js']) expect(existsSync(join(dist, entry)), entry).toBe(true)
    // a module bundled into a chunk has its declarations only, and no test helper's are shipped
    expect(existsSync(join(dist, 'models', 'index.d.ts'))).toBe(true)
    expect(existsSync(join(dist, 'models', 'index.js'))).toBe(false)
    expect(existsSync(join(dist, 'scaffold', 'test-project.d.ts'))).toBe(false)
    expect(readFileSync(join(dist, 'cli', 'index.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
  })

  it('carries the licence of each package it bundles', () => {
    const licences = readFileSync(join(dist, 'THIRD-PARTY-LICENSES'), 'utf8')
    for (const name of ['zod', 'yaml', 'commander', 'random-js']) {
      const { version, license } = JSON.parse(readFileSync(fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url)), 'utf8')) as { version: string; license: string }
      expect(licences).toContain(`${name}@${version} (${license})`)
    }
    expect(licences).toContain('Permission is hereby granted, free of charge')
  })

  it("bundles zod's English messages and none of its other locales, and zod still speaks English", async () => {
    const bundled = readdirSync(join(dist, 'chunks')).filter((f) => f.endsWith('.js')).flatMap((f) => [...readFileSync(join(dist, 'chunks', f), 'utf8').matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/(\S+)$/gm)].map((m) => m[1]))
    expect(bundled.sort()).toEqual(['en.js', 'index.js'])
    const { paramsSchema } = (await import(pathToFileURL(join(dist, 'index.js')).href)) as typeof import('../src/index.js')
    const parsed = paramsSchema().safeParse({ task: 'clustering' })
    expect(parsed.success).toBe(false)
    expect(parsed.error!.issues.map((issue) => issue.message).join('\n')).toMatch(/^Invalid option: expected one of/m)
  })

  it('maps every bundle back to files that are there (vitest warns of a source map that names missing ones)', () => {
    const maps = readdirSync(dist, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.js.map'))
    expect(maps.map((entry) => entry.name)).toContain('index.js.map')
    const missing = maps.flatMap((entry) => {
      const map = JSON.parse(readFileSync(join(entry.parentPath, entry.name), 'utf8')) as { sourceRoot?: string; sources: string[] }
      return map.sources.filter((source) => !existsSync(resolve(entry.parentPath, map.sourceRoot ?? '', source))).map((source) => `${entry.name}: ${source}`)
    })
    expect(missing).toEqual([])
  })
})

describe('the guard against dynamic imports', () => {
  const metafile = (outputs: Record<string, { bytes: number; imports: { path: string; kind: string; external?: boolean }[] }>) => ({ inputs: {}, outputs }) as unknown as Metafile
  const index = { bytes: 5_000, imports: [{ path: 'dist/chunks/big.js', kind: 'import-statement' }] }

  it('refuses a large file that import \'mlskel\' loads and that holds an import()', () => {
    const built = metafile({ 'dist/index.js': index, 'dist/chunks/big.js': { bytes: 700_000, imports: [{ path: 'dist/chunks/lazy.js', kind: 'dynamic-import' }] }, 'dist/chunks/lazy.js': { bytes: 100, imports: [] } })
    expect(() => checkDynamicImports(built)).toThrow(/dist\/chunks\/big\.js \(684 kB\): import\(dist\/chunks\/lazy\.js\)/)
  })

  it('lets a small file hold one, and the CLI, which tsx never loads', () => {
    const built = metafile({
      'dist/index.js': { bytes: 5_000, imports: [{ path: 'dist/chunks/small.js', kind: 'import-statement' }, { path: 'dist/chunks/big.js', kind: 'import-statement' }] },
      'dist/chunks/small.js': { bytes: 4_000, imports: [{ path: 'dist/chunks/lazy.js', kind: 'dynamic-import' }] },
      'dist/chunks/big.js': { bytes: 700_000, imports: [] },
      'dist/cli/index.js': { bytes: 140_000, imports: [{ path: 'dist/chunks/lazy.js', kind: 'dynamic-import' }] },
      'dist/chunks/lazy.js': { bytes: 100, imports: [] },
    })
    expect(() => checkDynamicImports(built)).not.toThrow()
  })
})

describe('the declarations', () => {
  it('list the members of string unions and enums sorted, whichever order tsc met them in', () => {
    const written = ['type Kind = "regression" | "classification";', 'format: z.ZodEnum<{', '    iso: "iso";', '    "%d/%m/%Y": "%d/%m/%Y";', '    hour: "hour";', '}>;', 'let a: "b | c" | "a"[] | "z" | "y";', '    label: "name";', '    other: "other";'].join('\n')
    expect(canonicalDeclarations(written).split('\n')).toEqual([
      'type Kind = "classification" | "regression";',
      'format: z.ZodEnum<{',
      '    "%d/%m/%Y": "%d/%m/%Y";',
      '    hour: "hour";',
      '    iso: "iso";',
      '}>;',
      // a literal holding " | " stays whole; an array of a literal is not a member to move
      'let a: "b | c" | "a"[] | "y" | "z";',
      // an object type's properties keep their order: only an enum's entries (key and value alike) move
      '    label: "name";',
      '    other: "other";',
    ])
  })
})
