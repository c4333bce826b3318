// Writing outputs atomically, and naming files relative to the project for humans and metadata.
import { mkdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path'
import { randomBytes } from 'node:crypto'
import { MlskelError } from 'mlskel'

/** mlskel's prefix for temp files: its hashing and `mlskel run` skip them, so a crash leaves nothing that counts. */
const TEMP_PREFIX = '.mlskel-tmp-'

/**
 * Write several files so that each appears complete or not at all: `write` fills temp files beside the targets,
 * which are then renamed over them (a rename is atomic). A failure removes the temps and leaves the old files.
 */
export async function writeOutputs(targets: readonly string[], write: (temps: string[]) => Promise<void>): Promise<void> {
  const temps = targets.map((target) => join(dirname(target), `${TEMP_PREFIX}${basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`))
  try {
    await Promise.all(targets.map((target) => mkdir(dirname(target), { recursive: true })))
    await write(temps)
    for (const [i, temp] of temps.entries()) await rename(temp, targets[i]!)
  } catch (error) {
    await Promise.all(temps.map((temp) => rm(temp, { force: true })))
    if (error instanceof MlskelError) throw error
    const reason = error instanceof Error ? error.message : String(error)
    throw new MlskelError('MLSKEL_WRITE_FAILED', `could not write ${targets.join(', ')}: ${reason}`, { cause: error })
  }
}

/**
 * `path` relative to the project root with '/' separators, as shown to users and stored in metadata; a path outside
 * the project (an external input declared in mlskel.yaml) stays absolute, as mlskel.yaml names it.
 */
export function projectRelative(root: string, path: string): string {
  const rel = relative(root, path)
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? path : rel.split(sep).join('/')
}
