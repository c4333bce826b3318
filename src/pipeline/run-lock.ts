// The run lock: one `mlskel run` per project at a time. A second run refuses with the holder's pid and start time;
// a lock left by a dead process is taken over, but only once the stage it was running is gone too: a stage runs in a
// process group of its own, which a SIGKILL of the runner alone does not end.
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { MlskelError } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'
import { isProcessAlive, isProcessGroupAlive } from '../process/index.js'
import { DEFAULT_KILL_GRACE_S } from './execute.js'
import { RUN_LOCK_FILE } from '../project/files.js'

export { RUN_LOCK_FILE }

export interface RunLockHolder {
  pid: number
  started_at: string
  argv: string[]
  /** The stage running now, and its process group. */
  stage?: RunningStage
}

export interface RunningStage {
  name: string
  pgid: number
}

export interface RunLock {
  path: string
  holder: RunLockHolder
  /** Record the stage now running in its own process group (undefined: none), for a later run to wait on. */
  setStage(stage: RunningStage | undefined): Promise<void>
  release(): Promise<void>
}

/** Take `.mlskel/run.lock` at `root`, created exclusively; throws MLSKEL_RUN_LOCKED while a live process holds it. */
export async function acquireRunLock(root: string, argv: readonly string[] = process.argv.slice(2)): Promise<RunLock> {
  const path = join(root, RUN_LOCK_FILE)
  const holder: RunLockHolder = { pid: process.pid, started_at: new Date().toISOString(), argv: [...argv] }
  await mkdir(dirname(path), { recursive: true })
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx')
      try {
        await handle.writeFile(`${JSON.stringify(holder)}\n`)
      } finally {
        await handle.close()
      }
      return { path, holder, setStage: (stage) => setStage(path, holder, stage), release: () => releaseRunLock(path, holder) }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error
    }
    const other = await readHolder(path)
    if (other === 'gone') continue
    if (other === 'being-written' || isProcessAlive(other.pid)) {
      const who = other === 'being-written' ? 'another mlskel run (starting right now)' : `another mlskel run (${describeHolder(other)})`
      throw new MlskelError('MLSKEL_RUN_LOCKED', `${who} holds the run lock ${RUN_LOCK_FILE} in ${root}`, { where: { file: RUN_LOCK_FILE } })
    }
    if (other.stage && isProcessGroupAlive(other.stage.pgid)) {
      // the runner died (SIGKILL) but its stage did not (yet): a new run would write the same outputs beside it
      const { name, pgid } = other.stage
      throw new MlskelError('MLSKEL_RUN_LOCKED', `the mlskel run that holds the run lock ${RUN_LOCK_FILE} in ${root} is gone (${describeHolder(other)}), but its stage ${JSON.stringify(name)} still runs (process group ${pgid})`, {
        where: { file: RUN_LOCK_FILE },
        fix: `Wait for the stage to end (a stage outliving its run is stopped: SIGTERM at once, SIGKILL ${DEFAULT_KILL_GRACE_S} s later), or stop it now with \`kill -TERM -${pgid}\`; then run again.`,
      })
    }
    // Stale: its process is gone. Only the run holding the takeover file may remove it, and it re-checks first,
    // so two runs taking over at once cannot each delete the other's fresh lock.
    if (!(await takeOver(path, other))) {
      throw new MlskelError('MLSKEL_RUN_LOCKED', `another mlskel run is taking over the stale run lock ${RUN_LOCK_FILE} in ${root}`, { where: { file: RUN_LOCK_FILE } })
    }
  }
}

async function takeOver(path: string, stale: RunLockHolder): Promise<boolean> {
  const guard = `${path}.takeover`
  let handle
  try {
    handle = await open(guard, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // a takeover that crashed half-way leaves its guard behind: old guards do not count
    const age = Date.now() - (await stat(guard).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs
    if (age < 5_000) return false
    await unlink(guard).catch(() => undefined)
    return takeOver(path, stale)
  }
  try {
    const now = await readHolder(path)
    if (typeof now === 'object' && now.pid === stale.pid && now.started_at === stale.started_at) await unlink(path).catch(() => undefined)
    return true
  } finally {
    await handle.close()
    await unlink(guard).catch(() => undefined)
  }
}

/** Rewrite the lock with the stage now running, if it is still ours; atomically, so a reader sees it whole. */
async function setStage(path: string, holder: RunLockHolder, stage: RunningStage | undefined): Promise<void> {
  const current = await readHolder(path)
  if (typeof current !== 'object' || current.pid !== holder.pid || current.started_at !== holder.started_at) return
  if (stage) holder.stage = stage
  else delete holder.stage
  await writeFileAtomic(path, `${JSON.stringify(holder)}\n`)
}

function describeHolder(holder: RunLockHolder): string {
  return `pid ${holder.pid}, started ${holder.started_at}${holder.argv.length > 0 ? `: mlskel ${holder.argv.join(' ')}` : ''}`
}

/** Remove the lock if it is still ours (a run that was judged dead and taken over must not remove the new holder's). */
async function releaseRunLock(path: string, holder: RunLockHolder): Promise<void> {
  const current = await readHolder(path)
  if (typeof current === 'object' && current.pid === holder.pid && current.started_at === holder.started_at) {
    await unlink(path).catch(() => undefined)
  }
}

async function readHolder(path: string): Promise<RunLockHolder | 'gone' | 'being-written'> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    throw error
  }
  try {
    const parsed = JSON.parse(text) as Partial<RunLockHolder>
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) {
      const stage = parsed.stage
      const running = stage && typeof stage.name === 'string' && Number.isInteger(stage.pgid) && stage.pgid > 1 ? { stage: { name: stage.name, pgid: stage.pgid } } : {}
      return { pid: parsed.pid, started_at: String(parsed.started_at ?? 'at an unknown time'), argv: Array.isArray(parsed.argv) ? parsed.argv.map(String) : [], ...running }
    }
  } catch {
    // fall through: empty or garbled
  }
  // Created but not yet written (the holder is between open and write), or garbled long ago: judge by its age.
  const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: 0 }))).mtimeMs
  return age < 5_000 ? 'being-written' : { pid: 0, started_at: 'unknown', argv: [] }
}
