// A temporary folder for the test that asks for it, removed when that test finishes, passed or failed: a suite run
// left ~110 folders in the system's temp folder, some of 25 MB (the hashing tests'), never removed.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

/** A new folder `<tmp>/<prefix>XXXXXX`, for the running test only. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}
