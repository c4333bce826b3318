// mlskel's own package: where it is installed and its version, read once. The sources (src/package/) and the build
// (an entry point in dist/, or a chunk in dist/chunks/ that bundles this module) sit at different depths under the
// package root, so the root is found by going up from this module to the first package.json of mlskel.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const own = findPackage(dirname(fileURLToPath(import.meta.url)))

/** The folder of mlskel's package.json (its template/, schema/ and docs/ are there), with a trailing separator. */
export const PACKAGE_ROOT = join(own.dir, '/')

/** mlskel's folder and the version its package.json says, from the first package.json of mlskel above `from`. */
function findPackage(from: string): { dir: string; version: string | undefined } {
  for (let dir = from; ; dir = dirname(dir)) {
    const json = readPackageJson(join(dir, 'package.json'))
    if (json?.name === 'mlskel') return { dir, version: typeof json.version === 'string' ? json.version : undefined }
    // not found (never so in an installed package or a checkout): where src/ and dist/'s own folders put it
    if (dirname(dir) === dir) return { dir: join(from, '..', '..'), version: undefined }
  }
}

function readPackageJson(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown }
  } catch {
    return undefined
  }
}

/** The URL of a script of the build, by its path under dist/ (a worker thread's entry point). */
export function distScript(path: string): URL {
  return pathToFileURL(join(PACKAGE_ROOT, 'dist', path))
}

/** mlskel's version, as its package.json says ('unknown' if it cannot be read). */
export function mlskelVersion(): string {
  return own.version ?? 'unknown'
}
