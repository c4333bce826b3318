// Logs: pino, on stderr, so a script's stdout stays its own output. For people (a terminal, or LOG_FORMAT=text) a
// line reads `generate-dataset warn: dropped 3 of 154 rows (file=data/raw/x.csv raw=154)`; for machines (not a
// terminal, or LOG_FORMAT=json) it is pino's JSON line, as log collectors expect. A small formatter of our own
// rather than pino-pretty: it is one function, and pino-pretty brings a worker thread and five dependencies.
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

export const LOG_FORMATS = ['text', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** The format of logs written to `fd`: the one asked for, else text on a terminal and JSON otherwise. */
export function logFormatFor(format: LogFormat | undefined, isTTY = Boolean(process.stderr.isTTY)): LogFormat {
  return format ?? (isTTY ? 'text' : 'json')
}

export function createLogger(name: string, level: LevelWithSilent = 'warn', format?: LogFormat, fd = 2): Logger {
  const destination = pino.destination({ fd, sync: true })
  const stream = logFormatFor(format, fd === 2 ? Boolean(process.stderr.isTTY) : Boolean(process.stdout.isTTY)) === 'json' ? destination : textStream(destination)
  return pino({ name, level, base: { name } }, stream)
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }
const OWN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg'])

/** pino's JSON lines rewritten as one readable line each: `name level: message (key=value …)`. */
export function textStream(out: { write(text: string): unknown }): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>
      try {
        entry = JSON.parse(line) as Record<string, unknown>
      } catch {
        out.write(line)
        return
      }
      const fields = Object.entries(entry)
        .filter(([key]) => !OWN.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      const level = LEVELS[Number(entry.level)] ?? String(entry.level)
      out.write(`${entry.name ? `${String(entry.name)} ` : ''}${level}: ${String(entry.msg ?? '')}${fields.length > 0 ? ` (${fields.join(' ')})` : ''}\n`)
    },
  }
}
