// The server's watch on the shell that started it. `npx mlskel serve`, `npm run serve` and `make deploy-endpoint` all
// start the server through `sh -c`, and dash (Debian's and Ubuntu's /bin/sh) neither execs the command nor passes
// signals on: npm forwards SIGTERM to that shell, the shell dies of it, and the server, reparented, would go on
// listening with nobody left to stop it. When the process that started the server is such a shell, the server
// watches it, and shuts down (with the drain SIGTERM gives) once it is gone. A server started from an interactive
// shell, by a supervisor, or as a container's PID 1 is not watched: `nohup mlskel serve &` outlives its shell.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

const SHELLS = new Set(['sh', 'dash', 'bash', 'zsh', 'ash', 'ksh', 'mksh'])

/** The command line of a process: /proc on Linux, `ps` elsewhere; undefined when it cannot be read. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' })
    return ps.status === 0 && ps.stdout.trim() ? ps.stdout.trim().split(/\s+/) : undefined
  }
}

/** `sh -c '…'` and the like: a shell running one command string, not an interactive one. */
export function isCommandShell(argv: readonly string[] | undefined): boolean {
  if (!argv || argv.length < 2) return false
  return SHELLS.has(basename(argv[0]!).replace(/^-/, '')) && argv.slice(1).some((arg) => /^-[a-z]*c[a-z]*$/.test(arg))
}

/**
 * Call `onGone(pid)` once the `sh -c` that started this process is gone (checked every `intervalMs`); returns the
 * function that stops watching. Nothing is watched when the parent is not such a shell.
 */
export function watchWrapper(onGone: (pid: number) => void, o: { intervalMs?: number; parent?: number } = {}): () => void {
  const parent = o.parent ?? process.ppid
  if (parent <= 1 || !isCommandShell(commandLine(parent))) return () => undefined
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    onGone(parent)
  }, o.intervalMs ?? 250)
  timer.unref()
  return () => clearInterval(timer)
}
