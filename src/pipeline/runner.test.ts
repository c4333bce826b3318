// runPipeline on real fixture projects: real stage processes, real hashes, real mlskel.lock.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { lockFileSchema } from './schema.js'
import { LOCK_FILE } from './lock.js'
import { RUN_LOCK_FILE } from './run-lock.js'
import { HASH_CACHE_FILE, runPipeline, type RunPipelineOptions, type RunSummary } from './runner.js'

// Each stage writes <out>/out.txt with what its hand-off (MLSKEL_STAGE names it) and environment told it (`seen`
// reads it), copies the hand-off to handoffs/<stage>.json, and appends its name to runs.log. The run id changes
// every run: it stays out of the outputs (their hashes would make every downstream stage's dep change with it). A
// shell script: the runner tests start some 150 stages, and a Node.js process for each was 0.1 s of CPU (~15 s).
// The hand-off is one line of JSON, its overrides a flat object: sed finds the stage's name and its overrides.
const WRITER = `out=$1
shift
stage=$(sed -n 's/.*"stage":"\\([^"]*\\)".*/\\1/p' "$MLSKEL_STAGE")
overrides=$(sed -n 's/.*"overrides":\\({[^}]*}\\).*/\\1/p' "$MLSKEL_STAGE")
mkdir -p "$out" handoffs
{ printf '%s\\n%s\\n%s\\n' "$stage" "$overrides" "$PATH"; for arg in "$@"; do printf '%s\\n' "$arg"; done; } > "$out/out.txt"
cp "$MLSKEL_STAGE" "handoffs/$stage.json"
echo "$stage" >> runs.log
echo "stage $stage wrote $out"
`

/** What the stage that wrote `out` was told, from its out.txt: its name, overrides, PATH and arguments. */
function seen(root: string, out: string): { stage: string; overrides: unknown; path: string; args: string[] } {
  const [stage, overrides, path, ...args] = readFileSync(join(root, out, 'out.txt'), 'utf8').slice(0, -1).split('\n')
  return { stage: stage!, overrides: JSON.parse(overrides!), path: path!, args }
}

const PARAMS = `dataset:
  raw: iris.csv
  target: species
task: classification
split: { seed: 42 }
model: { type: random_forest, n_estimators: 10 }
`

const STAGES = `# fixture pipeline
stages:
  prepare:
    cmd: sh src/w.sh data/prepared
    deps: [data/raw, src/w.sh]
    params: [dataset, split.seed]
    outs: [data/prepared]
  train:
    cmd: sh src/w.sh models
    deps: [src/train.txt, data/prepared]
    params: [model]
    outs: [models]
  predict:
    cmd: sh src/w.sh data/predictions
    deps: [models, data/prepared]
    outs: [data/predictions]
  report:
    cmd: sh src/w.sh reports
    deps: [data/raw]
    outs: [reports]
`

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function project(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'mlskel-run-'))
  dirs.push(root)
  const all = { 'mlskel.yaml': STAGES, 'params.yaml': PARAMS, 'src/w.sh': WRITER, 'src/train.txt': 'v1\n', 'data/raw/iris.csv': 'a,species\n1,x\n', ...files }
  for (const [path, text] of Object.entries(all)) write(root, path, text)
  return root
}

function write(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), text)
}

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

interface Run extends RunSummary {
  progress: string
  output: string
}

async function run(root: string, options: Partial<RunPipelineOptions> = {}): Promise<Run> {
  const progress = new Capture()
  const output = new Capture()
  const summary = await runPipeline({ root, progress, output: { stdout: output, stderr: output }, forwardSignals: false, ...options })
  return { ...summary, progress: progress.text, output: output.text }
}

/** Whether process `pid` is the parent-death watch (execute.ts) of process group `pgid`. */
function isWatchOf(pid: string, pgid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return argv.includes('mlskel-stage-watch') && argv.includes(String(pgid))
  } catch {
    return false // it ended while we looked
  }
}

const statuses = (summary: RunSummary) => Object.fromEntries(summary.stages.map((s) => [s.name, s.status]))
const reasons = (summary: RunSummary, name: string) => summary.stages.find((s) => s.name === name)?.reasons
const lockOf = (root: string) => lockFileSchema.parse(parse(readFileSync(join(root, LOCK_FILE), 'utf8')))

// Each test has its own project folder, and the stages are processes: run them side by side.
describe.concurrent('runPipeline', () => {
  it('runs every stage in dependency order and records each in mlskel.lock', async () => {
    const root = project()
    const result = await run(root)
    expect(result.ok).toBe(true)
    expect(result.stages.map((s) => [s.name, s.status])).toEqual([
      ['prepare', 'ran'],
      ['train', 'ran'],
      ['predict', 'ran'],
      ['report', 'ran'],
    ])
    expect(reasons(result, 'prepare')).toEqual(['never run'])
    expect(readFileSync(join(root, 'runs.log'), 'utf8')).toBe('prepare\ntrain\npredict\nreport\n')
    expect(result.output).toContain('stage train wrote models')
    expect(result.progress).toContain('[2/4] train  running: never run')
    expect(result.progress).toMatch(/\[2\/4\] train {2}done in \d+/)
    expect(Object.keys(lockOf(root).stages)).toEqual(['prepare', 'train', 'predict', 'report'])
  })

  it('hands each stage its hand-off (its name, outputs, no overrides, the hashes of its deps\' files) and node_modules/.bin first on its PATH', async () => {
    const root = project()
    await run(root)
    const told = seen(root, 'models')
    expect(told).toMatchObject({ stage: 'train', overrides: {}, args: [] })
    expect(told.path.startsWith(join(root, 'node_modules', '.bin'))).toBe(true)
    const handoff = JSON.parse(readFileSync(join(root, 'handoffs/train.json'), 'utf8')) as { outs: string[]; pipeline_outs: string[]; deps: Record<string, string>; run_id: string }
    expect(handoff).toMatchObject({ outs: ['models'], pipeline_outs: ['data/prepared', 'models', 'data/predictions', 'reports'], run_id: expect.stringMatching(/^\d{8}T/) })
    // the deps' files, hashed once by the runner: a folder's files one by one
    const train = lockOf(root).stages.train!
    expect(Object.keys(handoff.deps).sort()).toEqual(['data/prepared/out.txt', 'src/train.txt'])
    expect(handoff.deps['src/train.txt']).toBe(train.deps['src/train.txt'])
    // the hand-off is gone once the stage ended
    expect(readdirSync(join(root, '.mlskel', 'stages'))).toEqual([])
  })

  it('skips every stage when nothing changed', async () => {
    const root = project()
    await run(root)
    const lockBefore = readFileSync(join(root, LOCK_FILE), 'utf8')
    const again = await run(root)
    expect(Object.values(statuses(again))).toEqual(['skipped', 'skipped', 'skipped', 'skipped'])
    expect(again.progress).toContain('up to date, skipped')
    expect(readFileSync(join(root, 'runs.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4)
    expect(readFileSync(join(root, LOCK_FILE), 'utf8')).toBe(lockBefore)
  })

  it('takes unchanged deps’ hashes from the stat cache on a no-op run, never reading them', async () => {
    const root = project()
    await run(root)
    // files changed less than 2 s before they are hashed are never cached (racy git): let them settle
    await new Promise((resolve) => setTimeout(resolve, 2100))
    await run(root)
    const cacheFile = join(root, HASH_CACHE_FILE)
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { files: Record<string, { hash: string }> }
    const raw = join(root, 'data', 'raw', 'iris.csv')
    expect(cache.files[raw]).toBeDefined()
    // poison the entry: a run that trusts the cache sees the dep as changed, one that read the file would not
    cache.files[raw]!.hash = 'f'.repeat(64)
    writeFileSync(cacheFile, JSON.stringify(cache))
    const result = await run(root, { dryRun: true })
    expect(reasons(result, 'prepare')).toEqual(['dep data/raw changed'])
  })

  it('re-runs a stage whose dep changed, and its downstream stages only', async () => {
    const root = project()
    await run(root)
    write(root, 'src/train.txt', 'version two\n')
    const result = await run(root)
    expect(statuses(result)).toEqual({ prepare: 'skipped', train: 'ran', predict: 'ran', report: 'skipped' })
    expect(reasons(result, 'train')).toEqual(['dep src/train.txt changed'])
    expect(reasons(result, 'predict')).toEqual(['upstream stage train ran'])
  })

  it('sees the data behind a symbolic link in a dep folder: a raw file linked from outside the project', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'mlskel-shared-'))
    dirs.push(outside)
    writeFileSync(join(outside, 'iris.csv'), 'a,species\n1,x\n')
    const root = project()
    rmSync(join(root, 'data/raw/iris.csv'))
    symlinkSync(join(outside, 'iris.csv'), join(root, 'data/raw/iris.csv'))
    expect(statuses(await run(root))).toEqual({ prepare: 'ran', train: 'ran', predict: 'ran', report: 'ran' })
    writeFileSync(join(outside, 'iris.csv'), 'a,species\n2,y\n')
    const result = await run(root)
    expect(statuses(result)).toMatchObject({ prepare: 'ran', report: 'ran' })
    expect(reasons(result, 'prepare')).toEqual(['dep data/raw changed'])
  })

  it('hashes a declared external input like any dep, and runs its stage again when it changes', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'mlskel-shared-'))
    dirs.push(outside)
    const churn = join(outside, 'churn.csv')
    writeFileSync(churn, 'a,churn\n1,no\n')
    const root = project({ 'mlskel.yaml': `stages:\n  prepare:\n    cmd: sh src/w.sh data/prepared\n    deps: [src/w.sh, ${churn}]\n    outs: [data/prepared]\nexternal:\n  - ${churn}\n` })
    expect(statuses(await run(root))).toEqual({ prepare: 'ran' })
    expect(Object.keys(lockOf(root).stages.prepare!.deps)).toEqual(['src/w.sh', churn])
    expect(statuses(await run(root))).toEqual({ prepare: 'skipped' })
    writeFileSync(churn, 'a,churn\n1,yes\n')
    const result = await run(root)
    expect(reasons(result, 'prepare')).toEqual([`dep ${churn} changed`])
  })

  it('re-runs only the stages declaring a params key whose value changed (and what depends on them)', async () => {
    const root = project()
    await run(root)
    write(root, 'params.yaml', PARAMS.replace('n_estimators: 10', 'n_estimators: 20'))
    const result = await run(root)
    expect(statuses(result)).toEqual({ prepare: 'skipped', train: 'ran', predict: 'ran', report: 'skipped' })
    expect(reasons(result, 'train')).toEqual(['param model changed'])
    expect(lockOf(root).stages.train?.params).toEqual({ model: expect.objectContaining({ n_estimators: 20 }) })
  })

  it('re-runs a stage whose output is missing or was changed since its run', async () => {
    const root = project()
    await run(root)
    rmSync(join(root, 'reports'), { recursive: true })
    write(root, 'data/predictions/extra.csv', 'edited by hand\n')
    const result = await run(root)
    expect(statuses(result)).toEqual({ prepare: 'skipped', train: 'skipped', predict: 'ran', report: 'ran' })
    expect(reasons(result, 'report')).toEqual(['output reports missing'])
    expect(reasons(result, 'predict')).toEqual(['output data/predictions changed since last run'])
  })

  it('runs up-to-date stages again with force', async () => {
    const root = project()
    await run(root)
    const all = await run(root, { force: true })
    expect(Object.values(statuses(all))).toEqual(['ran', 'ran', 'ran', 'ran'])
    expect(reasons(all, 'report')).toEqual(['forced'])
    const one = await run(root, { force: true, stages: ['train'] })
    expect(statuses(one)).toEqual({ prepare: 'skipped', train: 'ran' })
  })

  it('says what would run and why in a dry run, and runs and writes nothing', async () => {
    const root = project()
    const result = await run(root, { dryRun: true })
    expect(Object.values(statuses(result))).toEqual(['would-run', 'would-run', 'would-run', 'would-run'])
    expect(result.progress).toContain('[1/4] prepare  would run: never run')
    expect(existsSync(join(root, 'runs.log'))).toBe(false)
    expect(existsSync(join(root, LOCK_FILE))).toBe(false)
    expect(existsSync(join(root, '.mlskel'))).toBe(false)

    await run(root)
    write(root, 'src/train.txt', 'changed!\n')
    const lockBefore = readFileSync(join(root, LOCK_FILE), 'utf8')
    const dry = await run(root, { dryRun: true })
    expect(statuses(dry)).toEqual({ prepare: 'skipped', train: 'would-run', predict: 'would-run', report: 'skipped' })
    expect(reasons(dry, 'predict')).toEqual(['upstream stage train would run'])
    expect(readFileSync(join(root, LOCK_FILE), 'utf8')).toBe(lockBefore)
    expect(readFileSync(join(root, 'runs.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4)
  })

  it('runs a named stage after its upstream stages, and leaves the rest alone', async () => {
    const root = project()
    const result = await run(root, { stages: ['train'] })
    expect(result.stages.map((s) => [s.name, s.status])).toEqual([
      ['prepare', 'ran'],
      ['train', 'ran'],
    ])
    expect(existsSync(join(root, 'data/predictions'))).toBe(false)
  })

  it('adds the stages depending on the named ones with downstream', async () => {
    const root = project()
    await run(root)
    const result = await run(root, { stages: ['prepare'], downstream: true, force: true })
    expect(statuses(result)).toEqual({ prepare: 'ran', train: 'ran', predict: 'ran' })
  })

  it('names in mlskel.lock the run id of the record a stage wrote, and no run id for a stage that wrote none', async () => {
    const recorder = `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
const { run_id } = JSON.parse(readFileSync(process.env.MLSKEL_STAGE, 'utf8'))
mkdirSync('models/metadata', { recursive: true })
writeFileSync('models/metadata/' + run_id + '.json', '{}')
`
    const root = project({ 'src/record.mjs': recorder, 'mlskel.yaml': 'stages:\n  train:\n    cmd: node src/record.mjs\n    outs: [models]\n  other:\n    cmd: sh src/w.sh data/other\n    outs: [data/other]\n' })
    expect((await run(root)).ok).toBe(true)
    const { train, other } = lockOf(root).stages
    expect(train!.run_id).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$/)
    expect(readdirSync(join(root, 'models/metadata'))).toEqual([`${train!.run_id}.json`])
    expect(other).not.toHaveProperty('run_id')
  })

  it('hands --set overrides to the stages in their hand-off, records them, and decides on them', async () => {
    const root = project()
    await run(root)
    const result = await run(root, { overrides: { 'model.n_estimators': 5 } })
    expect(statuses(result)).toEqual({ prepare: 'skipped', train: 'ran', predict: 'ran', report: 'skipped' })
    expect(reasons(result, 'train')).toEqual(['param model changed'])
    expect(seen(root, 'models').overrides).toEqual({ 'model.n_estimators': 5 })
    const train = lockOf(root).stages.train!
    expect(train.overrides).toEqual({ 'model.n_estimators': 5 })
    expect(train.params).toEqual({ model: expect.objectContaining({ n_estimators: 5 }) })
    expect(lockOf(root).stages.prepare?.overrides).toBeUndefined()

    expect(statuses(await run(root, { overrides: { 'model.n_estimators': 5 } }))).toMatchObject({ train: 'skipped' })
    const back = await run(root)
    expect(reasons(back, 'train')).toEqual(['param model changed'])
    expect(lockOf(root).stages.train?.overrides).toBeUndefined()
  })

  it('rejects an override for a key params.yaml does not have', async () => {
    const root = project()
    await expect(run(root, { overrides: { 'nothing.here': 1 } })).rejects.toMatchObject({ code: 'MLSKEL_SET_INVALID' })
  })

  it('appends arguments to the named stages\' commands only, shell-quoted, and records the command', async () => {
    const root = project()
    await run(root)
    const result = await run(root, { stages: ['train'], args: ['--fast', 'two words', "it's"], downstream: true })
    expect(reasons(result, 'train')).toEqual(['command changed'])
    expect(seen(root, 'models').args).toEqual(['--fast', 'two words', "it's"])
    expect(seen(root, 'data/predictions').args).toEqual([])
    expect(lockOf(root).stages.train?.cmd).toBe(`sh src/w.sh models --fast 'two words' 'it'\\''s'`)
  })

  it('refuses arguments after -- when no stage is named', async () => {
    const root = project()
    await expect(run(root, { args: ['--fast'] })).rejects.toMatchObject({ code: 'MLSKEL_USAGE' })
  })

  it('stops at a failing stage: not recorded, downstream not run, earlier stages kept', async () => {
    const root = project({ 'mlskel.yaml': STAGES.replace('cmd: sh src/w.sh models', `cmd: node -e "console.error('boom'); process.exit(3)"`) })
    const result = await run(root)
    expect(result.ok).toBe(false)
    expect(result.error).toMatchObject({ code: 'MLSKEL_STAGE_FAILED', where: { file: 'mlskel.yaml', line: 9 } })
    expect(result.error?.message).toContain('stage "train" failed with exit code 3')
    expect(result.output).toContain('boom')
    expect(statuses(result)).toEqual({ prepare: 'ran', train: 'failed', predict: 'not-run', report: 'not-run' })
    expect(result.progress).toContain('train  failed after')
    expect(result.progress).toContain('not run: predict, report')
    expect(Object.keys(lockOf(root).stages)).toEqual(['prepare'])
    expect(existsSync(join(root, RUN_LOCK_FILE))).toBe(false)
  })

  it('reports a stage killed by a signal', async () => {
    const root = project({ 'mlskel.yaml': STAGES.replace('cmd: sh src/w.sh reports', `cmd: node -e "process.kill(process.pid, 'SIGKILL')"`) })
    const result = await run(root)
    expect(result.error).toMatchObject({ code: 'MLSKEL_STAGE_KILLED' })
    expect(result.error?.message).toContain('stage "report" was killed by signal SIGKILL')
    expect(lockOf(root).stages.report).toBeUndefined()
  })

  it('fails a stage that exits 0 without writing a declared output', async () => {
    const root = project({ 'mlskel.yaml': STAGES.replace('cmd: sh src/w.sh reports', 'cmd: node -e "0"') })
    const result = await run(root)
    expect(result.error).toMatchObject({ code: 'MLSKEL_STAGE_OUTPUT_MISSING', where: { line: 20 } })
    expect(result.error?.message).toContain('did not write its output "reports"')
    expect(lockOf(root).stages.report).toBeUndefined()
  })

  it('fails a stage whose dep does not exist and that no stage produces, when it is about to run', async () => {
    const root = project()
    rmSync(join(root, 'src/train.txt'))
    const result = await run(root)
    expect(statuses(result)).toEqual({ prepare: 'ran', train: 'failed', predict: 'not-run', report: 'not-run' })
    expect(result.error).toMatchObject({ code: 'MLSKEL_PIPELINE_DEP_MISSING', where: { file: 'mlskel.yaml', line: 10 } })
    expect(result.error?.message).toContain('"src/train.txt", which does not exist')
  })

  it('refuses to start while a live process holds the run lock, naming it', async () => {
    const root = project()
    write(root, RUN_LOCK_FILE, JSON.stringify({ pid: process.pid, started_at: '2030-01-01T00:00:00.000Z', argv: ['run', 'train'] }))
    const failure = await run(root).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'MLSKEL_RUN_LOCKED' })
    expect((failure as Error).message).toContain(`pid ${process.pid}`)
    expect((failure as Error).message).toContain('2030-01-01T00:00:00.000Z')
    expect((failure as Error).message).toContain('.mlskel/run.lock')
    expect(existsSync(join(root, 'runs.log'))).toBe(false)
    expect(existsSync(join(root, RUN_LOCK_FILE))).toBe(true)
  })

  it('takes over a run lock left by a dead process, and releases it', async () => {
    const root = project()
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    write(root, RUN_LOCK_FILE, JSON.stringify({ pid: Number(dead.stdout.trim()), started_at: '2020-01-01T00:00:00.000Z', argv: ['run'] }))
    const result = await run(root)
    expect(result.ok).toBe(true)
    expect(existsSync(join(root, RUN_LOCK_FILE))).toBe(false)
  })

  it('refuses to take over a dead run\'s lock while the stage it ran still runs, naming its process group', async () => {
    const root = project()
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' })
    // the dead run's stage: a process group of its own that lives on
    const stage = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' })
    await new Promise((resolve) => stage.once('spawn', resolve))
    const pgid = stage.pid!
    try {
      write(root, RUN_LOCK_FILE, JSON.stringify({ pid: Number(dead.stdout.trim()), started_at: '2020-01-01T00:00:00.000Z', argv: ['run'], stage: { name: 'train', pgid } }))
      const failure = await run(root).catch((error: unknown) => error)
      expect(failure).toMatchObject({ code: 'MLSKEL_RUN_LOCKED', where: { file: RUN_LOCK_FILE } })
      expect((failure as Error).message).toContain(`is gone (pid ${dead.stdout.trim()}, started 2020-01-01T00:00:00.000Z: mlskel run), but its stage "train" still runs (process group ${pgid})`)
      expect((failure as { fix: string }).fix).toContain(`kill -TERM -${pgid}`)
      expect(existsSync(join(root, 'runs.log'))).toBe(false)
    } finally {
      process.kill(-pgid, 'SIGKILL')
      await new Promise((resolve) => stage.once('exit', resolve))
    }
    expect((await run(root)).ok).toBe(true)
    expect(existsSync(join(root, RUN_LOCK_FILE))).toBe(false)
  })

  it('names the running stage and its process group in the run lock, and leaves no watch behind', async () => {
    // The runner names the stage once it has started it (its process group is known then): the stage reads the lock
    // until it does, for up to 10 s. Copying it at once raced that write, and lost under load (CI at e87c001).
    const peek = `const fs = require('fs'); const t = Date.now(); let lock; while (!(lock = fs.readFileSync('.mlskel/run.lock', 'utf8')).includes('"stage"') && Date.now() - t < 10000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); fs.writeFileSync('seen.json', lock)`
    const root = project({ 'src/peek.cjs': peek, 'mlskel.yaml': 'stages:\n  peek:\n    cmd: node src/peek.cjs && true\n    outs: [seen.json]\n' })
    const result = await run(root, { forwardSignals: true })
    expect(result.ok).toBe(true)
    const seen = JSON.parse(readFileSync(join(root, 'seen.json'), 'utf8')) as { pid: number; stage?: { name: string; pgid: number } }
    expect(seen).toMatchObject({ pid: process.pid, stage: { name: 'peek', pgid: expect.any(Number) } })
    expect(existsSync(join(root, RUN_LOCK_FILE))).toBe(false)
    // the stage's parent-death watch was dismissed when the stage ended: no process still watches its group
    const watching = () => readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && isWatchOf(pid, seen.stage!.pgid))
    for (let i = 0; i < 100 && watching().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(watching()).toEqual([])
  })

  it('first removes the temp files that dead writers left in the outputs, mlskel\'s state and beside mlskel.lock', async () => {
    const dead = (name: string) => `.mlskel-tmp-${name}-999999999-0a1b2c3d`
    const live = (name: string) => `.mlskel-tmp-${name}-${process.ppid}-0a1b2c3d`
    const root = project({
      [`models/${dead('0123456789abcdef')}/model.json`]: '{"half',
      [`models/metadata/${dead('run.json')}`]: '{"half',
      [`models/metadata/${live('run.json')}`]: '{"being written',
      [`.mlskel/cache/${dead('hashes.json')}`]: '{',
      [dead('mlskel.lock')]: '# half',
      [`src/${dead('w.sh')}`]: 'src is no output: not swept',
    })
    expect((await run(root, { stages: ['prepare'] })).ok).toBe(true)
    expect(readdirSync(join(root, 'models'))).toEqual(['metadata'])
    expect(readdirSync(join(root, 'models', 'metadata'))).toEqual([live('run.json')])
    expect(readdirSync(join(root, '.mlskel', 'cache')).filter((name) => name.startsWith('.mlskel-tmp-'))).toEqual([])
    expect(readdirSync(root).filter((name) => name.startsWith('.mlskel-tmp-'))).toEqual([])
    expect(readdirSync(join(root, 'src')).filter((name) => name.startsWith('.mlskel-tmp-'))).toEqual([dead('w.sh')])
  })

  it('writes a well-formed mlskel.lock', async () => {
    const root = project()
    await run(root)
    const text = readFileSync(join(root, LOCK_FILE), 'utf8')
    expect(text.split('\n')[0]).toMatch(/^# mlskel\.lock: .*/)
    expect(text).toMatch(/written by `mlskel run`/i)
    expect(text).toMatch(/commit it/i)
    const lock = lockOf(root)
    expect(lock.schema_version).toBe(1)
    const prepare = lock.stages.prepare!
    expect(prepare.cmd).toBe('sh src/w.sh data/prepared')
    expect(Object.keys(prepare.deps)).toEqual(['data/raw', 'src/w.sh'])
    expect(Object.values(prepare.deps).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true)
    expect(prepare.params).toEqual({ dataset: expect.objectContaining({ raw: 'iris.csv', target: 'species' }), 'split.seed': 42 })
    expect(Object.keys(prepare.outs)).toEqual(['data/prepared'])
    expect(new Date(prepare.ran_at).toISOString()).toBe(prepare.ran_at)
    expect(prepare.duration_ms).toBeGreaterThan(0)
  })

  it('notices a hand-edited mlskel.lock even when its cached copy says otherwise', async () => {
    const root = project()
    await run(root)
    write(root, LOCK_FILE, readFileSync(join(root, LOCK_FILE), 'utf8').replace('cmd: sh src/w.sh reports', 'cmd: something else'))
    const result = await run(root)
    expect(statuses(result)).toMatchObject({ report: 'ran' })
    expect(reasons(result, 'report')).toEqual(['command changed'])
    write(root, LOCK_FILE, 'schema_version: 2\n')
    await expect(run(root)).rejects.toMatchObject({ code: 'MLSKEL_LOCK_INVALID', where: { file: 'mlskel.lock' } })
  })

  it('validates mlskel.yaml again as soon as it changes, even after a cached no-op run', async () => {
    const root = project()
    await run(root)
    write(root, 'mlskel.yaml', STAGES.replace('outs: [reports]', 'outs: [reports]\n    colour: red'))
    await expect(run(root)).rejects.toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: { line: 21 } })
  })
})
