// The lint rule's result cache: the outcome of the last successful lint, reused while nothing ESLint reads has changed.
//
// Loading ESLint with a typescript-eslint configuration takes about half a second per process, even when ESLint's own
// cache spares it the linting, and `mlskel check` as a whole should take less than that. So the outcome is keyed on
// the stat of every file that can change ESLint's verdict, and the rule skips ESLint while the key is the same.
import { createHash } from 'node:crypto'
import type { BigIntStats } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { z } from 'zod'
import { errorCatalog, type ErrorCode } from '../../errors/index.js'
import { writeFileAtomic } from '../../fs/index.js'
import { RACY_WINDOW_NS } from '../../hashing/index.js'
import type { RuleOutcome } from '../types.js'
import { mlskelVersion } from '../../package/index.js'

/** The cache file, in mlskel's state folder. */
export const LINT_CACHE_FILE = join('cache', 'lint.json')

const FORMAT = 'mlskel-lint-cache'
const VERSION = 1

/** Files at the root that configure ESLint, or record which plugins are installed. */
const ROOT_INPUTS = /^(eslint\.config\.[cm]?[jt]s|\.eslintrc(\.(c?js|ya?ml|json))?|\.eslintignore|\.gitignore|package\.json|package-lock\.json|npm-shrinkwrap\.json|pnpm-lock\.yaml|yarn\.lock|bun\.lockb?|tsconfig.*\.json)$/
/** Packages whose upgrade changes lint results even when no lock file says so (npm link, a hand-edited node_modules). */
const PACKAGES = ['eslint', 'typescript-eslint', 'typescript', '@eslint/js']
/** Folders ESLint never lints by default. */
const SKIPPED_DIRS = new Set(['node_modules', '.git'])

// mlskel's own version: a new mlskel may word or sort its findings differently
const MLSKEL_VERSION: string = mlskelVersion()

export interface LintCache {
  /** The stored outcome if it was made from the files as they are now; any problem reading it is a miss. */
  read(): Promise<RuleOutcome | undefined>
  /** Store the outcome of a successful lint, unless a file changed too recently for its stat to vouch for it. */
  write(outcome: RuleOutcome): Promise<void>
}

export interface LintCacheOptions {
  root: string
  /** mlskel's state folder: it holds the cache, and is never part of the key (ESLint's cache changes there). */
  state: string
  /** The lint paths as configured. */
  paths: readonly string[]
}

/** The cache for the project's files as they are now; undefined when the project has no ESLint to key it on. */
export async function openLintCache(options: LintCacheOptions): Promise<LintCache | undefined> {
  // taken before any stat: a file changed after this is either seen as changed or judged racy
  const takenNs = BigInt(Date.now()) * 1_000_000n
  const fingerprint = await fingerprintOf(options).catch(() => undefined)
  if (!fingerprint) return undefined
  const file = join(options.state, LINT_CACHE_FILE)
  return {
    read: () => readEntry(file, fingerprint.key),
    write: async (outcome) => {
      if (fingerprint.newestMtimeNs + RACY_WINDOW_NS > takenNs) return
      // a cache that cannot be written costs the next run time, not this one its result
      await writeFileAtomic(file, JSON.stringify({ format: FORMAT, version: VERSION, key: fingerprint.key, outcome })).catch(() => undefined)
    },
  }
}

interface Fingerprint {
  key: string
  newestMtimeNs: bigint
}

async function fingerprintOf(options: LintCacheOptions): Promise<Fingerprint | undefined> {
  const packages = await Promise.all(PACKAGES.map((name) => findPackageJson(options.root, name)))
  const eslintPackage = packages[0]
  if (!eslintPackage) return undefined
  const eslintVersion = (JSON.parse(await readFile(eslintPackage, 'utf8')) as { version?: unknown }).version
  const files = [...(await lintInputs(options)), ...(await rootInputs(options.root)), ...packages.filter((path) => path !== undefined)]
  const stats = await Promise.all(files.map(async (path) => [path, await stat(path, { bigint: true }).catch(() => undefined)] as const))
  const lines = stats.flatMap(([path, info]) => (info ? [statLine(options.root, path, info)] : []))
  lines.sort()
  const hash = createHash('sha256').update(JSON.stringify([FORMAT, VERSION, eslintVersion, MLSKEL_VERSION, options.paths]))
  for (const line of lines) hash.update(`\n${line}`)
  const newestMtimeNs = stats.reduce((newest, [, info]) => (info && info.mtimeNs > newest ? info.mtimeNs : newest), 0n)
  return { key: hash.digest('hex'), newestMtimeNs }
}

/**
 * Size, mtime, ctime and inode: an edit changes mtime and ctime; a restored mtime (touch -d, cp -p) still changes
 * ctime; a file replaced by a rename changes the inode. Only mtime decides raciness (openLintCache's write): an edit
 * within the same clock tick as the stored mtime is the one change the stat cannot show, and such an entry is never
 * written.
 */
function statLine(root: string, path: string, info: BigIntStats): string {
  return [relative(root, path).split(sep).join('/'), info.size, info.mtimeNs, info.ctimeNs, info.ino].join('\t')
}

/** Every file under the lint paths, as ESLint would walk them: not node_modules, .git or mlskel's state. */
async function lintInputs(options: LintCacheOptions): Promise<string[]> {
  const files: string[] = []
  await Promise.all(options.paths.map((path) => collect(join(options.root, path), options.state, files)))
  return files
}

async function collect(path: string, state: string, files: string[]): Promise<void> {
  let entries
  try {
    entries = await readdir(path, { withFileTypes: true })
  } catch (error) {
    // a lint path that is a file; a missing one is left out of the key by its failing stat
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') files.push(path)
    return
  }
  const dirs: string[] = []
  for (const entry of entries) {
    const child = join(path, entry.name)
    if (!entry.isDirectory()) files.push(child) // a symlink to a folder counts by its own stat, not followed
    else if (!SKIPPED_DIRS.has(entry.name) && child !== state) dirs.push(child)
  }
  await Promise.all(dirs.map((dir) => collect(dir, state, files)))
}

async function rootInputs(root: string): Promise<string[]> {
  const names = await readdir(root)
  return names.filter((name) => ROOT_INPUTS.test(name)).map((name) => join(root, name))
}

/** The package.json of `name` as Node would find it from the root: in the nearest node_modules that has it. */
async function findPackageJson(root: string, name: string): Promise<string | undefined> {
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name, 'package.json')
    if (await stat(candidate).then((info) => info.isFile(), () => false)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

const findingSchema = z.object({
  level: z.enum(['error', 'warning', 'info']),
  code: z.custom<ErrorCode>((code) => typeof code === 'string' && Object.hasOwn(errorCatalog, code)),
  message: z.string(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  fix: z.string().optional(),
})

const entrySchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  key: z.string(),
  outcome: z.object({ findings: z.array(findingSchema), summary: z.string().optional() }),
})

async function readEntry(file: string, key: string): Promise<RuleOutcome | undefined> {
  try {
    const entry = entrySchema.safeParse(JSON.parse(await readFile(file, 'utf8')))
    return entry.success && entry.data.key === key ? entry.data.outcome : undefined
  } catch {
    return undefined
  }
}

