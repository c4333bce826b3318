// Progress lines for long trainings, as a CI log shows them: what is being trained, how far, how long it has
// taken and about how long is left. Quiet for trainings that end within a couple of seconds.
import type { TrainingProgress } from './contract/kinds.js'

export interface ProgressOptions {
  /** Where lines go; default: stderr. */
  write?: (line: string) => void
  /** Put before every line, e.g. 'train: '. */
  prefix?: string
  /** No line before a training has run this long (default 2 s). */
  quietMs?: number
  /** At most one line per this long (default 10 s), besides one per tenth of the work and the last. */
  everyMs?: number
}

/**
 * A reporter to pass training's onProgress through: `report(progress, 'fold 2/5')`. A new label starts a new
 * training (its own clock is the progress's elapsed time).
 */
export function trainingProgress(o: ProgressOptions = {}): (progress: TrainingProgress, label?: string) => void {
  const write = o.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const quiet = o.quietMs ?? 2000
  const every = o.everyMs ?? 10_000
  let current: string | undefined
  let lastAt = -Infinity
  let lastTenth = 0
  let spoke = false
  return (p, label = 'training') => {
    if (label !== current) {
      current = label
      lastAt = -Infinity
      lastTenth = 0
      spoke = false
    }
    const finished = p.done >= p.total
    const tenth = Math.floor((p.done * 10) / p.total)
    const due = p.elapsedMs >= quiet && (tenth > lastTenth || p.elapsedMs - lastAt >= every)
    if (!(due || (finished && spoke))) return
    lastAt = p.elapsedMs
    lastTenth = tenth
    spoke = true
    write(`${o.prefix ?? ''}${label}: ${progressLine(p)}`)
  }
}

/** "40/100 iterations, 3.2 s, about 4.8 s left" (or "100/100 iterations in 8.1 s" when done). */
export function progressLine(p: TrainingProgress): string {
  const seconds = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : `${(ms / 1000).toFixed(1)} s`)
  if (p.done >= p.total) return `${p.done}/${p.total} ${p.unit} in ${seconds(p.elapsedMs)}`
  const left = p.done > 0 ? (p.elapsedMs / p.done) * (p.total - p.done) : NaN
  return `${p.done}/${p.total} ${p.unit}, ${seconds(p.elapsedMs)}${Number.isFinite(left) ? `, about ${seconds(left)} left` : ''}`
}
