// Test helper: a real CheckContext for a project folder, built the way `mlskel check` builds one, so rule tests
// run against temp folders without the CLI. Not shipped (the build leaves out src/**/test-*.ts).
import { join } from 'node:path'
import type { z } from 'zod'
import { Hasher, type HasherOptions } from '../hashing/index.js'
import { HASH_CACHE_FILE } from '../pipeline/index.js'
import { projectPaths, settingsSchema } from '../settings/index.js'
import { gitTrackedFiles } from './index.js'
import { checksSchema } from './schema.js'
import type { CheckContext } from './types.js'

export interface MakeContextOptions extends Partial<Omit<CheckContext, 'root' | 'config'>> {
  /** The `checks:` section as written in mlskel.yaml; defaults applied. Default: {}. */
  config?: z.input<typeof checksSchema>
  /** Settings as in .env (DATA_RAW, MODEL_DIR, ...), used for `paths` when `paths` is not given. Default: {}. */
  settings?: z.input<typeof settingsSchema>
  /** Options of the default hasher (e.g. `now` moved forward, so that files just written are cached). */
  hasherOptions?: HasherOptions
}

/**
 * A CheckContext for `root`: default config and settings, files tracked per `git ls-files` (undefined outside a
 * git work tree), a hasher with the project's stat cache (HASH_CACHE_FILE) and a silent progress.
 * Any field can be replaced through `options`; trackedFiles and hasher are computed once, as the runner does.
 */
export function makeContext(root: string, options: MakeContextOptions = {}): CheckContext {
  const { config, settings, hasherOptions, ...overrides } = options
  return {
    root,
    config: checksSchema.parse(config ?? {}),
    paths: projectPaths(root, settingsSchema.parse(settings ?? {})),
    acceptRaw: false,
    trackedFiles: once(() => gitTrackedFiles(root)),
    hasher: once(() => Hasher.open(join(root, HASH_CACHE_FILE), hasherOptions)),
    progress: () => undefined,
    ...overrides,
  }
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined
  return () => (value ??= make())
}
