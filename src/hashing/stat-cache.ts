// The stat cache's file: what it holds, how it is checked when read, and how concurrent savers merge into it
// without ever leaving a torn or mixed file (a short lock around read-merge-write, and atomic writes always).
import type { BigIntStats } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, isAbsolute } from 'node:path'
import { breakLock, tryLock, writeFileAtomic } from '../fs/index.js'
import { isProcessAlive } from '../process/index.js'

export const CACHE_FORMAT = 'mlskel-hash-cache'
export const CACHE_VERSION = 2

/** A file's hash, valid while its stat is exactly this. Integers beyond 2^53 are kept as decimal strings. */
export interface CacheEntry {
  size: number
  mtimeNs: string
  ctimeNs: string
  ino: string
  /** Wall clock (ns since the epoch) just before the file was read. */
  checkedNs: string
  hash: string
}

/**
 * Racy-git window: a file changed within this long before it was read may be changed again within the same
 * timestamp tick after the read, with its stat unchanged. Such an entry is never trusted. 2 s covers the coarsest
 * common granularity (FAT) and modest clock skew with a file server.
 */
export const RACY_WINDOW_NS = 2_000_000_000n

export function entryOf(info: BigIntStats, hash: string, checkedNs: bigint): CacheEntry {
  return { size: Number(info.size), mtimeNs: info.mtimeNs.toString(), ctimeNs: info.ctimeNs.toString(), ino: info.ino.toString(), checkedNs: checkedNs.toString(), hash }
}

/** True when `info` is the stat the entry was made for. */
export function matches(entry: CacheEntry, info: BigIntStats): boolean {
  return entry.size === Number(info.size) && entry.mtimeNs === info.mtimeNs.toString() && entry.ctimeNs === info.ctimeNs.toString() && entry.ino === info.ino.toString()
}

/** True when the file's last change was too close to (or after) the read for its stat to vouch for its bytes. */
export function isRacy(entry: Pick<CacheEntry, 'mtimeNs' | 'ctimeNs' | 'checkedNs'>, windowNs: bigint = RACY_WINDOW_NS): boolean {
  const changed = BigInt(entry.mtimeNs) > BigInt(entry.ctimeNs) ? BigInt(entry.mtimeNs) : BigInt(entry.ctimeNs)
  return changed + windowNs > BigInt(entry.checkedNs)
}

const DIGITS = /^\d{1,30}$/
const SHA256 = /^[0-9a-f]{64}$/

function isEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const e = value as Record<string, unknown>
  return (
    typeof e.size === 'number' && Number.isSafeInteger(e.size) && e.size >= 0 &&
    [e.mtimeNs, e.ctimeNs, e.ino, e.checkedNs].every((v) => typeof v === 'string' && DIGITS.test(v)) &&
    typeof e.hash === 'string' && SHA256.test(e.hash)
  )
}

/**
 * The entries of a cache file; undefined when it is missing, corrupt, foreign (another format or version) or has
 * any malformed entry: a cache is trusted whole or not at all. Racy entries are dropped one by one.
 */
export async function readCache(file: string, windowNs: bigint = RACY_WINDOW_NS): Promise<Map<string, CacheEntry> | undefined> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { format, version, files } = parsed as { format?: unknown; version?: unknown; files?: unknown }
  if (format !== CACHE_FORMAT || version !== CACHE_VERSION || typeof files !== 'object' || files === null || Array.isArray(files)) return undefined
  const entries = new Map<string, CacheEntry>()
  for (const [path, entry] of Object.entries(files)) {
    if (!isAbsolute(path) || !isEntry(entry)) return undefined
    if (!isRacy(entry, windowNs)) entries.set(path, entry)
  }
  return entries
}

export function serialise(entries: ReadonlyMap<string, CacheEntry>): string {
  const files = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return JSON.stringify({ format: CACHE_FORMAT, version: CACHE_VERSION, files })
}

/**
 * Merge `updates` (null: forget the path) into the cache file under a short lock, and return what was written.
 * Without the lock two savers could each drop the other's new entries; the file itself is never at risk, as
 * every write is atomic. If the lock cannot be had in time, the merge goes ahead unlocked.
 */
export async function mergeIntoCache(file: string, updates: ReadonlyMap<string, CacheEntry | null>, windowNs: bigint = RACY_WINDOW_NS): Promise<Map<string, CacheEntry>> {
  await mkdir(dirname(file), { recursive: true })
  const release = await lock(`${file}.lock`)
  try {
    const entries = (await readCache(file, windowNs)) ?? new Map<string, CacheEntry>()
    for (const [path, entry] of updates) {
      if (entry) entries.set(path, entry)
      else entries.delete(path)
    }
    await writeFileAtomic(file, serialise(entries))
    return entries
  } finally {
    await release?.()
  }
}

const LOCK_WAIT_MS = 3000
/** Held only for a read and a small write: a lock older than this was left by a crash. */
const LOCK_STALE_MS = 10_000

/** The cache's lock, or undefined when it could not be had within LOCK_WAIT_MS (the merge goes ahead unlocked). */
async function lock(path: string): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + LOCK_WAIT_MS
  for (;;) {
    const outcome = await tryLock(path, {}).catch(() => undefined)
    if (!outcome) return undefined
    if ('held' in outcome) return () => outcome.held.release()
    const { state } = outcome
    const stale = state.status === 'held' ? state.ageMs > LOCK_STALE_MS || !isProcessAlive(state.owner.pid) : state.status === 'unreadable' && state.ageMs > LOCK_STALE_MS
    if (stale) await breakLock(path, state)
    else if (state.status !== 'free') {
      if (Date.now() > deadline) return undefined
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20))
    }
  }
}
