// `mlskel upgrade`: bring a newer template's changes into a project made from an older one. Per template file, a
// three-way merge of the base (what the older mlskel wrote: its git blob id is in .mlskel-template.json, its content
// in the project's git history), the project's file (the user's edits) and the new template's file, by
// `git merge-file`: the user's edits are kept, the template's come in, and where both changed the same lines the
// file holds git's conflict markers and is listed. package.json is merged as `mlskel init` merges it.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { MlskelError } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'
import { listFiles } from '../hashing/index.js'
import { gitBlobId, mergePackageJson, mlskelVersion, projectPathOf, readTemplateRecord, TEMPLATE_RECORD, templateContent, templateDir, type Merged, type TemplateRecord } from './create.js'
import { runProcess } from '../process/index.js'

export type UpgradeAction =
  /** The template's new file: the project has none. */
  | 'added'
  /** The user never changed it: the new template's content replaces it. */
  | 'updated'
  /** Both changed it, in different places: merged. */
  | 'merged'
  /** Both changed the same lines: conflict markers written, to resolve by hand. */
  | 'conflict'
  /** The user deleted a template file: left deleted. */
  | 'deleted-kept'

export interface UpgradeChange {
  path: string
  action: UpgradeAction
  /** Conflicts: how many regions git marked. */
  conflicts?: number
}

export interface UpgradeResult {
  from: string
  to: string
  changes: UpgradeChange[]
  /** Nothing was written (--dry-run). */
  dryRun: boolean
}

/** Upgrade the project at `root` to this mlskel's template; with `dryRun`, only say what would change. */
export async function upgradeProject(root: string, o: { dryRun?: boolean } = {}): Promise<UpgradeResult> {
  const record = await readTemplateRecord(root)
  if (!record) {
    throw new MlskelError('MLSKEL_UPGRADE_NO_RECORD', `${TEMPLATE_RECORD} is missing: this project does not say which template it was made from`, { where: { file: TEMPLATE_RECORD } })
  }
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8').catch(() => '{}')) as { name?: string; dependencies?: Record<string, string> }
  const edits = { name: record.name || pkg.name || 'project', mlskelSpec: pkg.dependencies?.mlskel ?? `^${mlskelVersion()}` }
  const changes: UpgradeChange[] = []
  const files: Record<string, string> = { ...record.files }
  const writes: [string, Buffer][] = []
  for (const file of await listFiles(templateDir())) {
    const path = projectPathOf(file)
    if (path === 'package.json') continue
    const theirs = await templateContent(file, edits)
    const theirsId = gitBlobId(theirs)
    const baseId = record.files[path]
    const target = join(root, path)
    if (!existsSync(target)) {
      if (baseId !== undefined) {
        // deleted by the user: said only when the template changed it since
        if (baseId !== theirsId) changes.push({ path, action: 'deleted-kept' })
      } else {
        changes.push({ path, action: 'added' })
        writes.push([path, theirs])
        files[path] = theirsId
      }
      continue
    }
    if (baseId === theirsId) continue // the template did not change this file
    const ours = await readFile(target)
    const oursId = gitBlobId(ours)
    if (oursId === theirsId) {
      files[path] = theirsId
      continue
    }
    if (baseId === undefined) continue // the project's own file (init kept it): not the template's to change
    if (oursId === baseId) {
      changes.push({ path, action: 'updated' })
      writes.push([path, theirs])
      files[path] = theirsId
      continue
    }
    const base = await gitBlob(root, baseId)
    const merged = await mergeFile(ours, base ?? Buffer.alloc(0), theirs)
    changes.push({ path, action: merged.conflicts > 0 ? 'conflict' : 'merged', ...(merged.conflicts > 0 ? { conflicts: merged.conflicts } : {}) })
    writes.push([path, merged.content])
    files[path] = theirsId
  }
  const result: UpgradeResult = { from: record.mlskel, to: mlskelVersion(), changes, dryRun: o.dryRun ?? false }
  if (o.dryRun) return result
  for (const [path, content] of writes) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFileAtomic(join(root, path), content)
  }
  // package.json: the new template's scripts and dependencies the project lacks, as `mlskel init` adds them
  const merged: Merged = { files: [], added: [], conflicts: [] }
  await mergePackageJson(root, edits.mlskelSpec, merged)
  if (merged.files.length > 0) changes.push({ path: 'package.json', action: 'merged' })
  const next: TemplateRecord = { mlskel: result.to, name: edits.name, files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) }
  await writeFileAtomic(join(root, TEMPLATE_RECORD), `${JSON.stringify(next, null, 2)}\n`)
  return result
}

/** A blob of the project's git repository by id, or undefined when git or the blob is not there. */
async function gitBlob(root: string, id: string): Promise<Buffer | undefined> {
  const { code, stdout } = await run('git', ['cat-file', 'blob', id], root)
  return code === 0 ? stdout : undefined
}

/**
 * `git merge-file`'s three-way merge (ours, base, theirs) with git's conflict markers, labelled for the user. Without
 * a base (not in git's history) the whole file conflicts, as git would for two unrelated versions.
 */
async function mergeFile(ours: Buffer, base: Buffer, theirs: Buffer): Promise<{ content: Buffer; conflicts: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mlskel-upgrade-'))
  try {
    const [o, b, t] = ['ours', 'base', 'theirs'].map((n) => join(dir, n)) as [string, string, string]
    await Promise.all([writeFile(o, ours), writeFile(b, base), writeFile(t, theirs)])
    const merged = await run('git', ['merge-file', '-p', '-L', 'yours', '-L', 'template before', '-L', 'template now', o, b, t], dir)
    if (merged.code === null || merged.code < 0 || merged.code > 127) {
      throw new MlskelError('MLSKEL_UPGRADE_GIT_FAILED', `git merge-file failed: ${merged.stderr.trim() || `exit ${merged.code}`}`)
    }
    return { content: merged.stdout, conflicts: merged.code }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function run(command: string, args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const result = await runProcess(command, args, { cwd })
  return result.error ? { code: -1, stdout: Buffer.alloc(0), stderr: result.error.message } : { code: result.code, stdout: result.stdout, stderr: result.stderr.toString('utf8') }
}
