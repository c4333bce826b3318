import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Hasher, hashFile, listFiles } from './index.js'

const temp = () => mkdtemp(join(tmpdir(), 'mlskel-hash-'))
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

describe('hashFile', () => {
  it('is the SHA-256 of the bytes', async () => {
    const dir = await temp()
    await writeFile(join(dir, 'a.csv'), 'x,y\n1,2\n')
    expect(await hashFile(join(dir, 'a.csv'))).toBe(sha256('x,y\n1,2\n'))
  })
})

describe('Hasher', () => {
  it('hashes a folder from its sorted paths and file hashes, ignoring atomic-write temp files', async () => {
    const dir = await temp()
    await mkdir(join(dir, 'sub'))
    await writeFile(join(dir, 'b.txt'), 'b')
    await writeFile(join(dir, 'sub', 'a.txt'), 'a')
    await writeFile(join(dir, '.mlskel-tmp-b.txt-1-ab'), 'half-written')
    expect(await listFiles(dir)).toEqual(['b.txt', 'sub/a.txt'])
    const hasher = await Hasher.open()
    expect(await hasher.dir(dir)).toBe(sha256(`b.txt\0${sha256('b')}\nsub/a.txt\0${sha256('a')}\n`))
  })

  it('changes a folder hash when a file is renamed, even with the same content', async () => {
    const dir = await temp()
    await writeFile(join(dir, 'a.txt'), 'same')
    const before = await (await Hasher.open()).dir(dir)
    await writeFile(join(dir, 'b.txt'), 'same')
    const { rm } = await import('node:fs/promises')
    await rm(join(dir, 'a.txt'))
    expect(await (await Hasher.open()).dir(dir)).not.toBe(before)
  })

  it('answers undefined for a path that does not exist', async () => {
    expect(await (await Hasher.open()).path(join(await temp(), 'nope'))).toBeUndefined()
  })

  it('reuses a cached hash while the stat is unchanged, and re-hashes when the file changes', async () => {
    const dir = await temp()
    const file = join(dir, 'data.csv')
    const cache = join(dir, 'state', 'hashes.json')
    await writeFile(file, 'one')
    const first = await Hasher.open(cache)
    expect(await first.file(file)).toBe(sha256('one'))
    await first.save()
    // poison the cache entry: a hit returns it unread, which proves the file was not hashed again
    const saved = JSON.parse(await readFile(cache, 'utf8'))
    saved.files[file].hash = 'cached'
    await writeFile(cache, JSON.stringify(saved))
    expect(await (await Hasher.open(cache)).file(file)).toBe('cached')
    // same size, new content and mtime: read again
    await writeFile(file, 'two')
    await utimes(file, new Date(), new Date(Date.now() + 5000))
    expect(await (await Hasher.open(cache)).file(file)).toBe(sha256('two'))
  })

  it('ignores a corrupt cache and rebuilds it', async () => {
    const dir = await temp()
    const cache = join(dir, 'hashes.json')
    await writeFile(cache, '{"version":1,"files":{"x":{"hash":1}}')
    await writeFile(join(dir, 'f'), 'f')
    const hasher = await Hasher.open(cache)
    expect(await hasher.file(join(dir, 'f'))).toBe(sha256('f'))
    await hasher.save()
    expect(JSON.parse(await readFile(cache, 'utf8')).files[join(dir, 'f')].hash).toBe(sha256('f'))
  })
})
