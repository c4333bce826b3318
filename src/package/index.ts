// mlskel's own package: where it is installed and its version, read once. The sources (src/package/) and the build
// (an entry point in dist/, or a chunk in dist/chunks/ that bundles this module) sit at different depths under the
// package root, so the root is found by going up from this module to the first package.json of mlskel.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The folder of mlskel's package.json (its template/, schema/ and docs/ are there), with a trailing separator. */
export const PACKAGE_ROOT = join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), '/')

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (packageName(join(dir, 'package.json')) === 'mlskel') return dir
    // not found (never so in an installed package or a checkout): where src/ and dist/'s own folders put it
    if (dirname(dir) === dir) return join(from, '..', '..')
  }
}

function packageName(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name
  } catch {
    return undefined
  }
}

/** The URL of a script of the build, by its path under dist/ (a worker thread's entry point). */
export function distScript(path: string): URL {
  return pathToFileURL(join(PACKAGE_ROOT, 'dist', path))
}

let version: string | undefined

/** mlskel's version, as its package.json says ('unknown' if it cannot be read). */
export function mlskelVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
    } catch {
      version = 'unknown'
    }
  }
  return version
}
