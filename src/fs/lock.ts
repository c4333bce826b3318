// Lock files: created exclusively, holding their owner as JSON (pid and a token of its own, plus what the caller
// adds), removed or rewritten only by that owner, and broken only once judged stale. What the run lock
// (pipeline/run-lock.ts: refuse at once, saying who holds it) and the hash cache's lock (hashing/stat-cache.ts: wait a
// moment, then go ahead unlocked) share; each keeps its own policy of waiting and of what makes a lock stale.
import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { writeFileAtomic } from './index.js'

/** What every lock file holds; callers add their own fields. */
export interface LockOwner {
  pid: number
  /** This holding's own: a pid may be reused, a token is not. (A lock written by an older mlskel has none.) */
  token?: string
}

export type LockState<O extends LockOwner> =
  | { status: 'free' }
  /** Created, its owner not yet written (or garbled): `ageMs` tells a holder about to write from a crash long ago. */
  | { status: 'unreadable'; ageMs: number }
  /** `text`: the file as read, which breakLock checks is still there before removing it. */
  | { status: 'held'; owner: O; ageMs: number; text: string }

export interface HeldLock<O extends LockOwner> {
  path: string
  owner: O & { token: string }
  /** Rewrite the owner (atomically, so a reader sees it whole), if the lock is still ours. */
  update(owner: Omit<O, 'pid' | 'token'>): Promise<void>
  /** Remove the lock, if it is still ours (one judged stale and broken may by now be another's). */
  release(): Promise<void>
}

/** Create `path` holding `owner` (with our pid and a new token), unless it exists: then what holds it. */
export async function tryLock<O extends LockOwner>(path: string, fields: Omit<O, 'pid' | 'token'>): Promise<{ held: HeldLock<O> } | { state: LockState<O> }> {
  const owner = { ...fields, pid: process.pid, token: randomBytes(8).toString('hex') } as O & { token: string }
  await mkdir(dirname(path), { recursive: true })
  let handle
  try {
    handle = await open(path, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return { state: await readLock<O>(path) }
  }
  try {
    await handle.writeFile(`${JSON.stringify(owner)}\n`)
  } finally {
    await handle.close()
  }
  const held: HeldLock<O> = {
    path,
    owner,
    async update(next) {
      if (!(await isOurs(path, held.owner))) return
      held.owner = { ...next, pid: owner.pid, token: owner.token } as O & { token: string }
      await writeFileAtomic(path, `${JSON.stringify(held.owner)}\n`)
    },
    async release() {
      if (await isOurs(path, held.owner)) await unlink(path).catch(() => undefined)
    },
  }
  return { held }
}

/** What holds the lock at `path` now. */
export async function readLock<O extends LockOwner>(path: string): Promise<LockState<O>> {
  let text: string
  let mtimeMs: number
  try {
    ;[text, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)])
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'free' }
    throw error
  }
  const ageMs = Date.now() - mtimeMs
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>
    if (owner !== null && typeof owner === 'object' && Number.isInteger(owner.pid) && owner.pid! > 0) return { status: 'held', owner: owner as O, ageMs, text }
  } catch {
    // empty (being written) or garbled
  }
  return { status: 'unreadable', ageMs }
}

/**
 * Remove a lock judged stale, if it still holds what was judged (`stale`, the state readLock gave). Only the breaker
 * holding `<path>.break` may, and it re-reads the lock first, so two breaking at once cannot each remove the other's
 * fresh lock. False when another is breaking it now.
 */
export async function breakLock(path: string, stale: LockState<LockOwner>): Promise<boolean> {
  const guard = `${path}.break`
  let handle
  try {
    handle = await open(guard, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // a breaker that crashed half-way leaves its guard behind: old guards do not count
    const age = Date.now() - (await stat(guard).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    if (age < 5_000) return false
    await unlink(guard).catch(() => undefined)
    return breakLock(path, stale)
  }
  try {
    const now = await readLock(path)
    const same = stale.status === 'held' ? now.status === 'held' && now.text === stale.text : now.status === stale.status
    if (same) await unlink(path).catch(() => undefined)
    return true
  } finally {
    await handle.close()
    await unlink(guard).catch(() => undefined)
  }
}

async function isOurs(path: string, owner: LockOwner): Promise<boolean> {
  const now = await readLock(path)
  return now.status === 'held' && now.owner.token !== undefined && now.owner.token === owner.token
}
