// Running one stage's command: through /bin/sh from the project root, output streamed live, the exit code or
// signal reported back.
import { spawn, type ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { delimiter, join } from 'node:path'
import type { Writable } from 'node:stream'

/** Where a stage's output goes: straight to our own stdout/stderr, all to our stderr (--json), or to streams. */
export type StageOutput = 'inherit' | 'stderr' | { stdout: Writable; stderr: Writable }

export interface CommandResult {
  /** Exit code, when the command exited by itself. */
  code: number | null
  /** The signal that ended it: reported by the OS, or read from a shell exit status of 128 + n. */
  signal: NodeJS.Signals | null
}

export interface StartedCommand {
  child: ChildProcess
  done: Promise<CommandResult>
  /** Send a signal to the command: to its whole process group when it has its own, else to the shell. */
  signal(signal: NodeJS.Signals): void
  /** The command's own process group (the shell's pid), when it was started in one. */
  pgid: number | undefined
}

/** Quote an argument for /bin/sh; plain words stay as they are, for readable commands in logs and mlskel.lock. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

/** The stage's environment: ours, node_modules/.bin first on PATH, and whatever the runner adds. */
export function stageEnv(root: string, extra: Record<string, string>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const path = base.PATH ?? base.Path ?? ''
  return { ...base, PATH: path ? `${join(root, 'node_modules', '.bin')}${delimiter}${path}` : join(root, 'node_modules', '.bin'), ...extra }
}

export interface StartOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  output: StageOutput
  /**
   * Start the command in a process group of its own, for `signalCommand` to reach all of it: /bin/sh does not
   * replace itself with the command, so a signal sent to its pid alone would leave the command running. The
   * group is not the terminal's foreground group, so the command gets no stdin (a read would stop it). A watch
   * (below) stops the group if this process dies first.
   */
  ownGroup?: boolean
  /** With ownGroup: seconds the watch leaves the group between SIGTERM and SIGKILL (default DEFAULT_STOP_GRACE_S). */
  stopGraceS?: number
}

/**
 * The parent-death watch of a command in its own process group. Killed with SIGKILL, this process can pass nothing
 * on, and the group, not being the terminal's, would run on: a stage writing the very outputs the next run writes.
 * Node cannot ask Linux for a parent-death signal (prctl), so a small shell reads a pipe whose other end only this
 * process holds. A line means the command ended: the watch exits. End of file means this process is gone: the watch
 * sends SIGTERM to the group, and SIGKILL if anything of it still runs after the grace ($2 seconds). The watch has a
 * group of its own, so neither its own signals nor the terminal's Ctrl-C (which reaches us, and we forward) reach
 * it, and it ignores a hang-up: it must outlive us.
 */
const WATCH_SCRIPT = [
  "trap '' HUP INT QUIT",
  'if read -r _; then exit 0; fi',
  // dash's kill takes a negative pid (a group) only after the signal given as -NAME, without --
  'kill -TERM -"$1" 2>/dev/null || exit 0',
  'i=0',
  'while kill -0 -"$1" 2>/dev/null; do',
  '  if [ "$i" -ge "$2" ]; then kill -KILL -"$1" 2>/dev/null; exit 0; fi',
  '  sleep 1',
  '  i=$((i + 1))',
  'done',
].join('\n')

/**
 * Seconds the watch leaves the group between SIGTERM and SIGKILL, unless the stage says otherwise (mlskel.yaml's
 * stop_grace_s): time for a stage to finish a write and exit.
 */
export const DEFAULT_STOP_GRACE_S = 10

/** Start the watch over process group `pgid`; the returned function dismisses it (the command ended). */
function watchGroup(pgid: number, graceS: number): () => void {
  const watch = spawn('/bin/sh', ['-c', WATCH_SCRIPT, 'mlskel-stage-watch', String(pgid), String(graceS)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true })
  watch.unref()
  // a watch that could not start or died leaves the run lock's check (run-lock.ts) as the one guard
  watch.on('error', () => undefined)
  watch.stdin!.on('error', () => undefined)
  let dismissed = false
  return () => {
    if (dismissed) return
    dismissed = true
    watch.stdin!.end('done\n')
  }
}

export function startCommand(cmd: string, options: StartOptions): StartedCommand {
  const { output, ownGroup = false } = options
  const stdin = ownGroup ? 'ignore' : 'inherit'
  const stdio = output === 'inherit' ? ([stdin, 'inherit', 'inherit'] as const) : output === 'stderr' ? ([stdin, 2, 'inherit'] as const) : (['ignore', 'pipe', 'pipe'] as const)
  const child = spawn('/bin/sh', ['-c', cmd], { cwd: options.cwd, env: options.env, stdio: [...stdio], detached: ownGroup })
  const pgid = ownGroup ? child.pid : undefined
  const dismiss = pgid !== undefined ? watchGroup(pgid, options.stopGraceS ?? DEFAULT_STOP_GRACE_S) : () => undefined
  // the shell's exit ends the watch; what the command left behind in its group is not the watch's business
  child.once('exit', dismiss)
  child.once('error', dismiss)
  if (typeof output === 'object') {
    child.stdout?.pipe(output.stdout, { end: false })
    child.stderr?.pipe(output.stderr, { end: false })
  }
  const done = new Promise<CommandResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      // dash and bash report a child killed by signal n as exit status 128 + n when they did not exec it
      if (signal === null && code !== null && code > 128 && code < 128 + 65) {
        const name = signalName(code - 128)
        if (name) return resolve({ code, signal: name })
      }
      resolve({ code, signal })
    })
  })
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (ownGroup && child.pid !== undefined) return void process.kill(-child.pid, name)
    } catch {
      // the group is gone already; fall back to the shell itself
    }
    child.kill(name)
  }
  return { child, done, signal, pgid }
}

function signalName(n: number): NodeJS.Signals | undefined {
  return (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, value]) => value === n)?.[0]
}

export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 1
}
