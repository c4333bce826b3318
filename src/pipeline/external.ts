// External inputs (mlskel.yaml's `external:`): raw data the project reads in place, outside it. Declared, such a path
// may be a stage's dep (its hash then decides when the stage runs), params.yaml's dataset.raw, and an entry of the raw
// data manifest; undeclared, it is refused wherever it appears, since neither git nor the hashes would see it.
import { join } from 'node:path'
import { z } from 'zod'
import { readYaml, validateYaml } from '../config/index.js'
import { isMlskelError } from '../errors/index.js'
import { PROJECT_FILE } from '../settings/root.js'
import { externalSchema, normalizeProjectPath } from './schema.js'

/** An external input as written in mlskel.yaml, normalized (`/mnt//data/` → `/mnt/data`): how deps and params name it. */
export function normalizeExternal(path: string): string {
  return normalizeProjectPath(path)
}

/**
 * The external inputs mlskel.yaml at `root` declares, normalized; none without mlskel.yaml. A declaration that does not
 * validate throws MLSKEL_PIPELINE_INVALID with its line (the rest of the file is the pipeline's to check).
 */
export async function readExternalInputs(root: string): Promise<string[]> {
  let source
  try {
    source = await readYaml(join(root, PROJECT_FILE), PROJECT_FILE)
  } catch (error) {
    if (isMlskelError(error) && error.code === 'MLSKEL_FILE_MISSING') return []
    throw error
  }
  const { external } = validateYaml(source, z.looseObject({ external: externalSchema.optional() }), 'MLSKEL_PIPELINE_INVALID')
  return (external ?? []).map(normalizeExternal)
}
