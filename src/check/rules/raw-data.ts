// Rule 6, raw data: data/raw is immutable. A manifest beside it (data/raw.manifest.json: each file's size and
// SHA-256) is committed with the data; a listed file that changed or went missing is an error, a new file a note.
// A file reached through a symbolic link is hashed by what it points to, and its entry says where it leads (`link`):
// the data behind a link changes without git seeing it, so the manifest must. The external inputs mlskel.yaml
// declares (raw data read in place, outside the project) are manifested beside them, under `external`.
// The manifest sits beside the folder, not in it, because data/raw's content hash drives the pipeline: writing
// the manifest must not make every stage stale. Hashes go through the project's stat cache, so an unchanged
// folder of thousands of files is checked from stats alone; any change of size, mtime, ctime or inode re-reads.
import { statSync } from 'node:fs'
import { lstat, readFile, readlink, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
import { z } from 'zod'
import { describeIssues } from '../../errors/index.js'
import { writeFileAtomic } from '../../fs/index.js'
import { Hasher, listFileEntries, mapLimit, type ListedFile } from '../../hashing/index.js'
import { readExternalInputs } from '../../project/index.js'
import { sortKeys } from '../../json/index.js'
import { runText } from '../../process/index.js'
import type { Finding, Rule, RuleOutcome } from '../types.js'

export const RAW_MANIFEST_SUFFIX = '.manifest.json'
export const RAW_MANIFEST_VERSION = 1
/** Files in data/raw that are not data: the placeholder that keeps the folder in git, and what desktops drop. */
export const RAW_IGNORED_NAMES: ReadonlySet<string> = new Set(['.gitkeep', '.DS_Store', 'Thumbs.db'])
/** Raw files stat'ed and hashed at once; hashing is on the main thread, so more only overlaps stats and reads. */
const CONCURRENCY = 16

/** The manifest of a raw data folder: `<rawDir>.manifest.json`, beside the folder (data/raw.manifest.json). */
export function rawManifestPath(rawDir: string): string {
  return rawDir.replace(/[\\/]+$/, '') + RAW_MANIFEST_SUFFIX
}

/** A path relative to the raw folder, with / separators, that cannot point outside it. */
const rawFilePath = z.string().refine((path) => path.split('/').every((part) => part !== '' && part !== '.' && part !== '..') && !path.includes('\0'), {
  message: 'must be a path relative to the raw data folder, with / separators',
})

const rawFileEntry = z.strictObject({
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  link: z.string().min(1).optional().describe('the path leads through a symbolic link: where it leads, as the link says; size and sha256 are of what it points to'),
})

export const rawManifestSchema = z.strictObject({
  schema_version: z.literal(RAW_MANIFEST_VERSION),
  algorithm: z.literal('sha256'),
  files: z.record(rawFilePath, rawFileEntry),
  external: z
    .record(z.string().refine((path) => isAbsolute(path), { message: 'must be an absolute path' }), rawFileEntry)
    .optional()
    .describe("the external inputs mlskel.yaml declares, by absolute path (a folder's files as <folder>/<file>)"),
})

export type RawManifest = z.output<typeof rawManifestSchema>
export type RawFileEntry = RawManifest['files'][string]

/**
 * The manifest of `rawDir` as it is now, with the `external` inputs mlskel.yaml declares (absolute paths; files or
 * folders; one that does not exist is left out). `hasher` (default: one without a cache) lets a check reuse the
 * project's stat cache. Temp files of atomic writes and RAW_IGNORED_NAMES are left out.
 */
export async function buildRawManifest(rawDir: string, hasher?: Hasher, external: readonly string[] = []): Promise<RawManifest> {
  const using = hasher ?? (await Hasher.open())
  const files = await manifestEntries(rawDir, await listFileEntries(rawDir), using)
  const outside: Record<string, RawFileEntry> = {}
  for (const path of external) {
    const info = await stat(path).catch(() => undefined)
    if (info?.isDirectory()) Object.assign(outside, prefixed(path, await manifestEntries(path, await listFileEntries(path), using)))
    else if (info?.isFile()) {
      const link = (await lstat(path)).isSymbolicLink() ? await readlink(path) : undefined
      outside[path] = { size: info.size, sha256: await using.file(path), ...(link === undefined ? {} : { link }) }
    }
  }
  return { schema_version: RAW_MANIFEST_VERSION, algorithm: 'sha256', files, ...(Object.keys(outside).length > 0 ? { external: outside } : {}) }
}

/** The entries of `listed` files under `dir`, RAW_IGNORED_NAMES left out. */
async function manifestEntries(dir: string, listed: readonly ListedFile[], hasher: Hasher): Promise<Record<string, RawFileEntry>> {
  const kept = listed.filter(({ path }) => !RAW_IGNORED_NAMES.has(path.slice(path.lastIndexOf('/') + 1)))
  const entries = await mapLimit(kept, CONCURRENCY, async ({ path, link }): Promise<RawFileEntry> => {
    const file = join(dir, path)
    // the size by a synchronous stat: ~4 µs, against ~20 µs through the libuv pool, which the hasher's stats fill
    const size = statSync(file).size
    return { size, sha256: await hasher.file(file), ...(link === undefined ? {} : { link }) }
  })
  return Object.fromEntries(kept.map(({ path }, i) => [path, entries[i]!]))
}

function prefixed(dir: string, entries: Record<string, RawFileEntry>): Record<string, RawFileEntry> {
  return Object.fromEntries(Object.entries(entries).map(([path, entry]) => [`${dir.replace(/\/+$/, '')}/${path}`, entry]))
}

/** The manifest's text: header first, files sorted, two-space indent, trailing newline (stable diffs in git). */
export function serialiseRawManifest(manifest: RawManifest): string {
  const external = manifest.external && Object.keys(manifest.external).length > 0 ? { external: sortKeys(manifest.external) } : {}
  return `${JSON.stringify({ schema_version: manifest.schema_version, algorithm: manifest.algorithm, files: sortKeys(manifest.files), ...external }, null, 2)}\n`
}

/** Write the manifest of `rawDir` (and `external` inputs) as it is now, atomically (`mlskel new` calls it so it is in the first commit). */
export async function writeRawManifest(rawDir: string, hasher?: Hasher, external: readonly string[] = []): Promise<RawManifest> {
  const manifest = await buildRawManifest(rawDir, hasher, external)
  await writeFileAtomic(rawManifestPath(rawDir), serialiseRawManifest(manifest))
  return manifest
}

export type ReadRawManifest = { status: 'missing' } | { status: 'invalid'; problem: string } | { status: 'ok'; manifest: RawManifest }

/** The manifest of `rawDir`, or why it cannot be used; never throws for a bad file. */
export async function readRawManifest(rawDir: string): Promise<ReadRawManifest> {
  let text: string
  try {
    text = await readFile(rawManifestPath(rawDir), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' }
    return { status: 'invalid', problem: (error as Error).message }
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return { status: 'invalid', problem: `not valid JSON (${(error as Error).message})` }
  }
  const parsed = rawManifestSchema.safeParse(json)
  if (parsed.success) return { status: 'ok', manifest: parsed.data }
  // a bad key of `files` is reported by zod as "Invalid key in record": issueText says its reason, one level down
  return { status: 'invalid', problem: describeIssues(parsed.error).text }
}

/** A change of one file: `path` is relative to the raw folder, or, with `external`, the absolute path of an external input's file. */
export type RawChange = { path: string; external?: true } & (
  | { kind: 'new'; now: RawFileEntry }
  | { kind: 'deleted'; was: RawFileEntry }
  | { kind: 'changed'; was: RawFileEntry; now: RawFileEntry }
)

/** How `now` differs from `was`: the raw folder's files, then the external inputs', each sorted by path. */
export function diffRawManifests(was: RawManifest, now: RawManifest): RawChange[] {
  return [...diffEntries(was.files, now.files, false), ...diffEntries(was.external ?? {}, now.external ?? {}, true)]
}

function diffEntries(was: Record<string, RawFileEntry>, now: Record<string, RawFileEntry>, external: boolean): RawChange[] {
  const changes: RawChange[] = []
  const mark = external ? { external: true as const } : {}
  for (const path of [...new Set([...Object.keys(was), ...Object.keys(now)])].sort()) {
    const before = was[path]
    const after = now[path]
    if (!before) changes.push({ path, ...mark, kind: 'new', now: after! })
    else if (!after) changes.push({ path, ...mark, kind: 'deleted', was: before })
    else if (before.size !== after.size || before.sha256 !== after.sha256 || before.link !== after.link) changes.push({ path, ...mark, kind: 'changed', was: before, now: after })
  }
  return changes
}

export const rawDataRule: Rule = {
  id: 'raw-data',
  title: 'raw data unchanged',
  async run(ctx) {
    const rawDir = ctx.paths.raw
    const names = { raw: projectRelative(ctx.root, rawDir), manifest: projectRelative(ctx.root, rawManifestPath(rawDir)) }
    if (!(await isDirectory(rawDir))) return { findings: [], summary: `${names.raw}/ is missing (the structure rule reports it)` }
    // the runner saves the shared hasher's cache once every rule is done
    const external = await readExternalInputs(ctx.root)
    const [stored, current] = await Promise.all([readRawManifest(rawDir), buildRawManifest(rawDir, await ctx.hasher(), external)])
    const view: RawView = { ...names, rawDir, current }
    if (stored.status === 'missing') {
      // a manifest git has seen was deleted: writing a new one would accept whatever data/raw holds now
      const seen = ctx.acceptRaw ? undefined : await lastCommitOf(ctx.root, names.manifest)
      if (seen) return deleted(view, seen)
      return created(view)
    }
    if (stored.status === 'invalid') return ctx.acceptRaw ? replaced(view, stored.problem) : unreadable(view, stored.problem)
    const changes = diffRawManifests(stored.manifest, current)
    return ctx.acceptRaw ? accepted(view, changes) : compared(view, changes)
  },
}

interface RawView {
  rawDir: string
  /** data/raw and data/raw.manifest.json as shown: relative to the project root. */
  raw: string
  manifest: string
  current: RawManifest
}

async function created(view: RawView): Promise<RuleOutcome> {
  await writeFileAtomic(rawManifestPath(view.rawDir), serialiseRawManifest(view.current))
  const finding: Finding = {
    level: 'info',
    code: 'MLSKEL_CHECK_RAW_MANIFEST',
    file: view.manifest,
    message: `${view.manifest} was missing: created it from ${view.raw}/ as it is now, with ${describe(view.current)}; commit it, so that later changes to the raw data are caught`,
    fix: `Commit it: \`git add ${shellQuote(view.manifest)} && git commit -m "Raw data manifest"\`.`,
  }
  return { findings: [finding], summary: `${describe(view.current)}, ${view.manifest} created` }
}

function deleted(view: RawView, commit: string): RuleOutcome {
  const finding: Finding = {
    level: 'error',
    code: 'MLSKEL_CHECK_RAW_MANIFEST',
    file: view.manifest,
    message: `${view.manifest} is missing, but git's history has it (last in commit ${commit.slice(0, 12)}): a new one would accept ${view.raw}/ as it is now, changed or not`,
    fix: `Restore it (\`git checkout ${commit.slice(0, 12)} -- ${shellQuote(view.manifest)}\`, or from the commit before the one that deleted it) and check again; to accept the raw data as it is now, \`mlskel check --accept-raw\`.`,
  }
  return { findings: [finding], summary: `${describe(view.current)}; ${view.manifest} deleted, nothing compared` }
}

/** The newest commit that touched `path`, or undefined (never committed, not a repository, no git). */
async function lastCommitOf(root: string, path: string): Promise<string | undefined> {
  const result = await runText('git', ['log', '-1', '--format=%H', '--', path], { cwd: root })
  return result.code === 0 ? result.stdout.trim() || undefined : undefined
}

function unreadable(view: RawView, problem: string): RuleOutcome {
  const finding: Finding = { level: 'error', code: 'MLSKEL_CHECK_RAW_MANIFEST', file: view.manifest, message: `${view.manifest} cannot be read: ${problem}` }
  return { findings: [finding], summary: `${describe(view.current)}; ${view.manifest} unreadable, nothing compared` }
}

async function replaced(view: RawView, problem: string): Promise<RuleOutcome> {
  await writeFileAtomic(rawManifestPath(view.rawDir), serialiseRawManifest(view.current))
  const finding: Finding = {
    level: 'info',
    code: 'MLSKEL_CHECK_RAW_MANIFEST',
    file: view.manifest,
    message: `accepted: ${view.manifest} could not be read (${problem}); replaced it with ${view.raw}/ as it is now, ${describe(view.current)}`,
    fix: `Commit ${view.manifest}.`,
  }
  return { findings: [finding], summary: `${describe(view.current)}, ${view.manifest} rewritten` }
}

function compared(view: RawView, changes: RawChange[]): RuleOutcome {
  const findings = changes.map((change) => changeFinding(view, change))
  const counts = (['changed', 'deleted', 'new'] as const).map((kind) => [kind, changes.filter((c) => c.kind === kind).length] as const).filter(([, n]) => n > 0)
  const against = counts.length === 0 ? `as in ${view.manifest}` : `${counts.map(([kind, n]) => `${n} ${kind}`).join(', ')} against ${view.manifest}`
  return { findings, summary: `${describe(view.current)}, ${against}` }
}

function changeFinding(view: RawView, change: RawChange): Finding {
  const file = fileOf(view, change)
  const what = change.external ? `external input ${file}` : file
  if (change.kind === 'new') {
    return { level: 'info', code: 'MLSKEL_CHECK_RAW_NEW', file, message: `${what} is new: ${view.manifest} does not list it (${formatSize(change.now.size)})` }
  }
  const how = change.kind === 'deleted' ? 'was deleted' : `was modified: ${modification(change.was, change.now)}`
  // git keeps the raw folder's files, not what lies outside the project
  const restore = change.external ? `Restore ${file} where it was (it is outside the project, so git cannot).` : `Restore it with \`git checkout -- ${shellQuote(file)}\`.`
  return {
    level: 'error',
    code: 'MLSKEL_CHECK_RAW_CHANGED',
    file,
    message: `${what} ${how} (raw data is immutable; ${view.manifest} records it as committed)`,
    fix: `${restore} If the change is intended, accept it with \`mlskel check --accept-raw\` and commit ${view.manifest}.`,
  }
}

/** A change's file as findings name it: under the raw folder, or an external input's absolute path. */
function fileOf(view: RawView, change: RawChange): string {
  return change.external ? change.path : `${view.raw}/${change.path}`
}

async function accepted(view: RawView, changes: RawChange[]): Promise<RuleOutcome> {
  if (changes.length > 0) await writeFileAtomic(rawManifestPath(view.rawDir), serialiseRawManifest(view.current))
  const findings = changes.map((change): Finding => {
    const file = fileOf(view, change)
    const what = change.kind === 'new' ? 'added' : change.kind === 'deleted' ? 'removed' : `changed (${modification(change.was, change.now)})`
    return { level: 'info', code: 'MLSKEL_CHECK_RAW_MANIFEST', file, message: `accepted: ${file} ${what}; ${view.manifest} updated`, fix: `Commit ${view.manifest} with the raw data.` }
  })
  const outcome = changes.length === 0 ? `as in ${view.manifest}, nothing to accept` : `${changes.length} change${plural(changes.length)} accepted into ${view.manifest}`
  return { findings, summary: `${describe(view.current)}, ${outcome}` }
}

/** What differs between two entries of one file: its size, or (same size) its content; and where a link leads. */
function modification(was: RawFileEntry, now: RawFileEntry): string {
  const content = was.size !== now.size ? `size ${was.size} → ${now.size} bytes` : was.sha256 !== now.sha256 ? `content changed (same size, ${was.size} bytes, another SHA-256)` : undefined
  const link = was.link === now.link ? undefined : now.link === undefined ? `no longer a link (was one to ${was.link})` : was.link === undefined ? `now a link to ${now.link}` : `the link now leads to ${now.link} (was ${was.link})`
  return [content, link && (content ? link : `${link}, same content`)].filter(Boolean).join('; ')
}

/** "3 files, 12.4 MB", "3 files, 12.4 MB, and 1 external file, 2.0 GB" */
function describe(manifest: RawManifest): string {
  const count = (entries: RawFileEntry[]) => `${entries.length} file${plural(entries.length)}, ${formatSize(entries.reduce((sum, e) => sum + e.size, 0))}`
  const external = Object.values(manifest.external ?? {})
  return `${count(Object.values(manifest.files))}${external.length > 0 ? `, and ${count(external).replace('file', 'external file')}` : ''}`
}

/** Sizes in powers of 1000, as checks.model_size_mb counts them. */
function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

function plural(n: number): string {
  return n === 1 ? '' : 's'
}

/** A path for a shell command line: as it is when plain, else single-quoted. */
function shellQuote(path: string): string {
  return /^[\w./@+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`
}

/** A path under the project as it is shown: relative, with / separators (an outside path stays absolute). */
function projectRelative(root: string, path: string): string {
  const rel = relative(root, path)
  return rel === '' ? '.' : rel.startsWith('..') ? path : rel.split(sep).join('/')
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}
