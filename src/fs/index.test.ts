import { chmod, readFile, readdir, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sweepStaleTemps, tempOwner, tempPathFor, writeDirAtomic, writeFileAtomic } from './index.js'
import { tempDir } from '../../tests/temp-dir.js'

const temp = () => tempDir('mlskel-fs-')

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

describe('sweepStaleTemps', () => {
  it('reads the writer\'s pid from a temp name, and nothing from other names', () => {
    expect(tempOwner(tempPathFor('/x/model.json').slice('/x/'.length))).toBe(process.pid)
    expect(tempOwner('.mlskel-tmp-run-2024-01-01.json-4242-0a1b2c3d')).toBe(4242)
    expect(tempOwner('.mlskel-tmp-iris.csv-crashed')).toBeUndefined()
    expect(tempOwner('model.json-4242-0a1b2c3d')).toBeUndefined()
  })

  it('removes the temp files and folders of dead writers, below and beside, and keeps those of live ones', async () => {
    const dir = await temp()
    const dead = (name: string) => `.mlskel-tmp-${name}-7001-0a1b2c3d`
    const live = (name: string) => `.mlskel-tmp-${name}-7002-0a1b2c3d`
    await mkdir(join(dir, 'models', dead('1234abcd1234abcd')), { recursive: true })
    await writeFile(join(dir, 'models', dead('1234abcd1234abcd'), 'model.json'), '{}')
    await mkdir(join(dir, 'models', 'metadata'), { recursive: true })
    await writeFile(join(dir, 'models', 'metadata', dead('run.json')), '{"half')
    await writeFile(join(dir, 'models', 'metadata', live('run2.json')), '{"being written')
    await writeFile(join(dir, 'models', 'metadata', 'run.json'), '{}')
    await writeFile(join(dir, 'models', 'metadata', '.mlskel-tmp-odd-name'), 'not ours to judge')
    await writeFile(join(dir, dead('mlskel.lock')), 'half')
    await mkdir(join(dir, 'src'))
    await writeFile(join(dir, 'src', dead('x.ts')), 'not swept: src is not a target')

    const removed = await sweepStaleTemps([{ dir, recursive: false }, { dir: join(dir, 'models') }, { dir: join(dir, 'missing') }], (pid) => pid === 7002)

    expect(removed.sort()).toEqual([join(dir, dead('mlskel.lock')), join(dir, 'models', dead('1234abcd1234abcd')), join(dir, 'models', 'metadata', dead('run.json'))].sort())
    expect(await readdir(join(dir, 'models'))).toEqual(['metadata'])
    expect((await readdir(join(dir, 'models', 'metadata'))).sort()).toEqual(['.mlskel-tmp-odd-name', live('run2.json'), 'run.json'].sort())
    expect(await readdir(join(dir, 'src'))).toEqual([dead('x.ts')])
  })

  it('never removes a temp of this process', async () => {
    const dir = await temp()
    const mine = tempPathFor(join(dir, 'record.json'))
    await writeFile(mine, 'mine')
    expect(await sweepStaleTemps([{ dir }], () => false)).toEqual([])
    expect(await readFile(mine, 'utf8')).toBe('mine')
  })
})

