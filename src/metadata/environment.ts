// Where a model was trained: Node.js, OS, CPU, the project's lockfile and the versions of the libraries that were
// actually loaded.
import { readFile, realpath, stat } from 'node:fs/promises'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { hashFile } from '../hashing/index.js'
import { mlskelVersion, PACKAGE_ROOT } from '../package/index.js'

export const LOCKFILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'] as const

export interface Environment {
  node: string
  os: string
  arch: string
  cpu: string
  cpus: number
  lockfile: { file: (typeof LOCKFILES)[number]; sha256: string } | null
  dependencies: Record<string, string>
  mlskel: string
}

/**
 * The versions of the packages bundled into mlskel's build (scripts/build.ts defines them): those ran, whatever
 * version of them is installed beside mlskel. Undefined when mlskel runs from its sources (its tests, tsx).
 */
declare const __MLSKEL_BUNDLED_VERSIONS__: string | undefined
const BUNDLED_VERSIONS = (typeof __MLSKEL_BUNDLED_VERSIONS__ === 'undefined' ? {} : JSON.parse(__MLSKEL_BUNDLED_VERSIONS__)) as Record<string, string>

/**
 * Each recorded dependency and where Node.js resolves it from: the project (mlskel, DuckDB) and mlskel (zod, and
 * random-js, whose generator draws the trees' rows and features), so the version recorded is the one that ran: for
 * mlskel's own, the one bundled into the build that runs, else the one mlskel's folder resolves. The tree engine is
 * mlskel's own: its version is mlskel's. A package found nowhere is left out.
 */
const DEPENDENCIES: { name: string; from: 'project' | 'mlskel' }[] = [
  { name: 'mlskel', from: 'project' },
  { name: '@duckdb/node-api', from: 'project' },
  { name: 'zod', from: 'mlskel' },
  { name: 'random-js', from: 'mlskel' },
]

/** The environment of this process, for a project at `root`. */
export async function environmentOf(root: string): Promise<Environment> {
  const cpu = cpus()
  // the running mlskel's version, as its package.json says ('unknown' when it could not be read)
  const own = mlskelVersion()
  const dependencies: Record<string, string> = {}
  // The project's packages from its root, else from the current folder (a test may train a copy of the project
  // elsewhere); mlskel, when the project has none installed, is the one running.
  const fromProject = async (name: string) => (await findPackage(root, name)) ?? (await findPackage(process.cwd(), name))
  const mlskel = (await fromProject('mlskel')) ?? (own !== 'unknown' ? { dir: PACKAGE_ROOT, version: own } : undefined)
  for (const { name, from } of DEPENDENCIES) {
    const bundled = from === 'mlskel' ? BUNDLED_VERSIONS[name] : undefined
    const found = bundled !== undefined ? { version: bundled } : name === 'mlskel' ? mlskel : from === 'project' ? await fromProject(name) : await findPackage(mlskel?.dir ?? PACKAGE_ROOT, name)
    if (found) dependencies[name] = found.version
  }
  return {
    node: process.versions.node,
    os: process.platform,
    arch: process.arch,
    cpu: cpu[0]?.model.trim() || 'unknown',
    cpus: cpu.length,
    lockfile: await lockfileOf(root),
    dependencies,
    mlskel: own,
  }
}

/** The project's lockfile (the first of package-lock.json, pnpm-lock.yaml, yarn.lock at `root`) and its hash. */
async function lockfileOf(root: string): Promise<Environment['lockfile']> {
  for (const file of LOCKFILES) {
    const path = join(root, file)
    const isFile = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    )
    if (isFile) return { file, sha256: await hashFile(path) }
  }
  return null
}

/** `name` as Node.js resolves it from the folder `from`: node_modules/<name> there or in a parent folder. */
async function findPackage(from: string, name: string): Promise<{ dir: string; version: string } | undefined> {
  let dir = from
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    const found = await packageAt(candidate)
    if (found) return { dir: await realpath(candidate), version: found.version }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

async function packageAt(dir: string): Promise<{ version: string } | undefined> {
  try {
    const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: unknown }
    return typeof json.version === 'string' ? { version: json.version } : undefined
  } catch {
    return undefined
  }
}
