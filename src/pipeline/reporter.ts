// Progress of a run, one line per event: `[2/3] train  running: dep src/model/train.ts changed`. Plain lines read
// well in CI logs and never fight the stages' own output, which streams between them untouched.
import type { Writable } from 'node:stream'
import type { styleText } from 'node:util'
import { painter } from '../terminal/index.js'

export type StageStatus = 'ran' | 'skipped' | 'failed' | 'not-run' | 'would-run'

export interface StageSummary {
  name: string
  status: StageStatus
  /** Why it ran (or would run, or was about to run when it failed); empty when skipped. */
  reasons: string[]
  duration_ms: number
}

type Style = Parameters<typeof styleText>[0]

export class Reporter {
  private readonly paint: (style: Style, text: string) => string

  constructor(
    private readonly out: Writable,
    private readonly total: number,
  ) {
    this.paint = painter(out as Writable & { isTTY?: boolean })
  }

  skipped(i: number, name: string): void {
    this.line(i, name, this.paint('dim', 'up to date, skipped'))
  }

  started(i: number, name: string, reasons: string[]): void {
    this.line(i, name, `${this.paint('cyan', 'running')}: ${reasons.join(', ')}`)
  }

  wouldRun(i: number, name: string, reasons: string[]): void {
    this.line(i, name, `${this.paint('yellow', 'would run')}: ${reasons.join(', ')}`)
  }

  finished(i: number, name: string, ms: number): void {
    this.line(i, name, this.paint('green', `done in ${formatDuration(ms)}`))
  }

  failed(i: number, name: string, ms: number | undefined, why: string): void {
    this.line(i, name, this.paint('red', `failed${ms === undefined ? '' : ` after ${formatDuration(ms)}`}: ${why}`))
  }

  summary(stages: StageSummary[], ms: number, dryRun: boolean): void {
    const count = (status: StageStatus) => stages.filter((s) => s.status === status)
    const parts: string[] = []
    if (dryRun) parts.push(`${count('would-run').length} would run`)
    else parts.push(`${count('ran').length} ran`)
    parts.push(`${count('skipped').length} up to date`)
    const failed = count('failed')
    if (failed.length > 0) parts.push(this.paint('red', `${failed.map((s) => s.name).join(', ')} failed`))
    const notRun = count('not-run')
    if (notRun.length > 0) parts.push(`not run: ${notRun.map((s) => s.name).join(', ')}`)
    const head = stages.length === 0 ? 'no stages to run' : failed.length > 0 ? this.paint('red', 'pipeline failed') : dryRun ? 'dry run, nothing ran' : this.paint('green', 'pipeline done')
    this.out.write(`${head}: ${parts.join(', ')} (${formatDuration(ms)})\n`)
  }

  private line(i: number, name: string, text: string): void {
    this.out.write(`${this.paint('dim', `[${i + 1}/${this.total}]`)} ${this.paint('bold', name)}  ${text}\n`)
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}
