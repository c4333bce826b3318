// `mlskel runs` on a real project: the template, trained twice (its stages run in this process), then listed, diffed
// and verified by the built CLI (also after its raw data changed, outside git, and with a commit that is not there).
// Slow: one project is built and trained once for the whole file; each verify re-trains in a temporary checkout (a few
// seconds each). These are classifications; tests/e2e/project.test.ts verifies a regression, in an installed project.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTemplateProject, runTemplateStages } from '../scaffold/test-project.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const cli = join(repo, 'dist', 'cli', 'index.js')

let work: string
let project: string
const runs: string[] = []

interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

function mlskel(args: string[], cwd = project): Exit {
  // TMPDIR inside the work folder: the last test checks that no checkout is left there
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TMPDIR: join(work, 'tmp') }
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'MLSKEL_SET') delete env[key]
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

function ok(result: Exit): Exit {
  if (result.code !== 0) throw new Error(`exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`)
  return result
}

function git(args: string[], cwd = project): string {
  const result = spawnSync('git', ['-c', 'user.name=mlskel test', '-c', 'user.email=test@mlskel.invalid', ...args], { cwd, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

/** A project as `mlskel new` makes it, without installing, with a small model (fast to train twice). */
function createProject(dir: string): void {
  createTemplateProject(dir)
  setParams(dir, (text) => text.replace(/^( {2}type: gradient_boosting.*)$/m, '$1\n  max_iter: 8'))
}

function setParams(dir: string, edit: (text: string) => string): void {
  const file = join(dir, 'params.yaml')
  writeFileSync(file, edit(readFileSync(file, 'utf8')))
}

function recordFile(runId: string): string {
  return join(project, 'models', 'metadata', `${runId}.json`)
}

/** Change a record on disk for one test, then put it back. */
interface EditableRecord {
  model_hash: string
  scores: Record<string, Record<string, number>>
  git: { commit: string | null }
}

function withRecord(runId: string, edit: (record: EditableRecord) => void, test: () => void): void {
  const file = recordFile(runId)
  const original = readFileSync(file, 'utf8')
  const record = JSON.parse(original) as EditableRecord
  edit(record)
  writeFileSync(file, JSON.stringify(record, null, 2))
  try {
    test()
  } finally {
    writeFileSync(file, original)
  }
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build mlskel first (npm run build)`)
  work = mkdtempSync(join(tmpdir(), 'mlskel-runs-verify-'))
  project = join(work, 'iris')
  mkdirSync(join(work, 'tmp'))
  createProject(project)
  git(['init', '-q'])
  git(['add', '-A'])
  git(['commit', '-q', '-m', 'initial'])
  // 1. a training from a clean tree; 2. one with max_iter changed and not committed (its diff is recorded). The
  // project's stages run in this process (what `mlskel run train` runs; verify reproduces with `mlskel run train`
  // itself, in a checkout, so the runner's part is in every verification)
  await runTemplateStages(project, ['generate-dataset', 'train'])
  setParams(project, (text) => text.replace(/max_iter: \d+/, 'max_iter: 12'))
  await runTemplateStages(project, ['train'])
  runs.push(...readdirSync(join(project, 'models', 'metadata')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort())
}, 120_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('mlskel runs on a project trained twice', { timeout: 60_000 }, () => {
  it('lists both trainings, newest first, the dirty one marked', () => {
    const out = ok(mlskel(['runs', 'list'])).stdout
    const lines = out.split('\n')
    expect(lines[0]).toMatch(/^run\s+time\s+model\s+task\s+accuracy/)
    expect(lines[1]).toContain(runs[1])
    expect(lines[1]).toMatch(/[0-9a-f]{8}\*$/)
    expect(lines[2]).toContain(runs[0])
    expect(lines[2]).toMatch(/[0-9a-f]{8}$/)
    const json = JSON.parse(ok(mlskel(['runs', 'list', '--json', '--limit', '1'])).stdout)
    expect(json).toHaveLength(1)
    expect(json[0].run_id).toBe(runs[1])
  })

  it('shows a record by unique prefix, and diffs the two: the max_iter change and the score deltas', () => {
    const shown = ok(mlskel(['runs', 'show', runs[0]!.slice(0, 22)])).stdout
    expect(shown).toContain(`run ${runs[0]}`)
    expect(shown).toMatch(/model\.max_iter\s+8/)
    const diff = ok(mlskel(['runs', 'diff', runs[0]!, 'latest'])).stdout
    expect(diff).toMatch(/model\.max_iter\s+8\s+→\s+12/)
    expect(diff).toMatch(/scores \(delta = b - a\)/)
    expect(diff).toContain('b was trained from uncommitted changes (saved in')
    const json = JSON.parse(ok(mlskel(['runs', 'diff', runs[0]!, runs[1]!, '--json'])).stdout)
    expect(json.params).toEqual([{ key: 'model.max_iter', a: 8, b: 12 }])
  })

  it('verifies the training from uncommitted changes, with its recorded diff, and keeps the checkout on request', () => {
    const record = JSON.parse(readFileSync(recordFile(runs[1]!), 'utf8'))
    expect(record.git.dirty).toBe(true)
    expect(record.git.diff?.file, 'the dirty run records its diff').toBe(`${runs[1]}.diff`)
    const result = mlskel(['runs', 'verify', 'latest', '--json', '--keep'])
    expect(result.code, result.stderr).toBe(0)
    const json = JSON.parse(result.stdout)
    expect(json).toMatchObject({ verified: true, status: 'verified', run_id: runs[1] })
    expect(readFileSync(join(json.checkout, 'repo', 'params.yaml'), 'utf8')).toContain('max_iter: 12')
    rmSync(json.checkout, { recursive: true, force: true })
  })

  // A reproduction of the training from a clean commit: the model it trains is the one recorded, byte for byte, and
  // with the record edited and the stored model.json changed, it says what differs. (Its success, exit 0 and
  // "verified", is the other verifications' below, and project.test.ts's; one reproduction here, not two.)
  it('reproduces the training from a clean commit, and says what differs, with exit code 1, when the record or the stored model.json does not match it', () => {
    const record = JSON.parse(readFileSync(recordFile(runs[0]!), 'utf8')) as { model_location: string }
    const modelFile = join(project, record.model_location, 'model.json')
    const original = readFileSync(modelFile)
    // one reproduction for both: the record edited, and the stored model.json changed by a byte (its manifest not)
    const changed = Buffer.concat([original, Buffer.from(' ')])
    try {
      writeFileSync(modelFile, changed)
      withRecord(
        runs[0]!,
        (edited) => {
          edited.model_hash = 'f'.repeat(64)
          edited.scores.accuracy!.hold_out = 0.5
        },
        () => {
          const result = mlskel(['runs', 'verify', runs[0]!, '--json'])
          expect(result.code).toBe(1)
          expect(result.stderr).toContain('verify: code: commit')
          const json = JSON.parse(result.stdout)
          expect(json).toMatchObject({ verified: false, status: 'differs' })
          expect(json.differences).toEqual([
            { field: 'model_hash', recorded: 'f'.repeat(64), reproduced: expect.stringMatching(/^[0-9a-f]{64}$/) },
            { field: 'scores.accuracy.hold_out', recorded: 0.5, reproduced: expect.any(Number) },
            // the stored file's own bytes hashed, not its manifest's word for them
            { field: `stored ${record.model_location}/model.json`, recorded: 'f'.repeat(64), reproduced: createHash('sha256').update(changed).digest('hex') },
          ])
          // the reproduction itself is the model that was trained
          expect(json.differences[0].reproduced).toBe(createHash('sha256').update(original).digest('hex'))
        },
      )
    } finally {
      writeFileSync(modelFile, original)
    }
  })

  it('cannot verify, with exit code 2 naming the file, after a raw input changed or went away', () => {
    const raw = join(project, 'data', 'raw', 'iris.csv')
    const original = readFileSync(raw, 'utf8')
    try {
      writeFileSync(raw, original.replace('5.1,3.5', '5.2,3.5'))
      const changed = mlskel(['runs', 'verify', runs[0]!])
      expect(changed.code).toBe(2)
      expect(changed.stderr).toMatch(/MLSKEL_VERIFY_INPUT_CHANGED.*not reproducible: data\/raw\/iris\.csv changed since training \(sha256 was [0-9a-f]{64}, is [0-9a-f]{64}\)/)
      rmSync(raw)
      const gone = mlskel(['runs', 'verify', runs[0]!, '--json'])
      expect(gone.code).toBe(2)
      expect(JSON.parse(gone.stdout)).toMatchObject({ verified: false, status: 'cannot_verify', code: 'MLSKEL_VERIFY_INPUT_CHANGED' })
      expect(JSON.parse(gone.stdout).reason).toContain('data/raw/iris.csv is gone since training')
    } finally {
      writeFileSync(raw, original)
    }
  })

  it('cannot verify a run whose commit is not in the repository, nor an unknown run id', () => {
    withRecord(
      runs[0]!,
      (record) => (record.git.commit = '0123456789abcdef0123456789abcdef01234567'),
      () => {
        const result = mlskel(['runs', 'verify', runs[0]!])
        expect(result.code).toBe(2)
        expect(result.stderr).toContain('MLSKEL_VERIFY_COMMIT_MISSING')
        expect(result.stderr).toContain('commit 0123456789abcdef0123456789abcdef01234567')
      },
    )
    const unknown = mlskel(['runs', 'verify', 'nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('MLSKEL_RUN_NOT_FOUND')
  })

  it('cannot verify in a folder that is not a git repository', () => {
    const copy = join(work, 'not-git')
    cpSync(project, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.endsWith('/.git') })
    const result = mlskel(['runs', 'verify', 'latest'], copy)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('MLSKEL_VERIFY_NOT_GIT')
  })

  it('trains from an external input that mlskel.yaml declares, reads it in place, and verifies that run', async () => {
    const copy = join(work, 'external')
    cpSync(project, copy, { recursive: true, verbatimSymlinks: true })
    const shared = join(work, 'shared', 'iris.csv')
    mkdirSync(join(work, 'shared'))
    cpSync(join(copy, 'data', 'raw', 'iris.csv'), shared)
    rmSync(join(copy, 'data', 'raw', 'iris.csv'))
    writeFileSync(join(copy, 'data', 'raw', '.gitkeep'), '') // the folder stays, for the data kept in the project
    setParams(copy, (text) => text.replace(/^( {2}raw:) \S+/m, `$1 ${shared}`))
    const yaml = join(copy, 'mlskel.yaml')
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('deps: [src/etl, src/helpers, src/settings.ts, data/raw]', `deps: [src/etl, src/helpers, src/settings.ts, data/raw, ${shared}]`).replace(/^stages:/m, `external:\n  - ${shared}\nstages:`))
    git(['add', '-A'], copy)
    git(['commit', '-q', '-m', 'iris kept outside the project'], copy)

    // trained in this process; verify reproduces it with `mlskel run train` in a checkout, the runner hashing the
    // external input as a dep of generate-dataset
    await runTemplateStages(copy, ['generate-dataset', 'train'])
    const newest = readdirSync(join(copy, 'models', 'metadata')).filter((f) => f.endsWith('.json')).sort().pop()!
    const record = JSON.parse(readFileSync(join(copy, 'models', 'metadata', newest), 'utf8')) as { run_id: string; data: { location: string; inputs: { path: string }[] } }
    expect(record.data.location).toBe(shared)
    expect(record.data.inputs[0]!.path).toBe(shared)
    const check = JSON.parse(mlskel(['check', '--only', 'raw-data', '--accept-raw', '--json'], copy).stdout) as { ok: boolean }
    expect(check.ok).toBe(true)
    expect(Object.keys((JSON.parse(readFileSync(join(copy, 'data', 'raw.manifest.json'), 'utf8')) as { external: object }).external)).toEqual([shared])

    const result = mlskel(['runs', 'verify', record.run_id, '--json'], copy)
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ verified: true })
    // nothing of the checkout was written beside the shared data
    expect(readdirSync(join(work, 'shared'))).toEqual(['iris.csv'])
  })

  it('leaves no temporary checkout behind', () => {
    expect(readdirSync(join(work, 'tmp')).filter((name) => name.startsWith('mlskel-verify-'))).toEqual([])
  })
})
