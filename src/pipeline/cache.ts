// mlskel's memory of what it already validated: mlskel.yaml's checked stages and params values, and the lock
// file's contents, each keyed by a hash of the text they came from. A no-op run that finds its files unchanged
// uses them and never loads zod or the YAML parser; any change in a file means a full validation.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../fs/index.js'
import type { Stage } from './graph.js'
import type { LockFile } from './lock-types.js'
import { STATE_CACHE_FILE } from '../project/files.js'
import { mlskelVersion } from '../package/index.js'
export { STATE_CACHE_FILE }

export interface CachedPipeline {
  /** Hash of mlskel's version, mlskel.yaml, params.yaml and the overrides. */
  key: string
  stages: Stage[]
  paramValues: Record<string, unknown>
  checks?: Record<string, unknown>
}

export interface CachedLock {
  /** sha256 of mlskel.lock's text. */
  sha: string
  data: LockFile
}

interface CacheShape {
  version: 1
  pipeline?: CachedPipeline
  lock?: CachedLock
}

/** mlskel's own version: a new mlskel validates afresh, as its rules may have changed. */
export const MLSKEL_VERSION: string = mlskelVersion()

export class StateCache {
  pipeline: CachedPipeline | undefined
  lock: CachedLock | undefined
  private dirty = false

  private constructor(private readonly file: string) {}

  /** The cache at `root`; empty when missing, corrupt or of another format (it is only ever advisory). */
  static async open(root: string): Promise<StateCache> {
    const cache = new StateCache(join(root, STATE_CACHE_FILE))
    try {
      const parsed = JSON.parse(await readFile(cache.file, 'utf8')) as Partial<CacheShape>
      if (parsed.version === 1) {
        cache.pipeline = typeof parsed.pipeline?.key === 'string' && Array.isArray(parsed.pipeline.stages) ? parsed.pipeline : undefined
        cache.lock = typeof parsed.lock?.sha === 'string' && typeof parsed.lock.data === 'object' ? parsed.lock : undefined
      }
    } catch {
      // start empty
    }
    return cache
  }

  setPipeline(value: CachedPipeline): void {
    this.pipeline = value
    this.dirty = true
  }

  setLock(value: CachedLock): void {
    this.lock = value
    this.dirty = true
  }

  async save(): Promise<void> {
    if (!this.dirty) return
    const shape: CacheShape = { version: 1, pipeline: this.pipeline, lock: this.lock }
    await writeFileAtomic(this.file, JSON.stringify(shape))
    this.dirty = false
  }
}
