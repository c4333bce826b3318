import { chmod, mkdtemp, readFile, readdir, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeDirAtomic, writeFileAtomic } from './index.js'

const temp = () => mkdtemp(join(tmpdir(), 'mlskel-fs-'))

describe('writeFileAtomic', () => {
  it('writes the file and leaves no temp file behind', async () => {
    const dir = await temp()
    await writeFileAtomic(join(dir, 'a', 'record.json'), '{"ok":true}')
    expect(await readFile(join(dir, 'a', 'record.json'), 'utf8')).toBe('{"ok":true}')
    expect(await readdir(join(dir, 'a'))).toEqual(['record.json'])
  })

  it('keeps the old file whole when the write fails', async () => {
    const dir = await temp()
    const path = join(dir, 'mlskel.lock')
    await writeFile(path, 'good')
    await chmod(dir, 0o500)
    try {
      if (process.getuid?.() === 0) return // root ignores permissions: the failure cannot be provoked this way
      await expect(writeFileAtomic(path, 'new')).rejects.toMatchObject({ code: 'MLSKEL_WRITE_FAILED' })
      expect(await readFile(path, 'utf8')).toBe('good')
    } finally {
      await chmod(dir, 0o700)
    }
  })

  it('keeps the old file whole when the data cannot be written', async () => {
    const dir = await temp()
    const path = join(dir, 'model.json')
    await writeFile(path, 'good')
    // a write into a path whose parent is a file fails after nothing was replaced
    await expect(writeFileAtomic(join(path, 'x'), 'new')).rejects.toMatchObject({ code: 'MLSKEL_WRITE_FAILED' })
    expect(await readFile(path, 'utf8')).toBe('good')
    expect(await readdir(dir)).toEqual(['model.json'])
  })
})

describe('writeDirAtomic', () => {
  it('creates the folder from its temp copy', async () => {
    const dir = await temp()
    const outcome = await writeDirAtomic(join(dir, 'm1'), async (tmp) => writeFile(join(tmp, 'model.json'), 'x'))
    expect(outcome).toBe('created')
    expect(await readdir(dir)).toEqual(['m1'])
  })

  it('keeps an existing folder unless asked to replace it', async () => {
    const dir = await temp()
    await mkdir(join(dir, 'm1'))
    await writeFile(join(dir, 'm1', 'model.json'), 'old')
    expect(await writeDirAtomic(join(dir, 'm1'), async (tmp) => writeFile(join(tmp, 'model.json'), 'new'))).toBe('kept')
    expect(await readFile(join(dir, 'm1', 'model.json'), 'utf8')).toBe('old')
    expect(await writeDirAtomic(join(dir, 'm1'), async (tmp) => writeFile(join(tmp, 'model.json'), 'new'), { replace: true })).toBe('replaced')
    expect(await readFile(join(dir, 'm1', 'model.json'), 'utf8')).toBe('new')
    expect(await readdir(dir)).toEqual(['m1'])
  })

  it('leaves nothing when filling fails midway', async () => {
    const dir = await temp()
    await expect(
      writeDirAtomic(join(dir, 'm1'), async (tmp) => {
        await writeFile(join(tmp, 'model.json'), 'half')
        throw new Error('disk full')
      }),
    ).rejects.toMatchObject({ code: 'MLSKEL_WRITE_FAILED', message: expect.stringContaining('disk full') })
    expect(await readdir(dir)).toEqual([])
  })
})
