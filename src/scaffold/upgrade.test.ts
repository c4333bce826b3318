// mlskel upgrade on a project made by an "older template": this template with a few files as they were before,
// committed as `mlskel new` commits them, then edited by the user.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createProject, gitBlobId, initGit, readTemplateRecord, TEMPLATE_RECORD } from './index.js'
import { upgradeProject } from './upgrade.js'

const dirs: string[] = []
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' })

/**
 * A project as an older mlskel (0.0.9) made it: its `older` files (path → content then) in place of this template's,
 * recorded and committed; then `edit` (the user's changes), committed.
 */
async function olderProject(older: Record<string, string>, edit: (root: string) => Promise<void>): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'mlskel-upgrade-test-'))
  dirs.push(parent)
  const root = join(parent, 'churn-model')
  await createProject({ dir: root, mlskelSpec: '^0.0.9' })
  const record = (await readTemplateRecord(root))!
  for (const [path, content] of Object.entries(older)) {
    if (content === '') {
      await rm(join(root, path))
      delete record.files[path]
      continue
    }
    await writeFile(join(root, path), content)
    record.files[path] = gitBlobId(Buffer.from(content))
  }
  await writeFile(join(root, TEMPLATE_RECORD), JSON.stringify({ ...record, mlskel: '0.0.9' }, null, 2))
  expect(await initGit(root)).toEqual({ status: 'committed' })
  await edit(root)
  git(root, 'commit', '-qam', 'my edits')
  return root
}

const read = (root: string, path: string) => readFile(join(root, path), 'utf8')

describe('upgradeProject', () => {
  it('merges the template\'s changes with the user\'s edits, replaces untouched files, adds new ones, marks conflicts', async () => {
    const template = async (path: string) => (await createProjectFile(path))
    const makefile = await template('Makefile')
    const readme = await template('README.md')
    const compose = await template('docker-compose.yml')
    // the older template: one Makefile recipe and the README's first paragraph were different, compose had no comment
    const oldMakefile = makefile.replace('count-test-files: ## count the test files', 'count-test-files: ## count test files (old)')
    const oldReadme = readme.replace(/^A machine-learning project made with .*$/m, 'An ML project made with mlskel (old wording).')
    const oldCompose = `# old compose header\n${compose}`
    const root = await olderProject({ Makefile: oldMakefile, 'README.md': oldReadme, 'docker-compose.yml': oldCompose, 'vendor/README.md': '' }, async (r) => {
      // the user: a target of their own at the end of the Makefile, and the same README line the template changed
      await writeFile(join(r, 'Makefile'), `${oldMakefile}\nmy-target: ## mine\n\techo mine\n`)
      await writeFile(join(r, 'README.md'), oldReadme.replace('An ML project made with mlskel (old wording).', 'Our churn model, for the retention team.'))
    })

    const dry = await upgradeProject(root, { dryRun: true })
    expect(dry.changes.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'Makefile', action: 'merged' },
      { path: 'README.md', action: 'conflict', conflicts: 1 },
      { path: 'docker-compose.yml', action: 'updated' },
      { path: 'vendor/README.md', action: 'added' },
    ])
    expect(await read(root, 'Makefile')).toContain('(old)')
    expect(git(root, 'status', '--porcelain')).toBe('')

    const result = await upgradeProject(root)
    expect(result).toMatchObject({ from: '0.0.9', dryRun: false })
    // merged: the template's new recipe comment and the user's own target
    const merged = await read(root, 'Makefile')
    expect(merged).toContain('count-test-files: ## count the test files')
    expect(merged).not.toContain('(old)')
    expect(merged).toContain('my-target: ## mine')
    // a conflict, marked the way git marks them
    const conflicted = await read(root, 'README.md')
    expect(conflicted).toMatch(/<<<<<<< yours\nOur churn model, for the retention team\.\n=======\nA machine-learning project made with .*\n>>>>>>> template now\n/)
    expect(await read(root, 'docker-compose.yml')).toBe(compose)
    expect(existsSync(join(root, 'vendor', 'README.md'))).toBe(true)
    // the record now names this template, so a second upgrade has nothing more to do
    const record = (await readTemplateRecord(root))!
    expect(record.mlskel).toBe(result.to)
    expect(record.files['docker-compose.yml']).toBe(gitBlobId(Buffer.from(compose)))
    await writeFile(join(root, 'README.md'), readme)
    expect((await upgradeProject(root)).changes).toEqual([])
  })

  it('leaves a template file the user deleted deleted, and says so', async () => {
    const gitignore = await createProjectFile('.gitignore')
    const root = await olderProject({ '.gitignore': `${gitignore}old-line\n` }, async (r) => {
      git(r, 'rm', '-q', '.gitignore')
    })
    expect((await upgradeProject(root)).changes).toEqual([{ path: '.gitignore', action: 'deleted-kept' }])
    expect(existsSync(join(root, '.gitignore'))).toBe(false)
  })

  it('refuses a project without a template record', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlskel-upgrade-none-'))
    dirs.push(root)
    await expect(upgradeProject(root)).rejects.toMatchObject({ code: 'MLSKEL_UPGRADE_NO_RECORD' })
  })
})

/** A file as this template writes it into a project named churn-model. */
async function createProjectFile(path: string): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'mlskel-upgrade-file-'))
  dirs.push(parent)
  const root = join(parent, 'churn-model')
  await createProject({ dir: root, mlskelSpec: '^0.0.9' })
  return read(root, path)
}
