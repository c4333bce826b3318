// A training killed at every file operation between its model's first write and its record's commit (issue 14,
// item 12): the next `mlskel run` succeeds, `mlskel check` passes, and no temp file, temp model folder, uncommitted
// model or diff without its record is left. The pipeline runner as built (dist/) runs a real training stage, killed
// by SIGKILL from a preloaded module that counts the stage's file operations under models/. The runner and the check
// run in this process, as `mlskel run` and `mlskel check` call them (a CLI start for each of the ~80 runs and checks
// more than doubled this file's time; the commands themselves are tested in src/cli and src/check): the runner as
// built, the check from its sources (the build bundles it into the CLI's chunks, with no entry point of its own).
import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCheck } from '../../src/check/index.js'
import { builtCli } from '../pack.js'

const repo = resolve(import.meta.dirname, '../..')
let work: string
let runPipeline: (options: RunOptions) => Promise<{ ok: boolean; error?: { code: string; message: string } }>
beforeAll(async () => {
  // built first when stale: the stage imports dist/index.js too
  builtCli()
  ;({ runPipeline } = await import(pathToFileURL(join(repo, 'dist/index.js')).href))
  work = mkdtempSync(join(tmpdir(), 'mlskel-crash-'))
})
afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

/**
 * Preloaded into the stage: with MLSKEL_TEST_CRASH_AT=n, the process kills itself with SIGKILL just before its n-th
 * file operation (open, rename, mkdir, rm, unlink, writeFile) on a path under models/, as a crash or a power cut
 * would stop it: nothing after runs, no catch, no finally. It notes where it died in crashed-at.
 */
const CRASH = `import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
const at = Number(process.env.MLSKEL_TEST_CRASH_AT ?? 0)
if (at > 0) {
  const models = fs.realpathSync('models')
  let n = 0
  for (const name of ['open', 'rename', 'mkdir', 'rm', 'unlink', 'writeFile']) {
    const real = fs.promises[name]
    fs.promises[name] = function (...args) {
      const paths = args.filter((a) => typeof a === 'string')
      if (paths.some((p) => p.startsWith(models)) && ++n === at) {
        fs.writeFileSync('crashed-at', name + ' ' + paths.join(' '))
        process.kill(process.pid, 'SIGKILL')
      }
      return real.apply(this, args)
    }
  }
  syncBuiltinESMExports()
}
`

/** A training as the template's: save the model, then record it (a dirty work tree, so a diff is saved too). */
const TRAIN = `import { realpathSync } from 'node:fs'
import { join } from 'node:path'
import { recordTraining, saveModel, trainRandomForest } from ${JSON.stringify(pathToFileURL(join(repo, 'dist/index.js')).href)}
const root = realpathSync('.')
const seed = Number(process.env.TRAIN_SEED ?? 1)
const X = Array.from({ length: 30 }, (_, i) => [(i % 3) * 5 + ((i * 7) % 11) / 10, ((i * 13) % 17) / 17])
const y = X.map((_, i) => ['a', 'b', 'c'][i % 3])
const signature = { features: [{ name: 'f0', type: 'number' }, { name: 'f1', type: 'number' }], target: { name: 'label', type: 'category', classes: ['a', 'b', 'c'] } }
const predictor = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 2 }, seed, signature, data: { X, y } })
const model = await saveModel(join(root, 'models'), predictor, { description: 'crash test', inputExample: [] })
await recordTraining({
  root,
  metadataDir: join(root, 'models', 'metadata'),
  model,
  description: 'crash test',
  task: 'classification',
  hyperParameters: { n_estimators: 2 },
  params: {},
  overrides: {},
  data: { location: 'x.csv', identifier: 'a'.repeat(64), rows: 30, features: ['f0', 'f1'], target: 'label' },
  trainingData: { X, y },
  evaluation: { hold_out: { rows: 1, confusion_matrix: { labels: ['a'], matrix: [[1]] } } },
  testingStrategy: 'none',
  scores: { accuracy: { cv: 1 } },
})
`

/** What the tests give the runner: runPipeline's options as `mlskel run [--force]` sets them, the stages' output kept. */
interface RunOptions {
  root: string
  force: boolean
  env: NodeJS.ProcessEnv
  progress: null
  output: { stdout: Writable; stderr: Writable }
  forwardSignals: false
}

interface Ran {
  ok: boolean
  /** The code of the error that stopped the run, if one did. */
  code: string | undefined
  /** The error's message and what the stage printed: for the failure messages. */
  output: string
}

/** `mlskel run [--force]` in `root`, with `env` added to the stage's environment. */
async function mlskelRun(root: string, env: Record<string, string>, force = false): Promise<Ran> {
  let output = ''
  const sink = () => new Writable({ write: (chunk: Buffer, _encoding, done) => ((output += chunk.toString()), done()) })
  const summary = await runPipeline({ root, force, env: { ...process.env, NO_COLOR: '1', ...env }, progress: null, output: { stdout: sink(), stderr: sink() }, forwardSignals: false })
  return { ok: summary.ok, code: summary.error?.code, output: `${summary.error?.message ?? ''}\n${output}` }
}

/** A git repository with the training stage committed, and an uncommitted change (so records save a diff). */
function baseProject(name: string): string {
  const root = join(work, name)
  const files: Record<string, string> = {
    'mlskel.yaml': 'stages:\n  train:\n    cmd: node --import ./crash.mjs train.mjs\n    deps: [train.mjs]\n    outs: [models]\n',
    'crash.mjs': CRASH,
    'train.mjs': TRAIN,
    'notes.txt': 'committed\n',
    '.gitignore': '.mlskel/\n',
    'models/metadata/.gitkeep': '',
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root })
  git('init', '-q')
  git('add', '-A')
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'project')
  appendFileSync(join(root, 'notes.txt'), 'not committed\n')
  return root
}

/** What a crash must not leave behind once a run went through: temp files and folders, uncommitted models, lone diffs. */
function leftovers(root: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name).slice(root.length + 1)
    if (path.startsWith('.git/') || path === '.git') continue
    if (entry.name.startsWith('.mlskel-tmp-') || entry.name === '.mlskel-pending.json') found.push(path)
    if (entry.name.endsWith('.diff') && !existsSync(join(entry.parentPath, `${entry.name.slice(0, -'.diff'.length)}.json`))) found.push(`${path} (no record)`)
  }
  return found
}

/**
 * Crash the training at its 1st, 2nd, ... file operation under models/ (in a fresh copy of `base` each time) until
 * one run goes through uncrashed; after each crash, run again and check. Returns how many crash points there were.
 */
async function crashAtEveryPoint(base: string, force: boolean): Promise<number> {
  for (let at = 1; ; at++) {
    const root = `${base}-at-${at}`
    cpSync(base, root, { recursive: true })
    const crashed = await mlskelRun(root, { MLSKEL_TEST_CRASH_AT: String(at), TRAIN_SEED: '1' }, force)
    if (!existsSync(join(root, 'crashed-at'))) {
      expect(crashed.ok, crashed.output).toBe(true)
      return at - 1
    }
    const where = readFileSync(join(root, 'crashed-at'), 'utf8')
    expect(crashed.code, `${where}\n${crashed.output}`).toBe('MLSKEL_STAGE_KILLED')

    // a new model this time (another seed), so that what the crash left is not simply overwritten
    const again = await mlskelRun(root, { TRAIN_SEED: '2' })
    expect(again.ok, `after a crash at ${where}:\n${again.output}`).toBe(true)
    // mlskel check's rules as `check --only models,pipeline` runs them
    const report = await runCheck({ root, only: ['models', 'pipeline'] })
    expect(report.rules.flatMap((r) => r.findings).filter((f) => f.level !== 'info'), `after a crash at ${where}`).toEqual([])
    expect(report.ok).toBe(true)
    expect(leftovers(root), `after a crash at ${where}`).toEqual([])
    rmSync(root, { recursive: true, force: true })
  }
}

describe.concurrent('a training killed between its model write and its record write', () => {
  it('leaves nothing half-done once the next run has gone through: a new model', async () => {
    const points = await crashAtEveryPoint(baseProject('new-model'), false)
    // saveModel: the temp folder, model.json, manifest.json, the pending file and their renames, the folder's rename;
    // recordTraining: its claim on the model, the diff, the record, the pending file's removal (22 when written)
    expect(points).toBeGreaterThanOrEqual(15)
  }, 600_000)

  it('leaves nothing half-done once the next run has gone through: a model saved before (kept, recorded again)', async () => {
    const base = baseProject('kept-model')
    const first = await mlskelRun(base, { TRAIN_SEED: '1' })
    expect(first.ok, first.output).toBe(true)
    const points = await crashAtEveryPoint(base, true)
    // saveModel fills a temp folder before it finds the model there; then the claim, the diff, the record, the release
    expect(points).toBeGreaterThanOrEqual(10)
  }, 600_000)
})
