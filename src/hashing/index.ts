// Content hashes: streaming SHA-256 of files, folders hashed from their files, and a stat cache so unchanged
// files are never read twice.
import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { readdir, readlink, realpath, stat } from 'node:fs/promises'
import { join, posix, relative, resolve, sep } from 'node:path'
import { TEMP_PREFIX } from '../fs/index.js'
import { entryOf, isRacy, matches, mergeIntoCache, RACY_WINDOW_NS, readCache, type CacheEntry } from './stat-cache.js'
import { digestFile } from './stream.js'

export { hashFile, CHUNK_SIZE, READ_AHEAD, type HashFileOptions } from './stream.js'
export { RACY_WINDOW_NS } from './stat-cache.js'

export type Digest = string

export function hashBytes(data: string | Uint8Array): Digest {
  return createHash('sha256').update(data).digest('hex')
}

/** Every file below `dir`, as sorted paths relative to it with '/' separators; temp files skipped; links followed. */
export async function listFiles(dir: string): Promise<string[]> {
  return (await listFileEntries(dir)).map((entry) => entry.path)
}

export interface ListedFile {
  /** Relative to the folder listed, with / separators. */
  path: string
  /**
   * When the path leads through a symbolic link: where it leads, as the link says it (the link's own text, or, for a
   * file inside a linked folder, that folder link's text joined with the rest of the path).
   */
  link?: string
}

/**
 * Every file below `dir`, sorted by path, temp files skipped. Symbolic links are followed, as a reader of the path
 * would: a link to a file is listed (its content is the file it points to), a link to a folder is listed into, and
 * each says where it leads. A link that leads nowhere is left out (there is nothing to read), as is a link back into
 * a folder being listed (it would list it again, without end).
 */
export async function listFileEntries(dir: string): Promise<ListedFile[]> {
  const files: ListedFile[] = []
  await listInto(dir, '', undefined, [await realpath(dir).catch(() => resolve(dir))], files)
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** `within`: the real paths of the folders being listed, the outermost first (this one's and those it is inside). */
async function listInto(dir: string, prefix: string, via: string | undefined, within: readonly string[], files: ListedFile[]): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_PREFIX)) continue
    const full = join(entry.parentPath, entry.name)
    const rel = relative(dir, full).split(sep)
    if (rel.some((part) => part.startsWith(TEMP_PREFIX))) continue
    const path = prefix + rel.join('/')
    if (entry.isFile()) {
      files.push(via === undefined ? { path } : { path, link: posix.join(via, ...rel) })
      continue
    }
    if (!entry.isSymbolicLink()) continue
    const target = await stat(full).catch(() => undefined)
    if (!target) continue
    const link = await readlink(full)
    if (target.isFile()) files.push({ path, link })
    else if (target.isDirectory()) {
      const real = await realpath(full)
      if (within.some((folder) => real === folder || folder.startsWith(`${real}${sep}`))) continue
      await listInto(full, `${path}/`, link, [...within, real], files)
    }
  }
}

/** Files a folder hash reads at once. Hashing runs on the main thread, so more only overlaps opens and reads. */
export const DIR_CONCURRENCY = 4

export interface HasherOptions {
  /** Files hashed at once by `dir` (default DIR_CONCURRENCY); memory is at most this × READ_AHEAD × CHUNK_SIZE. */
  concurrency?: number
  /** The racy-git window (default RACY_WINDOW_NS, 2 s). */
  racyWindowNs?: bigint
  /** Wall clock in ns since the epoch (default: Date.now()); tests move it forward. */
  now?: () => bigint
}

/**
 * Hashes files and folders, remembering each file's hash against its size, mtime, ctime and inode. A file whose
 * stat is unchanged is not read again; any change means a new read. Two rules keep a stat match honest:
 * - the stat stored is the open file's own, taken before and after the read, and nothing is stored when the two
 *   differ (the file changed while it was read);
 * - "racy git": nothing is stored for a file changed less than the racy window before its read began, since a
 *   same-size rewrite within the same timestamp tick would leave its stat unchanged. It is read again next time.
 * The cache file is advisory: a corrupt or foreign one is ignored whole and rebuilt, and saving merges into it
 * under a short lock and writes atomically, so concurrent savers never tear it nor drop each other's entries.
 */
export class Hasher {
  private entries = new Map<string, CacheEntry>()
  /** What this hasher learned since the last save: new entries, and paths to forget (null). */
  private readonly updates = new Map<string, CacheEntry | null>()
  private readonly inFlight = new Map<string, Promise<Digest>>()
  private readonly concurrency: number
  private readonly windowNs: bigint
  private readonly now: () => bigint

  private constructor(private readonly cacheFile: string | undefined, options: HasherOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? DIR_CONCURRENCY)
    this.windowNs = options.racyWindowNs ?? RACY_WINDOW_NS
    this.now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n)
  }

  static async open(cacheFile?: string, options: HasherOptions = {}): Promise<Hasher> {
    const hasher = new Hasher(cacheFile && resolve(cacheFile), options)
    if (hasher.cacheFile) hasher.entries = (await readCache(hasher.cacheFile, hasher.windowNs)) ?? new Map()
    return hasher
  }

  async file(path: string): Promise<Digest> {
    const key = resolve(path)
    return this.fileWithStat(key, await stat(key, { bigint: true }))
  }

  /** A folder's hash: SHA-256 over its files' sorted relative paths and hashes. Empty folders hash alike. */
  async dir(path: string): Promise<Digest> {
    const files = await listFiles(path)
    const hashes = await mapLimit(files, this.concurrency, (file) => this.file(join(path, file)))
    const hash = createHash('sha256')
    files.forEach((file, i) => hash.update(`${file}\0${hashes[i]}\n`))
    return hash.digest('hex')
  }

  /** The hash of a file or a folder; undefined when the path does not exist. */
  async path(path: string): Promise<Digest | undefined> {
    const key = resolve(path)
    let info: BigIntStats
    try {
      info = await stat(key, { bigint: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      this.forget(key)
      return undefined
    }
    return info.isDirectory() ? this.dir(key) : this.fileWithStat(key, info)
  }

  /** Write what this hasher learned into the cache file (merged with what others wrote meanwhile). */
  async save(): Promise<void> {
    if (!this.cacheFile || this.updates.size === 0) return
    const updates = new Map(this.updates)
    this.updates.clear()
    try {
      this.entries = await mergeIntoCache(this.cacheFile, updates, this.windowNs)
    } catch (error) {
      for (const [path, entry] of updates) if (!this.updates.has(path)) this.updates.set(path, entry)
      throw error
    }
  }

  private fileWithStat(key: string, info: BigIntStats): Promise<Digest> {
    const cached = this.entries.get(key)
    if (cached && matches(cached, info)) return Promise.resolve(cached.hash)
    let pending = this.inFlight.get(key)
    if (!pending) {
      pending = this.read(key).finally(() => this.inFlight.delete(key))
      this.inFlight.set(key, pending)
    }
    return pending
  }

  private async read(key: string): Promise<Digest> {
    const checkedNs = this.now()
    const { hash, before, after } = await digestFile(key)
    const entry = entryOf(after, hash, checkedNs)
    if (matches(entry, before) && !isRacy(entry, this.windowNs)) {
      this.entries.set(key, entry)
      this.updates.set(key, entry)
    } else {
      this.forget(key)
    }
    return hash
  }

  private forget(key: string): void {
    if (this.entries.delete(key)) this.updates.set(key, null)
  }
}

/** `fn` over `items`, at most `limit` at a time; results in the items' order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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
