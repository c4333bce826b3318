// mlskel's own package: where it is installed and its version, read once. src/ and dist/ both sit one level under
// the package root, so the same relative path works from the sources (tests, tsx) and from the build.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The folder of mlskel's package.json (its template/, schema/ and docs/ are there). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))

let version: string | undefined

/** mlskel's version, as its package.json says ('unknown' if it cannot be read). */
export function mlskelVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown'
    } catch {
      version = 'unknown'
    }
  }
  return version
}
