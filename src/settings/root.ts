// Finding the project root: kept apart from the settings schema so that commands on the fast path (a no-op
// `mlskel run`) can find the project without loading zod.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { MlskelError } from '../errors/index.js'

export const PROJECT_FILE = 'mlskel.yaml'
/** The one file a user edits to say what the project learns (its schema and reader are src/params/). */
export const PARAMS_FILE = 'params.yaml'
/**
 * The largest YAML file mlskel reads: params.yaml and mlskel.yaml are a few kilobytes; a file far larger is a
 * mistake or an attack, refused before it costs the memory of a parse.
 */
export const MAX_YAML_BYTES = 1024 * 1024

/** The project root: the nearest folder at or above `from` holding mlskel.yaml. */
export function findProjectRoot(from = process.cwd()): string {
  let dir = resolve(from)
  for (;;) {
    if (existsSync(join(dir, PROJECT_FILE))) return dir
    const parent = dirname(dir)
    if (parent === dir) {
      throw new MlskelError('MLSKEL_PROJECT_NOT_FOUND', `no ${PROJECT_FILE} in ${resolve(from)} or any folder above it`)
    }
    dir = parent
  }
}
