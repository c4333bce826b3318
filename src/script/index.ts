// Entry points for a project's scripts (src/etl/*.ts, src/model/*.ts): run main when the file is executed, not
// when a test imports it, and print known errors the way the CLI does.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { formatError, isMlskelError } from '../errors/index.js'

/** Whether the module at `moduleUrl` is the script Node was started with. */
export function isEntryPoint(moduleUrl: string, argv1 = process.argv[1]): boolean {
  if (!argv1) return false
  try {
    return realpathSync(fileURLToPath(moduleUrl)) === realpathSync(argv1)
  } catch {
    return false
  }
}

/**
 * Run `main(argv)` if `moduleUrl` is the entry point. A failure sets process.exitCode (never process.exit, so
 * output is flushed) and prints the error: known errors with code and fix, unknown ones with their stack.
 */
export async function runScript(moduleUrl: string, main: (argv: string[]) => Promise<void>): Promise<void> {
  if (!isEntryPoint(moduleUrl)) return
  const argv = process.argv.slice(2)
  try {
    await main(argv)
  } catch (error) {
    console.error(formatError(error, { verbose: argv.includes('--verbose') || process.env.MLSKEL_VERBOSE === '1' }))
    process.exitCode = isMlskelError(error) ? error.exitCode : 1
  }
}
