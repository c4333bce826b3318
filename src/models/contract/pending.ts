// A saved model is committed by its training record: the record's write is the commit point. Until then the model's
// folder holds PENDING_FILE, which says whose the folder is (pid), whether that save created it, and, once
// recordTraining has claimed it, which record and diff will commit it. A writer that dies in between (a crash,
// SIGKILL, a full disk) leaves the file behind, and the next saveModel in that models folder finishes the job: a
// model whose record was written is adopted (the file goes), one whose record never came goes, with its diff, when
// its save had created the folder. No zod here: the file is mlskel's own, written whole (atomically) or not at all.
import { readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import { tempPathFor, writeFileAtomic } from '../../fs/index.js'
import { isProcessAlive } from '../../process/index.js'

/** In a model folder whose record is not written yet. Not part of the model: not hashed, not counted in its size. */
export const PENDING_FILE = '.mlskel-pending.json'

export interface PendingModel {
  /** The process that saved, or is recording, the model. */
  pid: number
  /** Whether the save created the model folder; false when the same model was there already. */
  created: boolean
  /** The run that is to commit it, and its record and diff, relative to the model folder. */
  run_id?: string
  record?: string
  diff?: string
}

/** The pending file's text for a folder this process just created, written into it before it is renamed into place. */
export function pendingText(created: boolean): string {
  return `${JSON.stringify({ pid: process.pid, created } satisfies PendingModel)}\n`
}

/** The model folder's pending file; undefined when it has none (the model is committed). */
export async function readPending(modelDir: string): Promise<PendingModel | undefined> {
  let text: string
  try {
    text = await readFile(join(modelDir, PENDING_FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw error
  }
  try {
    const parsed = JSON.parse(text) as Partial<PendingModel>
    if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid)) {
      return {
        pid: parsed.pid,
        created: parsed.created === true,
        ...(typeof parsed.run_id === 'string' ? { run_id: parsed.run_id } : {}),
        ...(typeof parsed.record === 'string' ? { record: parsed.record } : {}),
        ...(typeof parsed.diff === 'string' ? { diff: parsed.diff } : {}),
      }
    }
  } catch {
    // fall through
  }
  // not written by mlskel (it writes the file whole): never a reason to remove a model, only to forget the file
  return { pid: 0, created: false }
}

/**
 * Claim the saved model in `modelDir` for the run about to record it: the pending file then names the record and diff
 * (absolute paths) that will commit it. A folder with no pending file (saved before, committed by another record) gets
 * one saying it was not created, so a crash before the record still leaves the diff to clean; a missing folder is
 * left alone.
 */
export async function claimPendingModel(modelDir: string, claim: { run_id: string; record: string; diff?: string }): Promise<void> {
  if (!(await isDirectory(modelDir))) return
  const pending: PendingModel = {
    pid: process.pid,
    created: (await readPending(modelDir))?.created ?? false,
    run_id: claim.run_id,
    record: relativeTo(modelDir, claim.record),
    ...(claim.diff ? { diff: relativeTo(modelDir, claim.diff) } : {}),
  }
  await writeFileAtomic(join(modelDir, PENDING_FILE), `${JSON.stringify(pending)}\n`)
}

/** The record is written: the model is committed, and its pending file goes. */
export async function settlePendingModel(modelDir: string): Promise<void> {
  await unlink(join(modelDir, PENDING_FILE)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
}

/** The record could not be written: undo the save (the folder, when the save created it; else the pending file). */
export async function abandonPendingModel(modelDir: string): Promise<void> {
  const pending = await readPending(modelDir)
  if (!pending) return
  if (pending.created) await removeFolder(modelDir)
  else await settlePendingModel(modelDir)
}

export interface Recovered {
  /** Model folders whose record had been written: kept, their pending file removed. */
  adopted: string[]
  /** Model folders removed: their record never came, and their save had created them. */
  removed: string[]
  /** Diffs removed: saved beside a record that never came. */
  diffs: string[]
}

/**
 * Finish what dead writers left pending in `modelsDir` (see the top of this file). Folders pending for a live process
 * (a training under way, this one included) are left alone.
 */
export async function recoverPendingModels(modelsDir: string, isAlive: (pid: number) => boolean = isProcessAlive): Promise<Recovered> {
  const recovered: Recovered = { adopted: [], removed: [], diffs: [] }
  let entries
  try {
    entries = await readdir(modelsDir, { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return recovered
    throw error
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const dir = join(modelsDir, entry.name)
    const pending = await readPending(dir)
    if (!pending || pending.pid === process.pid || isAlive(pending.pid)) continue
    if (pending.record !== undefined && (await exists(resolve(dir, pending.record)))) {
      await settlePendingModel(dir)
      recovered.adopted.push(dir)
      continue
    }
    if (pending.diff !== undefined) {
      const diff = resolve(dir, pending.diff)
      if (await exists(diff)) {
        await rm(diff, { force: true })
        recovered.diffs.push(diff)
      }
    }
    if (pending.created) {
      await removeFolder(dir)
      recovered.removed.push(dir)
    } else {
      await settlePendingModel(dir)
    }
  }
  return recovered
}

/** Remove a folder so that it is never seen half-removed: renamed to a temp name first (swept if we die meanwhile). */
async function removeFolder(dir: string): Promise<void> {
  const temp = tempPathFor(dir)
  try {
    await rename(dir, temp)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  await rm(temp, { recursive: true, force: true })
}

function relativeTo(dir: string, path: string): string {
  return relative(dir, path).split(sep).join('/')
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  )
}
