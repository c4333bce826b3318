import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHUNK_SIZE, Hasher, hashFile, listFileEntries, listFiles } from './index.js'
import { CACHE_FORMAT, CACHE_VERSION, readCache } from './stat-cache.js'
import { tempDir } from '../../tests/temp-dir.js'

const temp = () => tempDir('mlskel-hash-')
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')
/** A clock `s` seconds ahead: files written by a test are then old enough to be trusted from the cache. */
const later = (s = 10) => () => (BigInt(Date.now()) + BigInt(s * 1000)) * 1_000_000n
const FAKE = 'f'.repeat(64)

describe('hashFile', () => {
  it('is the SHA-256 of the bytes', async () => {
    const dir = await temp()
    await writeFile(join(dir, 'a.csv'), 'x,y\n1,2\n')
    expect(await hashFile(join(dir, 'a.csv'))).toBe(sha256('x,y\n1,2\n'))
  })

  it('streams to the one-shot hash at every size around the buffer boundaries', async () => {
    const dir = await temp()
    const chunk = 64 << 10
    const sizes = [0, 1, 1000, chunk - 1, chunk, chunk + 1, 2 * chunk - 1, 2 * chunk, 3 * chunk + 7, 7 * chunk]
    const all = randomBytes(7 * chunk)
    for (const size of sizes) {
      const file = join(dir, `f${size}`)
      const bytes = all.subarray(0, size)
      await writeFile(file, bytes)
      for (const readAhead of [1, 2, 3]) {
        expect(await hashFile(file, { chunkSize: chunk, readAhead }), `size ${size}, ${readAhead} ahead`).toBe(sha256(bytes))
      }
      expect(await hashFile(file, { chunkSize: chunk, algorithm: 'md5' })).toBe(createHash('md5').update(bytes).digest('hex'))
    }
  })

  it('streams to the one-shot hash around the default buffer size', async () => {
    const dir = await temp()
    const all = randomBytes(3 * CHUNK_SIZE + 1)
    for (const size of [CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 1]) {
      const file = join(dir, `f${size}`)
      await writeFile(file, all.subarray(0, size))
      expect(await hashFile(file), `size ${size}`).toBe(sha256(all.subarray(0, size)))
    }
  })

  it('hashes many files at once, each to its own hash', async () => {
    const dir = await temp()
    const files = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
      const bytes = randomBytes(i * 700_003)
      await writeFile(join(dir, `f${i}`), bytes)
      return { path: join(dir, `f${i}`), hash: sha256(bytes) }
    }))
    expect(await Promise.all(files.map((f) => hashFile(f.path)))).toEqual(files.map((f) => f.hash))
  })

  it('rejects for a missing file or a folder, leaving nothing unhandled', async () => {
    const dir = await temp()
    await expect(hashFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(hashFile(dir)).rejects.toMatchObject({ code: 'EISDIR' })
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

  it('hashes a folder to the same value whatever the concurrency', async () => {
    const dir = await temp()
    let expected = ''
    for (let i = 0; i < 40; i++) {
      const name = `${i % 3 === 0 ? 'sub/' : ''}f${String(i).padStart(2, '0')}.bin`
      const bytes = randomBytes((i * 37_171) % 300_000)
      await mkdir(join(dir, 'sub'), { recursive: true })
      await writeFile(join(dir, name), bytes)
      expected += `${name}\0${sha256(bytes)}\n`
    }
    const sorted = expected.trim().split('\n').sort().map((line) => `${line}\n`).join('')
    const results = await Promise.all([1, 2, 4, 16].map(async (concurrency) => (await Hasher.open(undefined, { concurrency })).dir(dir)))
    expect(new Set(results)).toEqual(new Set([sha256(sorted)]))
  })

  it('changes a folder hash when a file is renamed, even with the same content', async () => {
    const dir = await temp()
    await writeFile(join(dir, 'a.txt'), 'same')
    const before = await (await Hasher.open()).dir(dir)
    await writeFile(join(dir, 'b.txt'), 'same')
    await rm(join(dir, 'a.txt'))
    expect(await (await Hasher.open()).dir(dir)).not.toBe(before)
  })

  it('answers undefined for a path that does not exist', async () => {
    expect(await (await Hasher.open()).path(join(await temp(), 'nope'))).toBeUndefined()
  })

  it('follows symbolic links: a linked file and a linked folder\'s files count by their content, and say where they lead', async () => {
    const outside = await temp()
    await mkdir(join(outside, 'more'))
    await writeFile(join(outside, 'iris.csv'), 'a,b\n1,2\n')
    await writeFile(join(outside, 'more', 'wine.csv'), 'w\n')
    const dir = await temp()
    await writeFile(join(dir, 'own.csv'), 'own')
    await symlink(join(outside, 'iris.csv'), join(dir, 'iris.csv'))
    await symlink(join(outside, 'more'), join(dir, 'more'))
    await symlink(join(outside, 'gone.csv'), join(dir, 'dangling.csv'))
    await symlink('..', join(dir, 'up')) // a way back into the folder itself: listed once, not for ever

    expect(await listFileEntries(dir)).toEqual([
      { path: 'iris.csv', link: join(outside, 'iris.csv') },
      { path: 'more/wine.csv', link: `${join(outside, 'more')}/wine.csv` },
      { path: 'own.csv' },
    ])
    const hasher = await Hasher.open()
    expect(await hasher.dir(dir)).toBe(sha256(`iris.csv\0${sha256('a,b\n1,2\n')}\nmore/wine.csv\0${sha256('w\n')}\nown.csv\0${sha256('own')}\n`))

    // the data behind a link changes: so does the folder's hash, through the same (stat-cached) hasher
    const before = await hasher.dir(dir)
    await writeFile(join(outside, 'iris.csv'), 'a,b\n1,3\n')
    expect(await hasher.dir(dir)).not.toBe(before)
    const changedFile = await hasher.dir(dir)
    await writeFile(join(outside, 'more', 'wine.csv'), 'x\n')
    expect(await hasher.dir(dir)).not.toBe(changedFile)
  })
})

describe('the stat cache', () => {
  /** Hash `file` with a cache at `cache`, save, and poison the saved entry: a later hit answers FAKE unread. */
  async function cachedAndPoisoned(file: string, cache: string): Promise<void> {
    const hasher = await Hasher.open(cache, { now: later() })
    await hasher.file(file)
    await hasher.save()
    const saved = JSON.parse(await readFile(cache, 'utf8'))
    expect(saved.files[file]).toBeDefined()
    saved.files[file].hash = FAKE
    await writeFile(cache, JSON.stringify(saved))
    expect(await (await Hasher.open(cache)).file(file)).toBe(FAKE)
  }

  it('reuses a cached hash while the stat is unchanged, and re-hashes when the file changes', async () => {
    const dir = await temp()
    const file = join(dir, 'data.csv')
    const cache = join(dir, 'state', 'hashes.json')
    await writeFile(file, 'one')
    await cachedAndPoisoned(file, cache)
    // same size, new content and mtime: read again
    await writeFile(file, 'two')
    await utimes(file, new Date(), new Date(Date.now() + 5000))
    expect(await (await Hasher.open(cache)).file(file)).toBe(sha256('two'))
  })

  it('re-hashes a same-size rewrite whose mtime was put back (the ctime tells)', async () => {
    const dir = await temp()
    const file = join(dir, 'data.csv')
    const cache = join(dir, 'hashes.json')
    await writeFile(file, 'one')
    const old = new Date(Date.now() - 3_600_000)
    await utimes(file, old, old)
    await cachedAndPoisoned(file, cache)
    await writeFile(file, 'two')
    await utimes(file, old, old)
    expect(await (await Hasher.open(cache)).file(file)).toBe(sha256('two'))
  })

  it('re-hashes a file replaced by another of the same size and mtime (the inode tells)', async () => {
    const dir = await temp()
    const file = join(dir, 'data.csv')
    const cache = join(dir, 'hashes.json')
    await writeFile(file, 'one')
    await cachedAndPoisoned(file, cache)
    const info = await stat(file)
    await writeFile(join(dir, 'new'), 'two')
    await utimes(join(dir, 'new'), info.atime, info.mtime)
    await rename(join(dir, 'new'), file)
    expect(await (await Hasher.open(cache)).file(file)).toBe(sha256('two'))
  })

  it('never stores a file changed within the racy window before its read (racy git)', async () => {
    const dir = await temp()
    const file = join(dir, 'data.csv')
    const cache = join(dir, 'hashes.json')
    await writeFile(file, 'one')
    // read with the real clock, just after the write: a same-size rewrite in the same mtime tick could follow
    const hasher = await Hasher.open(cache)
    expect(await hasher.file(file)).toBe(sha256('one'))
    await hasher.save()
    expect((await readCache(cache))?.has(file) ?? false).toBe(false)
    // 1 s after the change is still racy; 3 s after is not
    const changed = (await stat(file, { bigint: true })).ctimeNs
    const at = (ns: bigint) => () => ns
    const racy = await Hasher.open(cache, { now: at(changed + 1_000_000_000n) })
    await racy.file(file)
    await racy.save()
    expect((await readCache(cache))?.has(file) ?? false).toBe(false)
    const settled = await Hasher.open(cache, { now: at(changed + 3_000_000_000n) })
    await settled.file(file)
    await settled.save()
    expect((await readCache(cache))?.get(file)?.hash).toBe(sha256('one'))
  })

  it('does not trust a racy entry found in the cache file, even when its stat matches', async () => {
    const dir = await temp()
    const file = join(dir, 'data.csv')
    const cache = join(dir, 'hashes.json')
    await writeFile(file, 'one')
    const info = await stat(file, { bigint: true })
    const entry = { size: Number(info.size), mtimeNs: `${info.mtimeNs}`, ctimeNs: `${info.ctimeNs}`, ino: `${info.ino}`, hash: FAKE }
    const write = (checkedNs: bigint) => writeFile(cache, JSON.stringify({ format: CACHE_FORMAT, version: CACHE_VERSION, files: { [file]: { ...entry, checkedNs: `${checkedNs}` } } }))
    await write(info.ctimeNs + 500_000_000n)
    expect(await (await Hasher.open(cache)).file(file)).toBe(sha256('one'))
    await write(info.ctimeNs + 2_500_000_000n)
    expect(await (await Hasher.open(cache)).file(file)).toBe(FAKE) // the control: a settled entry is used
  })

  it.each([
    ['truncated JSON', (good: string) => good.slice(0, -5)],
    ['another format', (good: string) => good.replace(CACHE_FORMAT, 'dvc-state')],
    ['an older version', (good: string) => good.replace(`"version":${CACHE_VERSION}`, '"version":1')],
    ['one malformed entry among good ones', (good: string) => good.replace('"files":{', '"files":{"/x":{"hash":1},')],
    ['a relative path', (good: string) => good.replace('"files":{', `"files":{"x":${JSON.stringify({ size: 1, mtimeNs: '1', ctimeNs: '1', ino: '1', checkedNs: '9', hash: FAKE })},`)],
    ['not JSON at all', () => '\0\0\0garbage'],
  ])('ignores a cache with %s and rebuilds it', async (_, spoil) => {
    const dir = await temp()
    const file = join(dir, 'f')
    const cache = join(dir, 'hashes.json')
    await writeFile(file, 'f')
    await cachedAndPoisoned(file, cache) // the poisoned entry is well-formed: trusted until the file is spoiled
    await writeFile(cache, spoil(await readFile(cache, 'utf8')))
    const hasher = await Hasher.open(cache, { now: later() })
    expect(await hasher.file(file)).toBe(sha256('f'))
    await hasher.save()
    expect((await readCache(cache))?.get(file)?.hash).toBe(sha256('f'))
  })

  it('forgets a file that is gone', async () => {
    const dir = await temp()
    const file = join(dir, 'f')
    const cache = join(dir, 'hashes.json')
    await writeFile(file, 'f')
    await cachedAndPoisoned(file, cache)
    await rm(file)
    const hasher = await Hasher.open(cache)
    expect(await hasher.path(file)).toBeUndefined()
    await hasher.save()
    expect((await readCache(cache))?.has(file)).toBe(false)
  })

  it('breaks a lock left by a dead process', async () => {
    const dir = await temp()
    const cache = join(dir, 'hashes.json')
    await writeFile(join(dir, 'f'), 'f')
    await writeFile(`${cache}.lock`, JSON.stringify({ pid: 999_999_999, token: 'dead' }))
    const hasher = await Hasher.open(cache, { now: later() })
    await hasher.file(join(dir, 'f'))
    await hasher.save()
    expect((await readCache(cache))?.get(join(dir, 'f'))?.hash).toBe(sha256('f'))
    // broken, not waited out: after its wait a saver goes ahead unlocked and leaves another's lock file in place
    await expect(stat(`${cache}.lock`)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('keeps a whole, correct file when two processes save at once, each keeping the other’s entries', async () => {
    const dir = await temp()
    const cache = join(dir, 'state', 'hashes.json')
    const expected = new Map<string, string>()
    for (const who of ['a', 'b']) {
      await mkdir(join(dir, who))
      for (let i = 0; i < 150; i++) {
        const text = `${who}${i}`.repeat(1 + i)
        await writeFile(join(dir, who, `${i}.txt`), text)
        expected.set(join(dir, who, `${i}.txt`), sha256(text))
      }
    }
    // each child hashes its own folder file by file, saving after every file, started at the same moment
    const child = join(dir, 'saver.mts')
    await writeFile(child, [
      `import { Hasher } from ${JSON.stringify(new URL('./index.ts', import.meta.url).href)}`,
      `const [folder, cache, startAt] = process.argv.slice(2)`,
      `const now = () => (BigInt(Date.now()) + 10_000n) * 1_000_000n`,
      `while (Date.now() < Number(startAt)) await new Promise((r) => setTimeout(r, 1))`,
      `for (let i = 0; i < 150; i++) {`,
      `  const hasher = await Hasher.open(cache, { now })`,
      `  await hasher.file(folder + '/' + i + '.txt')`,
      `  await hasher.save()`,
      `}`,
    ].join('\n'))
    const startAt = Date.now() + 1500
    const run = (who: string) => new Promise<number | null>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', child, join(dir, who), cache, String(startAt)], { stdio: ['ignore', 'inherit', 'inherit'] })
      p.on('error', reject).on('exit', resolve)
    })
    expect(await Promise.all([run('a'), run('b')])).toEqual([0, 0])
    const saved = await readCache(cache, 0n)
    expect(saved).toBeDefined()
    expect(saved!.size).toBe(expected.size)
    for (const [path, hash] of expected) expect(saved!.get(path)?.hash, path).toBe(hash)
  }, 60_000)
})
