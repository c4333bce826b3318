import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { saveModel, trainRandomForest, type SavedModel } from '../models/index.js'
import { clusters } from '../models/test-data.js'
import { gitState, stripCredentials } from './git.js'
import { readRecord, recordDiffPath, recordTraining, type RecordTrainingOptions } from './index.js'

let work: string
let root: string

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlskel-git-test-'))
  root = join(work, 'project')
  await mkdir(root)
})
afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim()
}

/** A repository with code, a binary file, mlskel.yaml (its outs) and the template's .gitignore, committed. */
async function committedProject(dir = root): Promise<void> {
  git(dir, 'init', '-q')
  await mkdir(join(dir, 'src'), { recursive: true })
  await writeFile(join(dir, 'src', 'train.ts'), 'export const trees = 10\n')
  await writeFile(join(dir, 'src', 'old.ts'), 'export {}\n')
  await writeFile(join(dir, 'logo.bin'), Buffer.from([0, 1, 2, 3, 255, 0, 10]))
  await writeFile(join(dir, 'mlskel.yaml'), 'stages:\n  prepare:\n    cmd: "true"\n    outs: [data/prepared]\n  train:\n    cmd: "true"\n    outs: [models]\n')
  await writeFile(join(dir, 'mlskel.lock'), '# lock\nstages: {}\n')
  await writeFile(join(dir, '.gitignore'), 'node_modules/\n*.log\n.mlskel/\n')
  git(dir, 'add', '.')
  git(dir, 'commit', '-q', '-m', 'init')
}

const { data: trainingData, signature } = clusters(5)

async function trainAndSave(projectRoot = root): Promise<SavedModel> {
  const predictor = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 2 }, seed: 1, signature, data: trainingData })
  return saveModel(join(projectRoot, 'models'), predictor, { description: 'clusters', inputExample: [{ f0: 0, f1: 0, f2: 0, f3: 0 }] })
}

async function record(extra: Partial<RecordTrainingOptions> = {}, projectRoot = root) {
  const model = await trainAndSave(projectRoot)
  return recordTraining({
    root: projectRoot,
    metadataDir: join(projectRoot, 'models', 'metadata'),
    model,
    description: 'clusters',
    task: 'classification',
    hyperParameters: { n_estimators: 2 },
    params: { split: { seed: 1 } },
    overrides: {},
    data: { location: 'data/raw/x.csv', identifier: 'a'.repeat(64), rows: 15, features: ['f0', 'f1', 'f2', 'f3'], target: 'label' },
    trainingData,
    evaluation: { hold_out: { rows: 1, confusion_matrix: { labels: ['a'], matrix: [[1]] } } },
    testingStrategy: 'none',
    scores: { accuracy: { cv: 1 } },
    ...extra,
  })
}

/** Every file under `dir` but .git, with its content hash. */
async function tree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    if (!entry.isFile() || path.includes(`${join(dir, '.git')}`)) continue
    files[path.slice(dir.length + 1)] = createHash('sha256').update(await readFile(path)).digest('hex')
  }
  return files
}

describe('the git state in a training record', () => {
  it('is clean, with no diff, right after a commit', async () => {
    await committedProject()
    const r = await record()
    expect(r.git).toMatchObject({ commit: git(root, 'rev-parse', 'HEAD'), branch: 'main', dirty: false, diff: null })
  })

  it('does not count what mlskel writes during a run: the model, the records, stage outputs, mlskel.lock, .mlskel/', async () => {
    await committedProject()
    await record() // a first model folder and record, not committed
    await mkdir(join(root, 'data', 'prepared'), { recursive: true })
    await writeFile(join(root, 'data', 'prepared', 'rows.csv'), 'a\n1\n')
    await writeFile(join(root, 'mlskel.lock'), '# lock\nstages: { train: {} }\n')
    await mkdir(join(root, '.mlskel', 'cache'), { recursive: true })
    await writeFile(join(root, '.mlskel', 'cache', 'hashes.json'), '{}')
    await writeFile(join(root, 'run.log'), 'ignored by .gitignore\n')
    // the stage outputs are the caller's to name (a stage's stageContext().pipelineOutputs): recordTraining reads no mlskel.yaml
    expect((await record({ gitExclude: ['scratch'] })).git.dirty).toBe(true)
    const r = await record({ gitExclude: ['scratch', 'data/prepared'] })
    expect(r.git).toMatchObject({ dirty: false, diff: null })
    await mkdir(join(root, 'scratch'))
    await writeFile(join(root, 'scratch', 'notes.txt'), 'mine\n')
    expect((await record({ gitExclude: ['scratch', 'data/prepared'] })).git.dirty).toBe(false)
    await writeFile(join(root, 'notes.txt'), 'a new file counts\n')
    expect((await record()).git.dirty).toBe(true)
  })

  it('saves a diff that git apply turns a clean clone of the commit into the trained-from files: changes, deletions, new and binary files', async () => {
    await committedProject()
    const indexBefore = await readFile(join(root, '.git', 'index'))
    const objectsBefore = git(root, 'count-objects', '-v')
    await writeFile(join(root, 'src', 'train.ts'), 'export const trees = 200\n')
    await unlink(join(root, 'src', 'old.ts'))
    await writeFile(join(root, 'src', 'new.ts'), 'export const added = true\n')
    await writeFile(join(root, 'logo.bin'), Buffer.from([9, 0, 8, 0, 255, 254, 0, 0, 1]))
    await writeFile(join(root, 'weights.bin'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)))
    await writeFile(join(root, 'debug.log'), 'ignored, so left out\n')
    await mkdir(join(root, '.mlskel'))
    await writeFile(join(root, '.mlskel', 'run.lock'), 'ignored, and excluded as mlskel\'s own\n')
    const r = await record()
    expect(r.git.dirty).toBe(true)
    const diff = r.git.diff!
    expect(diff).toMatchObject({ file: `${r.run_id}.diff`, truncated: false, cap_bytes: 5 * 1024 * 1024 })
    const patch = await readFile(recordDiffPath(join(root, 'models', 'metadata'), r)!)
    expect(patch.length).toBe(diff.bytes)
    expect(createHash('sha256').update(patch).digest('hex')).toBe(diff.sha256)
    expect(patch.toString('utf8')).not.toContain('debug.log')
    expect(patch.toString('utf8')).not.toContain('models/')

    // the user's index and object store are untouched
    expect(await readFile(join(root, '.git', 'index'))).toEqual(indexBefore)
    expect(git(root, 'count-objects', '-v')).toBe(objectsBefore)
    expect(git(root, 'status', '--porcelain')).toContain('?? src/new.ts')

    const clone = join(work, 'clone')
    git(work, 'clone', '-q', root, clone)
    git(clone, 'checkout', '-q', r.git.commit!)
    git(clone, 'apply', '--binary', join(root, 'models', 'metadata', diff.file!))
    const expected = await tree(root)
    for (const path of Object.keys(expected)) if (path.startsWith('models/') || path.startsWith('.mlskel/') || path === 'debug.log') delete expected[path]
    expect(await tree(clone)).toEqual(expected)
  })

  it('limits the diff to the project when it is a folder of a larger repository', async () => {
    await writeFile(join(work, 'other.txt'), 'outside\n')
    await committedProject(work) // commits project/ as well as the repository's own files
    await writeFile(join(work, 'other.txt'), 'changed outside the project\n')
    expect((await record()).git).toMatchObject({ dirty: false, diff: null })
    await writeFile(join(root, 'added.ts'), 'export {}\n')
    const r = await record()
    const patch = await readFile(join(root, 'models', 'metadata', r.git.diff!.file!), 'utf8')
    expect(patch).toContain('b/project/added.ts')
    expect(patch).not.toContain('other.txt')
  })

  it('records a diff over the cap as truncated, with its size and hash, and saves no partial patch', async () => {
    await committedProject()
    await writeFile(join(root, 'src', 'big.ts'), `export const lines = [\n${Array.from({ length: 2000 }, (_, i) => `  ${i},`).join('\n')}\n]\n`)
    const r = await record({ diffCapBytes: 1000 })
    expect(r.git.dirty).toBe(true)
    expect(r.git.diff).toMatchObject({ file: null, truncated: true, cap_bytes: 1000 })
    expect(r.git.diff!.bytes).toBeGreaterThan(1000)
    expect(r.git.diff!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect((await readdir(join(root, 'models', 'metadata'))).filter((f) => f.endsWith('.diff'))).toEqual([])
    expect(recordDiffPath(join(root, 'models', 'metadata'), r)).toBeNull()
    expect(await readRecord(join(root, 'models', 'metadata', `${r.run_id}.json`))).toEqual(r)
  })

  it('records the remote URL without credentials', async () => {
    await committedProject()
    git(root, 'remote', 'add', 'origin', 'https://alice:s3cret-token@git.example.com/team/model.git')
    expect((await record()).git.remote_url).toBe('https://git.example.com/team/model.git')
  })

  it("takes the branch's own remote over origin, and origin over the others; a rewritten URL as git rewrites it", async () => {
    await committedProject()
    git(root, 'remote', 'add', 'archive', 'https://git.example.com/archive/model.git')
    expect((await gitState(root)).remote_url).toBe('https://git.example.com/archive/model.git')
    git(root, 'remote', 'add', 'origin', 'https://git.example.com/team/model.git')
    expect((await gitState(root)).remote_url).toBe('https://git.example.com/team/model.git')
    git(root, 'remote', 'add', 'fork.of.it', 'gh:alice/model.git')
    git(root, 'config', 'branch.main.remote', 'fork.of.it')
    git(root, 'config', 'url.https://github.com/.insteadOf', 'gh:')
    expect((await gitState(root)).remote_url).toBe('https://github.com/alice/model.git')
  })

  it('names the commit but no branch when HEAD is detached, and is not misled by a file named HEAD', async () => {
    await committedProject()
    await writeFile(join(root, 'HEAD'), 'a file, not the revision\n')
    git(root, 'add', 'HEAD')
    git(root, 'commit', '-q', '-m', 'a file named HEAD')
    const commit = git(root, 'rev-parse', 'HEAD')
    expect(await gitState(root)).toMatchObject({ commit, branch: 'main', dirty: false, diff: null })
    git(root, 'checkout', '-q', '--detach')
    expect(await gitState(root)).toMatchObject({ commit, branch: null, dirty: false, diff: null })
  })

  it('says dirty, with no diff, before the first commit', async () => {
    git(root, 'init', '-q')
    await writeFile(join(root, 'train.ts'), '// code\n')
    expect(await gitState(root)).toEqual({ commit: null, branch: 'main', remote_url: null, dirty: true, diff: null })
  })

  it('is all null outside a repository', async () => {
    expect(await gitState(root)).toEqual({ commit: null, branch: null, remote_url: null, dirty: null, diff: null })
    expect(existsSync(join(root, '.git'))).toBe(false)
  })
})

describe('stripCredentials', () => {
  it.each([
    ['https://user:token@github.com/a/b.git', 'https://github.com/a/b.git'],
    ['https://ghp_abc123@github.com/a/b.git', 'https://github.com/a/b.git'],
    ['http://u:p@w@host:8080/x', 'http://host:8080/x'],
    ['ssh://git:pw@host.com/a/b.git', 'ssh://git@host.com/a/b.git'],
    ['ssh://git@host.com/a/b.git', 'ssh://git@host.com/a/b.git'],
    ['git@github.com:a/b.git', 'git@github.com:a/b.git'],
    ['https://github.com/a/b.git', 'https://github.com/a/b.git'],
    ['/srv/repos/b.git', '/srv/repos/b.git'],
  ])('turns %s into %s', (url, stripped) => {
    expect(stripCredentials(url)).toBe(stripped)
  })
})
