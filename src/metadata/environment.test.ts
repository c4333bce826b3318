import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hashBytes } from '../hashing/index.js'
import { environmentOf } from './environment.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-environment-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function fakePackage(dir: string, name: string, version: string): Promise<void> {
  await mkdir(join(dir, 'node_modules', name), { recursive: true })
  await writeFile(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }))
}

describe('environmentOf', () => {
  it('gives Node.js, OS, CPU and mlskel\'s own version, and no lockfile when the project has none', async () => {
    const own = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const environment = await environmentOf(root)
    expect(environment).toMatchObject({ node: process.versions.node, os: process.platform, arch: process.arch, lockfile: null, mlskel: own.version })
    expect(environment.cpu.length).toBeGreaterThan(0)
    expect(environment.cpus).toBeGreaterThan(0)
  })

  it('hashes the project\'s lockfile, npm\'s first', async () => {
    await writeFile(join(root, 'yarn.lock'), '# yarn\n')
    expect((await environmentOf(root)).lockfile).toEqual({ file: 'yarn.lock', sha256: hashBytes('# yarn\n') })
    await writeFile(join(root, 'package-lock.json'), '{}\n')
    expect((await environmentOf(root)).lockfile).toEqual({ file: 'package-lock.json', sha256: hashBytes('{}\n') })
  })

  it('reads the versions installed in the project, resolved as Node.js would, leaving out what is not installed', async () => {
    const project = join(root, 'project')
    await fakePackage(root, 'random-js', '2.1.0') // hoisted above the project
    await fakePackage(project, 'mlskel', '9.1.0')
    await fakePackage(project, '@duckdb/node-api', '1.2.3')
    await fakePackage(join(project, 'node_modules', 'mlskel'), 'zod', '4.0.0') // nested under mlskel
    await fakePackage(project, 'zod', '3.0.0') // the project's own, not the one mlskel loads
    const { dependencies } = await environmentOf(project)
    expect(dependencies).toEqual({ mlskel: '9.1.0', '@duckdb/node-api': '1.2.3', zod: '4.0.0', 'random-js': '2.1.0' })
  })
})
