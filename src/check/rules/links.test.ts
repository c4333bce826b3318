// The links rule on temp projects: links out of the project in data/raw, models/ and tracked files are reported;
// links within the project, and links to a declared external input, are not.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeContext } from '../test-context.js'
import { linksRule } from './links.js'

const folders: string[] = []
afterEach(async () => {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })))
})

async function folder(prefix: string): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)))
  folders.push(dir)
  return dir
}

async function put(root: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true })
  await writeFile(join(root, path), text)
}

describe('the links rule', () => {
  it('warns about links out of the project in data/raw, models/ and tracked files, and not about the others', async () => {
    const shared = await folder('mlskel-shared-')
    await put(shared, 'iris.csv', 'a\n1\n')
    await put(shared, 'declared.csv', 'a\n2\n')
    await put(shared, 'model/model.json', '{}')
    await put(shared, 'helpers.ts', 'export {}\n')
    const root = await folder('mlskel-links-')
    await put(root, 'data/raw/own.csv', 'a\n3\n')
    await put(root, 'models/metadata/.gitkeep', '')
    await put(root, 'mlskel.yaml', `stages:\n  prepare:\n    cmd: x\n    deps: [${join(shared, 'declared.csv')}]\nexternal:\n  - ${join(shared, 'declared.csv')}\n`)
    await symlink(join(shared, 'iris.csv'), join(root, 'data/raw/iris.csv'))
    await symlink('own.csv', join(root, 'data/raw/alias.csv')) // within the project
    await symlink(join(shared, 'declared.csv'), join(root, 'data/raw/declared.csv')) // a declared external input
    await symlink(join(shared, 'gone.csv'), join(root, 'data/raw/gone.csv'))
    await symlink(join(shared, 'model'), join(root, 'models/0123456789abcdef'))
    await put(root, 'src/own.ts', 'export {}\n')
    await symlink(join(shared, 'helpers.ts'), join(root, 'src/helpers.ts'))
    await symlink('own.ts', join(root, 'src/alias.ts'))
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root })
    git('init', '-q')
    git('add', 'src', 'mlskel.yaml')

    const { findings, summary } = await linksRule.run(makeContext(root))

    expect(findings.map((f) => [f.level, f.code, f.file])).toEqual([
      ['warning', 'MLSKEL_CHECK_LINK_OUTSIDE', 'data/raw/gone.csv'],
      ['warning', 'MLSKEL_CHECK_LINK_OUTSIDE', 'data/raw/iris.csv'],
      ['warning', 'MLSKEL_CHECK_LINK_OUTSIDE', 'models/0123456789abcdef'],
      ['warning', 'MLSKEL_CHECK_LINK_OUTSIDE', 'src/helpers.ts'],
    ])
    expect(findings[1]!.message).toBe(`data/raw/iris.csv is a symbolic link to ${join(shared, 'iris.csv')}, outside the project: a clone of the project does not have it, and git sees none of its changes`)
    expect(findings[0]!.message).toContain(`to ${join(shared, 'gone.csv')}, outside the project, which does not exist`)
    expect(summary).toBe('4 links out of the project in data/raw/, models/ and tracked files')
  })

  it('has nothing to say about a project without links', async () => {
    const root = await folder('mlskel-links-')
    await put(root, 'data/raw/iris.csv', 'a\n1\n')
    const { findings, summary } = await linksRule.run(makeContext(root))
    expect(findings).toEqual([])
    expect(summary).toBe('no link out of the project in data/raw/, models/ and tracked files')
  })
})
