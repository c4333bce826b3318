// `kill -9` of `mlskel run` alone (issue 14, item 11): the stage, in a process group of its own, must not outlive
// its runner, and no new run may start while it does. The built CLI runs a real stage, and the runner is killed.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { isProcessAlive } from '../../src/process/index.js'
import { builtCli } from '../pack.js'

let cli: string
beforeAll(() => {
  cli = builtCli()
})

const roots: string[] = []
const stagePids: number[] = []
afterEach(() => {
  // a failing test must not leave its stage running
  for (const pid of stagePids.splice(0)) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL')
      } catch {
        // gone already
      }
    }
  }
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

/**
 * A stage that writes its pid, then appends to out/log every 50 ms until a file `stop` appears (then it ends well)
 * or a minute passes. With `ignoreTerm` it notes SIGTERM in `got-term` and carries on.
 */
function stageScript(ignoreTerm: boolean): string {
  return `import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
mkdirSync('out', { recursive: true })
${ignoreTerm ? "process.on('SIGTERM', () => writeFileSync('got-term', ''))" : ''}
writeFileSync('stage.pid', String(process.pid))
const until = Date.now() + 60_000
const tick = () => {
  if (existsSync('stop')) return writeFileSync('out/done', '')
  if (Date.now() > until) process.exit(3)
  appendFileSync('out/log', 'x')
  setTimeout(tick, 50)
}
tick()
`
}

/** A project of that one stage; `stopGraceS`: its mlskel.yaml's stop_grace_s (the watch's default when absent). */
function project(ignoreTerm: boolean, stopGraceS?: number): string {
  const root = mkdtempSync(join(tmpdir(), 'mlskel-orphan-'))
  roots.push(root)
  const grace = stopGraceS === undefined ? '' : `    stop_grace_s: ${stopGraceS}\n`
  writeFileSync(join(root, 'mlskel.yaml'), `stages:\n  train:\n    cmd: node stage.mjs\n    deps: [stage.mjs]\n    outs: [out]\n${grace}`)
  writeFileSync(join(root, 'stage.mjs'), stageScript(ignoreTerm))
  return root
}

interface Started {
  child: ChildProcess
  /** The process ended (its stage may still hold its stdout and stderr). */
  exited: Promise<NodeJS.Signals | null>
  /** The process ended and its output is complete. */
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>
}

/** `mlskel run` (the built CLI) in `root`. */
function mlskelRun(root: string, args: string[] = []): Started {
  const child = spawn(process.execPath, [cli, 'run', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
  return { child, exited, exit }
}

/** Poll `condition` every 50 ms until it holds (true) or `ms` pass (false). */
async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return condition()
}

/** Whether the run lock at `root` names its running stage (the lock is replaced whole, never written in place). */
function lockNamesStage(root: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(root, '.mlskel/run.lock'), 'utf8')) as { stage?: { name?: string } }).stage?.name === 'train'
  } catch {
    return false
  }
}

/**
 * Start a run, wait until its stage runs and the run lock names it, and kill the runner alone with SIGKILL; returns the
 * stage's pid. The runner names the stage once it has started it (its process group is known only then): a stage
 * quick to write its pid under a loaded machine's scheduler can be seen before that (a clean CI run was).
 */
async function killRunnerMidStage(root: string): Promise<number> {
  const run = mlskelRun(root)
  expect(await waitFor(() => existsSync(join(root, 'stage.pid')), 30_000)).toBe(true)
  const pid = Number(readFileSync(join(root, 'stage.pid'), 'utf8'))
  stagePids.push(pid)
  expect(await waitFor(() => lockNamesStage(root), 10_000)).toBe(true)
  expect(isProcessAlive(pid)).toBe(true)
  run.child.kill('SIGKILL')
  expect(await run.exited).toBe('SIGKILL')
  return pid
}

describe('a stage whose mlskel run is killed with SIGKILL', () => {
  it('is stopped with its runner, and the next run takes over the lock and runs it again', async () => {
    const root = project(false)
    const stage = await killRunnerMidStage(root)

    // the watch sends SIGTERM as soon as the runner is gone; the stage does not ignore it
    expect(await waitFor(() => !isProcessAlive(stage), 10_000)).toBe(true)
    // the dead runner's lock is still there, naming the stage it was running and its process group
    const lock = JSON.parse(readFileSync(join(root, '.mlskel/run.lock'), 'utf8')) as { stage?: { name: string; pgid: number } }
    expect(lock.stage).toEqual({ name: 'train', pgid: expect.any(Number) })

    writeFileSync(join(root, 'stop'), '')
    const again = await mlskelRun(root, ['--json']).exit
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, stages: [{ name: 'train', status: 'ran' }] })
    expect(existsSync(join(root, '.mlskel/run.lock'))).toBe(false)
  }, 60_000)

  it('blocks a new run while it lives on (it ignores SIGTERM), and is killed after its stop_grace_s', async () => {
    // 2 s rather than the default 10: the setting under test, and 8 s less of this file waiting
    const root = project(true, 2)
    const stage = await killRunnerMidStage(root)
    expect(await waitFor(() => existsSync(join(root, 'got-term')), 10_000)).toBe(true)
    // when the stage got SIGTERM, as it noted it (not when this test saw the note)
    const termed = statSync(join(root, 'got-term')).mtimeMs
    expect(isProcessAlive(stage)).toBe(true)

    // the runner is dead, its lock stale, but its stage still writes: a new run must not start beside it
    const refused = await mlskelRun(root).exit
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/error MLSKEL_RUN_LOCKED: .*is gone \(pid \d+, .*\), but its stage "train" still runs \(process group \d+\)/)
    expect(refused.stderr).toMatch(/fix: .*SIGKILL 2 s later.*kill -TERM -\d+/)
    expect(readFileSync(join(root, 'out/log'), 'utf8').length).toBeGreaterThan(0)

    // SIGKILL follows SIGTERM after the stage's grace, not before it, and not after the default's 10 s; then the lock
    // is taken over
    expect(await waitFor(() => !isProcessAlive(stage), 30_000)).toBe(true)
    const killedAfter = Date.now() - termed
    expect(killedAfter).toBeGreaterThanOrEqual(1_500)
    expect(killedAfter).toBeLessThan(8_000)
    writeFileSync(join(root, 'stop'), '')
    const again = await mlskelRun(root, ['--json']).exit
    expect(again.code, again.stderr).toBe(0)
  }, 90_000)
})
