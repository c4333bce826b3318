// mlskel.lock: each stage's command, input hashes, params and output hashes at its last successful run. It is
// what makes a no-op `mlskel run` skip every stage, and it is meant to be committed.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../fs/index.js'
import { hashBytes } from '../hashing/index.js'
import type { CachedLock } from './cache.js'
import type { LockFile, StageRecord } from './lock-types.js'
import { LOCK_FILE } from '../project/files.js'

export type { LockFile, StageRecord }

export { LOCK_FILE }

const HEADER = [
  '# mlskel.lock: the state of each pipeline stage at its last successful run (command, input and output hashes,',
  '# params). Written by `mlskel run`; do not edit it by hand. Commit it, so that everyone skips what is up to date.',
].join('\n')

/**
 * The lock file at `root`, or an empty one when there is none yet; a malformed one is an error, not a reset.
 * `known` is what an earlier read or write found: when the text is unchanged it is reused without parsing.
 */
export async function readLockFile(root: string, known?: CachedLock): Promise<{ lock: LockFile; sha: string | undefined }> {
  let text: string
  try {
    text = await readFile(join(root, LOCK_FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lock: { schema_version: 1, stages: {} }, sha: undefined }
    throw error
  }
  const sha = hashBytes(text)
  if (known?.sha === sha) return { lock: known.data, sha }
  const [{ parseYaml, validateYaml }, { lockFileSchema }] = await Promise.all([import('../config/index.js'), import('./schema.js')])
  return { lock: validateYaml(parseYaml(text, LOCK_FILE), lockFileSchema, 'MLSKEL_LOCK_INVALID'), sha }
}

/**
 * Write the lock atomically, stages in `order` (mlskel.yaml's), dropping records of stages no longer declared.
 * Returns what was written, with the sha256 of its text, for the next read to reuse.
 */
export async function writeLockFile(root: string, lock: LockFile, order: readonly string[]): Promise<CachedLock> {
  const stages: Record<string, StageRecord> = {}
  for (const name of order) {
    const record = lock.stages[name]
    if (record) stages[name] = record
  }
  const { stringifyYaml } = await import('../config/index.js')
  const data: LockFile = { schema_version: 1, stages }
  const text = `${HEADER}\n${stringifyYaml(data, { lineWidth: 0 })}`
  await writeFileAtomic(join(root, LOCK_FILE), text)
  return { sha: hashBytes(text), data }
}
