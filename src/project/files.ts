// What a project is on disk: the names of its files and of mlskel's state in it, how its root is found, and the one
// reader of mlskel.yaml's text. No zod and no YAML here, so the CLI's fast paths (a no-op `mlskel run`) import this
// module freely; the schema of mlskel.yaml and its parsed readers are in config.ts.
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { MlskelError } from '../errors/index.js'

/** The file that makes a folder an mlskel project: the pipeline's stages, external inputs and the checks. */
export const PROJECT_FILE = 'mlskel.yaml'
/** The one file a user edits to say what the project learns (its schema and reader are src/params/). */
export const PARAMS_FILE = 'params.yaml'
/** The state of each stage at its last successful run, written by `mlskel run`. */
export const LOCK_FILE = 'mlskel.lock'
/** mlskel's own state in a project (hash cache, run lock, caches): not committed. */
export const STATE_DIR = '.mlskel'
/** `mlskel run`'s lock: one run per project at a time (src/pipeline/run-lock.ts). */
export const RUN_LOCK_FILE = `${STATE_DIR}/run.lock`
/** Content hashes of files by their stat, shared by the pipeline and `mlskel check`. */
export const HASH_CACHE_FILE = `${STATE_DIR}/cache/hashes.json`
/** What earlier runs validated of the pipeline (src/pipeline/cache.ts). */
export const STATE_CACHE_FILE = `${STATE_DIR}/cache/pipeline.json`
/** The project's settings (src/settings/): never committed. */
export const ENV_FILE = '.env'
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

export function yamlTooLarge(file: string, bytes: number): MlskelError {
  return new MlskelError('MLSKEL_YAML_TOO_LARGE', `${file} is ${(bytes / 1024 / 1024).toFixed(1)} MiB; mlskel reads YAML files of at most ${MAX_YAML_BYTES / 1024 / 1024} MiB`, { where: { file } })
}

/** A YAML file's text, refused over MAX_YAML_BYTES before it is read; undefined when it does not exist. */
export async function readYamlText(path: string, displayName: string): Promise<string | undefined> {
  try {
    const size = (await stat(path)).size
    if (size > MAX_YAML_BYTES) throw yamlTooLarge(displayName, size)
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** mlskel.yaml's text at `root`, or undefined when there is none: the one place mlskel.yaml is read from disk. */
export function readProjectText(root: string): Promise<string | undefined> {
  return readYamlText(join(root, PROJECT_FILE), PROJECT_FILE)
}
