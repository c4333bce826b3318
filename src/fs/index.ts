// Atomic writes: a reader sees the old file or the new one, never half of either. And the sweep of the temp files and
// folders that writers killed half-way (a crash, SIGKILL, a power cut) leave behind.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { MlskelError } from '../errors/index.js'
import { isProcessAlive } from '../process/index.js'

/** Temp files and folders made by atomic writes start with this; hashing and listings skip them. */
export const TEMP_PREFIX = '.mlskel-tmp-'

/** `<dir>/.mlskel-tmp-<name>-<pid>-<8 hex digits>`: the writer's pid in the name tells a dead writer's temp from a live one's. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `${TEMP_PREFIX}${basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** The pid of the process that made temp file or folder `name` (tempPathFor's form); undefined for any other name. */
export function tempOwner(name: string): number | undefined {
  if (!name.startsWith(TEMP_PREFIX)) return undefined
  const pid = /-(\d{1,10})-[0-9a-f]{8}$/.exec(name)?.[1]
  return pid === undefined ? undefined : Number(pid)
}

export interface SweepTarget {
  dir: string
  /** Also sweep the folders below (default: true). */
  recursive?: boolean
}

/**
 * Remove the temp files and folders under `targets` whose writer is no longer running: what a writer killed between
 * its temp write and its rename left. A temp of a live process is its write in progress, and is kept; so is any
 * name not in tempPathFor's form. A folder that does not exist is skipped. Returns the paths removed.
 */
export async function sweepStaleTemps(targets: readonly SweepTarget[], isAlive: (pid: number) => boolean = isProcessAlive): Promise<string[]> {
  const removed: string[] = []
  const visit = async (dir: string, recursive: boolean): Promise<void> => {
    let entries
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      throw error
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      const owner = tempOwner(entry.name)
      if (owner !== undefined) {
        if (owner === process.pid || isAlive(owner)) continue
        await rm(path, { recursive: true, force: true })
        removed.push(path)
      } else if (recursive && entry.isDirectory() && !entry.name.startsWith(TEMP_PREFIX)) {
        await visit(path, true)
      }
    }
  }
  for (const target of targets) await visit(target.dir, target.recursive !== false)
  return removed
}

/** Write `data` to `path` atomically: to a temp file beside it, flushed to disk, then renamed over it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(path)
  try {
    await mkdir(dirname(path), { recursive: true })
    const handle = await open(temp, 'wx')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
  } catch (error) {
    await discard(temp)
    throw writeFailed(path, error)
  }
}

/**
 * Fill a folder atomically: `fill` writes into a temp folder, which is then renamed to `path`.
 * When `path` already exists it is replaced only if `replace` is set; otherwise the new copy is discarded.
 */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>, options: { replace?: boolean } = {}): Promise<'created' | 'kept' | 'replaced'> {
  const temp = tempPathFor(path)
  try {
    await mkdir(temp, { recursive: true })
    await fill(temp)
    try {
      await rename(temp, path)
      return 'created'
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
      if (!options.replace) {
        await rm(temp, { recursive: true, force: true })
        return 'kept'
      }
      const old = tempPathFor(path)
      await rename(path, old)
      await rename(temp, path)
      await rm(old, { recursive: true, force: true })
      return 'replaced'
    }
  } catch (error) {
    await discard(temp)
    throw writeFailed(path, error)
  }
}

/** Remove a temp file or folder after a failure; a failure to clean up must not hide the first error. */
async function discard(temp: string): Promise<void> {
  await rm(temp, { recursive: true, force: true }).catch(() => undefined)
}

function writeFailed(path: string, error: unknown): unknown {
  if (error instanceof MlskelError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new MlskelError('MLSKEL_WRITE_FAILED', `could not write ${path}: ${reason}`, { where: { file: path }, cause: error })
}

export { tryLock, readLock, breakLock, type LockOwner, type LockState, type HeldLock } from './lock.js'
