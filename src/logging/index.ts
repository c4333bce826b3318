// Structured logs: pino JSON lines on stderr, so a script's stdout stays its own output.
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

export function createLogger(name: string, level: LevelWithSilent = 'warn'): Logger {
  return pino({ name, level, base: { name } }, pino.destination({ fd: 2, sync: true }))
}
