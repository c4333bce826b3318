// Content hashes: streaming SHA-256 of files, folders hashed from their files, and a stat cache so unchanged
// files are never read twice.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { writeFileAtomic, TEMP_PREFIX } from '../fs/index.js'

export type Digest = string

/** SHA-256 of a file's bytes, streamed: memory stays flat whatever the size. */
export function hashFile(path: string): Promise<Digest> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
  })
}

export function hashBytes(data: string | Uint8Array): Digest {
  return createHash('sha256').update(data).digest('hex')
}

/** Every regular file below `dir`, as sorted paths relative to it with '/' separators; temp files skipped. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const files: string[] = []
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.startsWith(TEMP_PREFIX)) continue
    const path = relative(dir, join(entry.parentPath, entry.name))
    if (path.split(sep).some((part) => part.startsWith(TEMP_PREFIX))) continue
    files.push(path.split(sep).join('/'))
  }
  return files.sort()
}

interface CacheEntry {
  size: number
  mtimeNs: string
  ino: number
  hash: Digest
}

/**
 * Hashes files and folders, remembering each file's hash against its size, mtime and inode. A file whose stat
 * is unchanged is not read again; any change means a new read. The cache file is advisory: a corrupt or
 * foreign one is ignored and rebuilt, and it is written atomically, so concurrent users can only lose entries.
 */
export class Hasher {
  private entries = new Map<string, CacheEntry>()
  private dirty = false

  private constructor(private readonly cacheFile: string | undefined) {}

  static async open(cacheFile?: string): Promise<Hasher> {
    const hasher = new Hasher(cacheFile)
    if (cacheFile) {
      try {
        const parsed: unknown = JSON.parse(await readFile(cacheFile, 'utf8'))
        if (isCacheShape(parsed)) hasher.entries = new Map(Object.entries(parsed.files))
      } catch {
        // missing or corrupt: start empty
      }
    }
    return hasher
  }

  async file(path: string): Promise<Digest> {
    const info = await stat(path, { bigint: true })
    const cached = this.entries.get(path)
    const mtimeNs = info.mtimeNs.toString()
    if (cached && cached.size === Number(info.size) && cached.mtimeNs === mtimeNs && cached.ino === Number(info.ino)) return cached.hash
    const hash = await hashFile(path)
    this.entries.set(path, { size: Number(info.size), mtimeNs, ino: Number(info.ino), hash })
    this.dirty = true
    return hash
  }

  /** A folder's hash: SHA-256 over its files' sorted relative paths and hashes. Empty folders hash alike. */
  async dir(path: string): Promise<Digest> {
    const files = await listFiles(path)
    const hashes = await mapLimit(files, 16, (file) => this.file(join(path, file)))
    const hash = createHash('sha256')
    files.forEach((file, i) => hash.update(`${file}\0${hashes[i]}\n`))
    return hash.digest('hex')
  }

  /** The hash of a file or a folder; undefined when the path does not exist. */
  async path(path: string): Promise<Digest | undefined> {
    try {
      const info = await stat(path)
      return info.isDirectory() ? await this.dir(path) : await this.file(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async save(): Promise<void> {
    if (!this.cacheFile || !this.dirty) return
    await writeFileAtomic(this.cacheFile, JSON.stringify({ version: 1, files: Object.fromEntries(this.entries) }))
    this.dirty = false
  }
}

function isCacheShape(value: unknown): value is { version: 1; files: Record<string, CacheEntry> } {
  if (typeof value !== 'object' || value === null) return false
  const { version, files } = value as { version?: unknown; files?: unknown }
  if (version !== 1 || typeof files !== 'object' || files === null) return false
  return Object.values(files).every(
    (e: unknown) => typeof e === 'object' && e !== null && typeof (e as CacheEntry).hash === 'string' && typeof (e as CacheEntry).mtimeNs === 'string' && typeof (e as CacheEntry).size === 'number' && typeof (e as CacheEntry).ino === 'number',
  )
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!)
    }
  })
  await Promise.all(workers)
  return results
}
