// Whether a process, or a process group, still runs: what the run lock decides a takeover on, and what the sweep of
// temp files decides ownership on. A zombie (exited, not yet reaped by its parent) does not run. Where no init reaps
// orphans (a container whose first process does not, this project's CI machine among them), a killed stage's
// zombies would otherwise count as alive for ever; Linux shows them in /proc, where a process's state is read.
import { readdirSync, readFileSync } from 'node:fs'

/** True while process `pid` runs (a zombie does not), including one we may not signal (EPERM). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (!signalReaches(pid)) return false
  const state = procState(pid)
  return state === undefined || state !== 'Z'
}

/** True while some process of group `pgid` runs (zombies do not count). */
export function isProcessGroupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false
  if (!signalReaches(-pgid)) return false
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return true // no /proc (macOS): the signal reached someone, and init reaps zombies there
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(Number(entry))
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true
  }
  return false
}

/** Signal 0 to a pid (negative: a group): true when it exists, even when we may not signal it. */
function signalReaches(target: number): boolean {
  try {
    process.kill(target, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function procState(pid: number): string | undefined {
  return readStat(pid)?.state
}

/** State and process group from /proc/<pid>/stat; undefined without /proc or once the process is gone. */
function readStat(pid: number): { state: string; pgrp: number } | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so fields count from its last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return { state: fields[0] ?? '', pgrp: Number(fields[2]) }
}

export { runProcess, runText, type RunOptions, type RunResult } from './run.js'
