// Logs: pino, on stderr, so a script's stdout stays its own output. For people (a terminal, or LOG_FORMAT=text) a
// line reads `generate-dataset warn: dropped 3 of 154 rows (file=data/raw/x.csv raw=154)`; for machines (not a
// terminal, or LOG_FORMAT=json) it is pino's JSON line, as log collectors expect. A small formatter of our own
// rather than pino-pretty: it is one function, and pino-pretty brings a worker thread and five dependencies.
import { createRequire } from 'node:module'
import type * as Pino from 'pino'
import type { DestinationStream, Logger, LevelWithSilent } from 'pino'

export type { Logger }

let pinoModule: typeof Pino | undefined

/**
 * pino, loaded by the first logger made: a process that logs nothing (most stages and commands) never loads it, ~18 ms
 * of CPU at each start when `import 'mlskel'` loaded it bundled. Required, as the CommonJS package it is (an import
 * would first scan its modules for their names); the server's Fastify requires the same copy.
 */
export function loadPino(): typeof Pino {
  return (pinoModule ??= createRequire(import.meta.url)('pino') as typeof Pino)
}

export const LOG_FORMATS = ['text', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** The format of logs written to `fd`: the one asked for, else text on a terminal and JSON otherwise. */
export function logFormatFor(format: LogFormat | undefined, isTTY = Boolean(process.stderr.isTTY)): LogFormat {
  return format ?? (isTTY ? 'text' : 'json')
}

export function createLogger(name: string, level: LevelWithSilent = 'warn', format?: LogFormat, fd = 2): Logger {
  const { pino } = loadPino()
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
