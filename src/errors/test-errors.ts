// Test helper: the MlskelError a function throws, for tests that look at its code, message and fix. Not shipped (the
// build leaves out src/**/test-*.ts).
import { MlskelError } from './index.js'

/** The MlskelError `fn` throws; any other error is rethrown, and returning is a failure. */
export function errorOf(fn: () => unknown): MlskelError {
  try {
    fn()
  } catch (error) {
    if (error instanceof MlskelError) return error
    throw error
  }
  throw new Error('expected an MlskelError')
}
