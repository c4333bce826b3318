// Atomic writes: a reader sees the old file or the new one, never half of either.
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { MlskelError } from '../errors/index.js'

/** Temp files and folders made by atomic writes start with this; hashing and listings skip them. */
export const TEMP_PREFIX = '.mlskel-tmp-'

export function tempPathFor(target: string): string {
  return join(dirname(target), `${TEMP_PREFIX}${basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`)
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
