import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { breakLock, readLock, tryLock, type LockOwner } from './index.js'

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})
async function lockPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mlskel-lock-'))
  dirs.push(dir)
  await mkdir(join(dir, 'sub'))
  return join(dir, 'sub', 'x.lock')
}

interface Owner extends LockOwner {
  what: string
}

describe('lock files', () => {
  it('are taken by one owner at a time, who alone rewrites and removes them', async () => {
    const path = await lockPath()
    const first = await tryLock<Owner>(path, { what: 'first' })
    if (!('held' in first)) throw new Error('not taken')
    expect(first.held.owner).toMatchObject({ pid: process.pid, what: 'first', token: expect.stringMatching(/^[0-9a-f]{16}$/) })
    const second = await tryLock<Owner>(path, { what: 'second' })
    expect(second).toMatchObject({ state: { status: 'held', owner: { what: 'first' } } })
    await first.held.update({ what: 'first, later' })
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ what: 'first, later', token: first.held.owner.token })
    await first.held.release()
    expect(await readLock(path)).toEqual({ status: 'free' })
  })

  it('are broken only while they still hold what was judged stale, and a broken owner removes nothing', async () => {
    const path = await lockPath()
    const taken = await tryLock<Owner>(path, { what: 'old' })
    if (!('held' in taken)) throw new Error('not taken')
    const judged = await readLock(path)
    // someone else broke and re-took it meanwhile: the judgement no longer applies
    await writeFile(path, JSON.stringify({ pid: 1, token: 'newer', what: 'new' }))
    expect(await breakLock(path, judged)).toBe(true)
    expect(await readLock(path)).toMatchObject({ status: 'held', owner: { token: 'newer' } })
    // the old owner's release leaves the new owner's lock alone
    await taken.held.release()
    expect(await readLock(path)).toMatchObject({ status: 'held', owner: { token: 'newer' } })
    expect(await breakLock(path, await readLock(path))).toBe(true)
    expect(await readLock(path)).toEqual({ status: 'free' })
  })

  it('read a lock of an older mlskel (no token) as held, and a garbled one as unreadable', async () => {
    const path = await lockPath()
    await writeFile(path, JSON.stringify({ pid: 4242, started_at: 'then' }))
    expect(await readLock(path)).toMatchObject({ status: 'held', owner: { pid: 4242 } })
    await writeFile(path, '')
    expect(await readLock(path)).toMatchObject({ status: 'unreadable', ageMs: expect.any(Number) })
  })

  it('let one of two breakers at once break, and the other say so', async () => {
    const path = await lockPath()
    await writeFile(path, JSON.stringify({ pid: 4242, token: 'stale' }))
    await writeFile(`${path}.break`, '')
    expect(await breakLock(path, await readLock(path))).toBe(false)
    expect((await readLock(path)).status).toBe('held')
  })
})
