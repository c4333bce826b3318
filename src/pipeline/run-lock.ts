// The run lock: one `mlskel run` per project at a time. A second run refuses with the holder's pid and start time;
// a lock left by a dead process is taken over, but only once the stage it was running is gone too: a stage runs in a
// process group of its own, which a SIGKILL of the runner alone does not end.
import { join } from 'node:path'
import { MlskelError } from '../errors/index.js'
import { breakLock, tryLock, type LockOwner } from '../fs/index.js'
import { isProcessAlive, isProcessGroupAlive } from '../process/index.js'
import { DEFAULT_STOP_GRACE_S } from './execute.js'
import { RUN_LOCK_FILE } from '../project/files.js'

export { RUN_LOCK_FILE }

export interface RunLockHolder extends LockOwner {
  started_at: string
  argv: string[]
  /** The stage running now, and its process group. */
  stage?: RunningStage
}

export interface RunningStage {
  name: string
  pgid: number
  /** Seconds its watch leaves it between SIGTERM and SIGKILL, when not the default. */
  stop_grace_s?: number
}

export interface RunLock {
  path: string
  holder: RunLockHolder
  /** Record the stage now running in its own process group (undefined: none), for a later run to wait on. */
  setStage(stage: RunningStage | undefined): Promise<void>
  release(): Promise<void>
}

/** A lock written this long ago and still unreadable was left half-written by a crash, not being written now. */
const WRITING_MS = 5_000

/** Take `.mlskel/run.lock` at `root`, created exclusively; throws MLSKEL_RUN_LOCKED while a live process holds it. */
export async function acquireRunLock(root: string, argv: readonly string[] = process.argv.slice(2)): Promise<RunLock> {
  const path = join(root, RUN_LOCK_FILE)
  const fields = { started_at: new Date().toISOString(), argv: [...argv] }
  for (let attempt = 0; ; attempt++) {
    const outcome = await tryLock<RunLockHolder>(path, fields)
    if ('held' in outcome) {
      const { held } = outcome
      return {
        path,
        get holder() {
          return held.owner
        },
        setStage: (stage) => held.update({ started_at: held.owner.started_at, argv: held.owner.argv, ...(stage ? { stage } : {}) }),
        release: () => held.release(),
      }
    }
    const { state } = outcome
    if (state.status === 'free' && attempt < 3) continue
    if (state.status === 'unreadable' && state.ageMs < WRITING_MS) {
      throw new MlskelError('MLSKEL_RUN_LOCKED', `another mlskel run (starting right now) holds the run lock ${RUN_LOCK_FILE} in ${root}`, { where: { file: RUN_LOCK_FILE } })
    }
    const other = state.status === 'held' ? state.owner : undefined
    if (other && isProcessAlive(other.pid)) {
      throw new MlskelError('MLSKEL_RUN_LOCKED', `another mlskel run (${describeHolder(other)}) holds the run lock ${RUN_LOCK_FILE} in ${root}`, { where: { file: RUN_LOCK_FILE } })
    }
    if (other?.stage && isProcessGroupAlive(other.stage.pgid)) {
      // the runner died (SIGKILL) but its stage did not (yet): a new run would write the same outputs beside it
      const { name, pgid, stop_grace_s: grace = DEFAULT_STOP_GRACE_S } = other.stage
      throw new MlskelError('MLSKEL_RUN_LOCKED', `the mlskel run that holds the run lock ${RUN_LOCK_FILE} in ${root} is gone (${describeHolder(other)}), but its stage ${JSON.stringify(name)} still runs (process group ${pgid})`, {
        where: { file: RUN_LOCK_FILE },
        fix: `Wait for the stage to end (a stage outliving its run is stopped: SIGTERM at once, SIGKILL ${grace} s later), or stop it now with \`kill -TERM -${pgid}\`; then run again.`,
      })
    }
    // Stale: its process is gone (or it was left half-written long ago). breakLock removes it only if it still
    // holds that owner, so two runs taking over at once cannot each remove the other's fresh lock.
    if (attempt >= 3 || !(await breakLock(path, state))) {
      throw new MlskelError('MLSKEL_RUN_LOCKED', `another mlskel run is taking over the stale run lock ${RUN_LOCK_FILE} in ${root}`, { where: { file: RUN_LOCK_FILE } })
    }
  }
}

function describeHolder(holder: RunLockHolder): string {
  return `pid ${holder.pid}, started ${holder.started_at ?? 'at an unknown time'}${Array.isArray(holder.argv) && holder.argv.length > 0 ? `: mlskel ${holder.argv.join(' ')}` : ''}`
}
