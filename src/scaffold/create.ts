// Creating projects from the template (`mlskel new`) and adopting existing folders (`mlskel init`).
//
// The template is a real project in the package's template/ folder; files are copied as they are, dotfiles are
// stored under other names (npm would drop or act on them) and renamed by one table, and package.json gets
// structured edits: its name and how it depends on mlskel.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import validateName from 'validate-npm-package-name'
import { MlskelError, quote } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'
import { listFiles } from '../hashing/index.js'
import { mlskelVersion, PACKAGE_ROOT } from '../package/index.js'
import { runProcess } from '../process/index.js'

/** Template file and folder names that become other names in a project. Tests share this table. */
export const RENAMES: Readonly<Record<string, string>> = {
  _gitignore: '.gitignore',
  '_env.example': '.env.example',
  _dockerignore: '.dockerignore',
  _github: '.github',
  '_gitlab-ci.yml': '.gitlab-ci.yml',
  '_yamllint.yml': '.yamllint.yml',
}

export type PackageManager = 'npm' | 'pnpm' | 'yarn'

const packageRoot = PACKAGE_ROOT

export function templateDir(): string {
  return join(packageRoot, 'template')
}

/** The project name for a folder: its base name, lower-cased, spaces made dashes; validated as an npm name. */
export function projectNameFor(dir: string): string {
  const name = basename(resolve(dir)).trim().toLowerCase().replace(/\s+/g, '-')
  const result = validateName(name)
  if (!result.validForNewPackages) {
    const problems = [...(result.errors ?? []), ...(result.warnings ?? [])].join('; ')
    throw new MlskelError('MLSKEL_NEW_INVALID_NAME', `${quote(name)} (from the folder ${quote(dir)}) is not a valid npm package name: ${problems}`, { where: { field: '<dir>' } })
  }
  return name
}

/** The package manager that started this process, from npm_config_user_agent ("pnpm/9.1.0 npm/? node/v20"). */
export function detectPackageManager(env: NodeJS.ProcessEnv = process.env): PackageManager {
  const agent = env.npm_config_user_agent ?? ''
  if (agent.startsWith('pnpm/')) return 'pnpm'
  if (agent.startsWith('yarn/')) return 'yarn'
  return 'npm'
}

/**
 * How a new project should depend on this mlskel: MLSKEL_DEPENDENCY when set; a `file:` spec to this checkout
 * when mlskel runs from one; the `file:` spec to the tarball or folder npm installed it from, read from npm's
 * lockfile; otherwise a caret range on this version (installed from the registry).
 */
export async function resolveMlskelSpec(env: NodeJS.ProcessEnv = process.env, root = packageRoot): Promise<string> {
  if (env.MLSKEL_DEPENDENCY) return env.MLSKEL_DEPENDENCY
  const pkgRoot = resolve(root)
  const marker = `${sep}node_modules${sep}`
  const at = pkgRoot.lastIndexOf(marker)
  if (at < 0) return `file:${pkgRoot}`
  const installRoot = pkgRoot.slice(0, at)
  const key = relative(installRoot, pkgRoot).split(sep).join('/')
  for (const lock of [join(installRoot, 'node_modules', '.package-lock.json'), join(installRoot, 'package-lock.json')]) {
    try {
      const parsed = JSON.parse(await readFile(lock, 'utf8')) as { packages?: Record<string, { resolved?: string }> }
      const resolved = parsed.packages?.[key]?.resolved
      if (!resolved) continue
      if (resolved.startsWith('file:')) return `file:${resolve(installRoot, resolved.slice('file:'.length))}`
      if (!/^https?:/.test(resolved)) return `file:${resolve(installRoot, resolved)}`
      break
    } catch {
      // no such lockfile: try the next
    }
  }
  return `^${JSON.parse(await readFile(join(pkgRoot, 'package.json'), 'utf8')).version as string}`
}

export interface CopyResult {
  /** Project-relative paths written. */
  added: string[]
  /** Project-relative paths that existed and were left alone. */
  kept: string[]
}

/** Copy the template into `root`, never overwriting an existing file; package.json gets its edits on the way. */
export async function copyTemplate(root: string, edits: { name: string; mlskelSpec: string }): Promise<CopyResult> {
  const source = templateDir()
  let files: string[]
  try {
    files = await listFiles(source)
  } catch (error) {
    throw new MlskelError('MLSKEL_NEW_TEMPLATE_MISSING', `cannot read the template at ${source}`, { cause: error })
  }
  if (!files.includes('package.json')) throw new MlskelError('MLSKEL_NEW_TEMPLATE_MISSING', `the template at ${source} has no package.json`)
  const result: CopyResult = { added: [], kept: [] }
  for (const file of files) {
    const target = projectPathOf(file)
    const destination = join(root, target)
    if (existsSync(destination)) {
      result.kept.push(target)
      continue
    }
    await mkdir(dirname(destination), { recursive: true })
    await writeFileAtomic(destination, await templateContent(file, edits))
    result.added.push(target)
  }
  await recordTemplate(root, result.added, edits)
  return result
}

/** What a project gets for a template file: package.json with its name and mlskel dependency, names substituted. */
export async function templateContent(file: string, edits: { name: string; mlskelSpec: string }): Promise<Buffer> {
  const source = join(templateDir(), file)
  const target = projectPathOf(file)
  if (target === 'package.json') {
    const pkg = JSON.parse(await readFile(source, 'utf8')) as Record<string, unknown> & { dependencies?: Record<string, string> }
    pkg.name = edits.name
    pkg.dependencies = { ...pkg.dependencies, mlskel: edits.mlskelSpec }
    return Buffer.from(`${JSON.stringify(pkg, null, 2)}\n`)
  }
  if (NAMED_FILES.test(target)) return Buffer.from((await readFile(source, 'utf8')).replaceAll(TEMPLATE_NAME, edits.name))
  return readFile(source)
}

/**
 * The record of the template a project was made from, `.mlskel-template.json` (committed): mlskel's version and,
 * per file it wrote, the git blob id of what it wrote. `mlskel upgrade` finds that base content in the project's
 * git history by it (the first commit holds it), for a three-way merge with a newer template.
 */
export const TEMPLATE_RECORD = '.mlskel-template.json'

export interface TemplateRecord {
  mlskel: string
  name: string
  files: Record<string, string>
}

async function recordTemplate(root: string, written: readonly string[], edits: { name: string }): Promise<void> {
  const path = join(root, TEMPLATE_RECORD)
  const previous = await readTemplateRecord(root)
  const files: Record<string, string> = { ...previous?.files }
  for (const target of written) if (target !== 'package.json') files[target] = gitBlobId(await readFile(join(root, target)))
  if (written.length === 0 && previous) return
  const record: TemplateRecord = { mlskel: previous?.mlskel ?? mlskelVersion(), name: edits.name, files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) }
  await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`)
}

export async function readTemplateRecord(root: string): Promise<TemplateRecord | undefined> {
  const text = await readFile(join(root, TEMPLATE_RECORD), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  try {
    return JSON.parse(text) as TemplateRecord
  } catch (error) {
    throw new MlskelError('MLSKEL_UPGRADE_NO_RECORD', `${TEMPLATE_RECORD} is not valid JSON: ${(error as Error).message}`, { where: { file: TEMPLATE_RECORD } })
  }
}

/** git's id of a blob of `content` (sha1 of "blob <length>\\0" and the bytes), without git. */
export function gitBlobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex')
}

export { mlskelVersion }

/** The template's own package name, which a project's name replaces in the files people read and deploy by. */
export const TEMPLATE_NAME = 'mlskel-project'
/** Those files: the README (title), the Makefile, Compose and the Kubernetes manifests (names, labels, images). */
const NAMED_FILES = /^(README\.md|Makefile|docker-compose\.yml|deploy\/.*\.ya?ml)$/

/** A template path as it is named in a project: `_gitignore` → `.gitignore`, `_github/…` → `.github/…`, at any depth. */
export function projectPathOf(templatePath: string): string {
  return templatePath
    .split('/')
    .map((part) => RENAMES[part] ?? part)
    .join('/')
}

/** The entries of `dir` (up to `max`), or [] when it does not exist. */
export async function folderEntries(dir: string, max = 5): Promise<string[]> {
  try {
    return (await readdir(dir)).slice(0, max)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export interface NewProjectOptions {
  dir: string
  force?: boolean
  /**
   * Dependency spec for mlskel in the new package.json, used as given. Absent: resolved from how mlskel was
   * installed (resolveMlskelSpec), and a local tarball or checkout is vendored into the project (vendorMlskel).
   */
  mlskelSpec?: string
}

export interface NewProject extends CopyResult {
  root: string
  name: string
  mlskelSpec: string
  /** The tarball put in the project (project-relative), when mlskel did not come from the registry. */
  vendored?: string
}

/** Where a project keeps the mlskel it depends on when mlskel is not from the registry. */
export const VENDOR_DIR = 'vendor'

/**
 * The spec a new project depends on mlskel by, and the tarball vendored for it. MLSKEL_DEPENDENCY is used as it is;
 * a `file:` spec (mlskel installed from a tarball, or run from a checkout or folder) becomes a tarball inside the
 * project, `vendor/mlskel-<version>.tgz`, depended on by a relative path: committed with the project, it installs
 * on any machine, in CI and in Docker (the build context holds it), where an absolute path to this machine would
 * not. A registry range is used as it is.
 */
export async function projectDependency(root: string, env: NodeJS.ProcessEnv = process.env, from = packageRoot): Promise<{ spec: string; vendored?: string }> {
  const spec = await resolveMlskelSpec(env, from)
  if (env.MLSKEL_DEPENDENCY || !spec.startsWith('file:')) return { spec }
  const vendored = await vendorMlskel(root, spec.slice('file:'.length))
  return { spec: `file:${vendored}`, vendored }
}

/** Put mlskel's packed tarball in `<root>/vendor/` from a tarball (copied) or a package folder (`npm pack`). */
export async function vendorMlskel(root: string, source: string): Promise<string> {
  const dir = join(root, VENDOR_DIR)
  await mkdir(dir, { recursive: true })
  const info = await stat(source).catch(() => undefined)
  if (!info) throw new MlskelError('MLSKEL_NEW_TEMPLATE_MISSING', `mlskel's package is not at ${source}, where it was installed from: it cannot be put in the project`, { fix: 'Reinstall mlskel, or set MLSKEL_DEPENDENCY to the dependency spec the project should use (e.g. a version range).' })
  if (info.isFile()) {
    const name = `mlskel-${await tarballVersion(source)}.tgz`
    await copyFile(source, join(dir, name))
    return `${VENDOR_DIR}/${name}`
  }
  // a checkout or folder: packed as npm would publish it (the built dist/ it holds; no build scripts run)
  const packed = await runCommand('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: source })
  const name = packed.output.trim().split('\n').pop()?.trim()
  if (packed.code !== 0 || !name?.endsWith('.tgz') || !existsSync(join(dir, name))) {
    throw new MlskelError('MLSKEL_NEW_INSTALL_FAILED', `\`npm pack\` of mlskel in ${source} failed (exit ${packed.code}): ${packed.output.trim().split('\n').slice(-5).join(' ')}`, {
      fix: 'Build mlskel there first (`npm run build`), or set MLSKEL_DEPENDENCY to the dependency spec the project should use.',
    })
  }
  return `${VENDOR_DIR}/${name}`
}

/** A package tarball's version, from its file name (npm names them <name>-<version>.tgz), else its package.json. */
async function tarballVersion(file: string): Promise<string> {
  const fromName = /-(\d+\.\d+\.\d+[^/]*?)\.tgz$/.exec(basename(file))?.[1]
  if (fromName) return fromName
  return (JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version
}

/** Steps 1–3 of `mlskel new`: name and folder checked, template copied. Install and git are separate steps. */
export async function createProject(options: NewProjectOptions): Promise<NewProject> {
  // 1. project name and folder
  const root = resolve(options.dir)
  const name = projectNameFor(options.dir)
  if (existsSync(root) && !(await stat(root)).isDirectory()) {
    throw new MlskelError('MLSKEL_NEW_DIR_NOT_EMPTY', `${quote(options.dir)} exists and is a file, not a folder`, { fix: 'Choose another name for the project folder.' })
  }
  // 2. folder not empty
  const entries = await folderEntries(root, 6)
  if (entries.length > 0 && !options.force) {
    const shown = entries.slice(0, 5).map((e) => quote(e)).join(', ')
    throw new MlskelError('MLSKEL_NEW_DIR_NOT_EMPTY', `${quote(options.dir)} is not empty: it holds ${shown}${entries.length > 5 ? ', …' : ''}`)
  }
  // 3. template copied, package.json edited
  await mkdir(root, { recursive: true })
  const dependency = options.mlskelSpec ? { spec: options.mlskelSpec } : await projectDependency(root)
  const copied = await copyTemplate(root, { name, mlskelSpec: dependency.spec })
  if (dependency.vendored) copied.added.push(dependency.vendored)
  await addRawManifest(root, copied)
  return { root, name, mlskelSpec: dependency.spec, ...(dependency.vendored ? { vendored: dependency.vendored } : {}), ...copied }
}

/** What `mlskel init` merged into files the project had: package.json's keys and .gitignore's lines. */
export interface Merged {
  /** Files that gained entries (they are also in `kept`). */
  files: string[]
  /** What was added, one line each: `scripts.train`, `dependencies.mlskel`, `.gitignore: .env`. */
  added: string[]
  /** Where the project and the template differ, the project's kept: `scripts.test: kept "node --test" (the template's: "…")`. */
  conflicts: string[]
}

export interface AdoptedProject extends NewProject {
  merged: Merged
}

/**
 * `mlskel init`: add whatever of the layout and template `dir` lacks, overwriting nothing, and merge into what it
 * has: package.json gains the template's scripts, dependencies and `"type": "module"` where it has none (its own
 * are kept; each difference is listed), .gitignore the template's lines it lacks (.env above all).
 */
export async function adoptProject(dir: string, options: { mlskelSpec?: string } = {}): Promise<AdoptedProject> {
  const root = resolve(dir)
  let name: string
  try {
    const existing = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name?: string }
    name = existing.name ?? projectNameFor(root)
  } catch {
    name = projectNameFor(root)
  }
  // package.json is written when there is none, and merged into when there is one
  const writesPackage = !existsSync(join(root, 'package.json'))
  // a package.json that cannot be merged into stops init before it writes anything
  if (!writesPackage) await readPackageJson(root)
  const dependency = options.mlskelSpec ? { spec: options.mlskelSpec } : await projectDependency(root)
  const copied = await copyTemplate(root, { name, mlskelSpec: dependency.spec })
  if (dependency.vendored) copied.added.push(dependency.vendored)
  const merged: Merged = { files: [], added: [], conflicts: [] }
  if (!writesPackage) await mergePackageJson(root, dependency.spec, merged)
  await mergeGitignore(root, merged)
  await addRawManifest(root, copied)
  return { root, name, mlskelSpec: dependency.spec, ...(dependency.vendored ? { vendored: dependency.vendored } : {}), ...copied, merged }
}

const MERGED_FIELDS = ['scripts', 'dependencies', 'devDependencies', 'overrides'] as const
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies'] as const

/** The template's scripts and dependencies into the project's package.json, never replacing one it has. */
export async function mergePackageJson(root: string, mlskelSpec: string, merged: Merged): Promise<void> {
  const file = join(root, 'package.json')
  const { text, pkg } = await readPackageJson(root)
  const template = JSON.parse(await readFile(join(templateDir(), 'package.json'), 'utf8')) as Record<string, Record<string, string>>
  const wanted: Record<string, Record<string, string>> = { ...template, dependencies: { ...template.dependencies, mlskel: mlskelSpec } }
  let changed = false
  for (const field of MERGED_FIELDS) {
    const mine = (pkg[field] ?? {}) as Record<string, string>
    for (const [key, value] of Object.entries(wanted[field] ?? {})) {
      // a package the project has among its other dependencies counts as had
      const elsewhere = (DEPENDENCY_FIELDS as readonly string[]).includes(field) ? DEPENDENCY_FIELDS.find((f) => f !== field && (pkg[f] as Record<string, string> | undefined)?.[key] !== undefined) : undefined
      const have = mine[key] ?? (elsewhere ? (pkg[elsewhere] as Record<string, string>)[key] : undefined)
      if (have === undefined) {
        mine[key] = value
        merged.added.push(`${field}.${key}`)
        changed = true
      } else if (have !== value) {
        merged.conflicts.push(`${elsewhere ?? field}.${key}: kept ${JSON.stringify(have)} (the template's: ${JSON.stringify(value)})`)
      }
    }
    if (Object.keys(mine).length > 0) pkg[field] = mine
  }
  // the template's scripts are ES modules (top-level await): a package without a type would run them as CommonJS
  if (pkg.type === undefined) {
    pkg.type = 'module'
    merged.added.push('type: module')
    changed = true
  } else if (pkg.type !== 'module') {
    merged.conflicts.push(`type: kept ${JSON.stringify(pkg.type)} (the template's scripts are ES modules: "type": "module", or rename them to .mts)`)
  }
  if (!changed) return
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  '
  await writeFileAtomic(file, `${JSON.stringify(pkg, null, indent)}\n`)
  merged.files.push('package.json')
}

async function readPackageJson(root: string): Promise<{ text: string; pkg: Record<string, unknown> }> {
  const text = await readFile(join(root, 'package.json'), 'utf8')
  try {
    const pkg: unknown = JSON.parse(text)
    if (pkg !== null && typeof pkg === 'object' && !Array.isArray(pkg)) return { text, pkg: pkg as Record<string, unknown> }
    throw new Error('it is not an object')
  } catch (error) {
    throw new MlskelError('MLSKEL_INIT_PACKAGE_INVALID', `package.json cannot be read (${(error as Error).message}): mlskel init cannot merge into it`, { where: { file: 'package.json' } })
  }
}

/** The template's .gitignore lines the project's lacks, appended under a comment (`.env` keeps secrets out of git). */
async function mergeGitignore(root: string, merged: Merged): Promise<void> {
  const file = join(root, '.gitignore')
  const text = await readFile(file, 'utf8').catch(() => undefined)
  if (text === undefined) return
  const have = new Set(text.split(/\r?\n/).map((l) => l.trim()))
  const template = await readFile(join(templateDir(), '_gitignore'), 'utf8')
  const missing = template.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#') && !have.has(l) && !have.has(l.replace(/\/$/, '')))
  if (missing.length === 0) return
  await writeFileAtomic(file, `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}\n# added by mlskel init: its secrets, tool output and rebuilt data\n${missing.join('\n')}\n`)
  merged.files.push('.gitignore')
  merged.added.push(...missing.map((l) => `.gitignore: ${l}`))
}

/**
 * The manifest of data/raw (`mlskel check`'s proof that raw data never changes), written beside the template's
 * files so that it is in the project's first commit. An existing manifest is kept, like every existing file.
 */
async function addRawManifest(root: string, result: CopyResult): Promise<void> {
  const { rawManifestPath, writeRawManifest } = await import('../check/index.js')
  const rawDir = join(root, 'data', 'raw')
  const manifest = rawManifestPath(rawDir)
  const target = relative(root, manifest).split(sep).join('/')
  if (existsSync(manifest)) result.kept.push(target)
  else if (existsSync(rawDir)) {
    await writeRawManifest(rawDir)
    result.added.push(target)
  }
}

export interface CommandResult {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/** Run a command, handing each chunk of its output to `onOutput`; resolves with its exit and full output. */
export async function runCommand(command: string, args: readonly string[], options: { cwd: string; onOutput?: (chunk: string) => void; env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  let output = ''
  const collect = (chunk: Buffer) => {
    const text = chunk.toString()
    output += text
    options.onOutput?.(text)
  }
  // stdout and stderr interleaved as they come, so the output reads as the user would have seen it
  const result = await runProcess(command, args, { cwd: options.cwd, ...(options.env ? { env: options.env } : {}), maxBytes: 0, onStdout: collect, onStderr: collect })
  if (result.error && result.code === null && result.signal === null) throw result.error
  return { code: result.code, signal: result.signal, output }
}

/** Install the project's dependencies with `pm`; MLSKEL_NEW_INSTALL_FAILED when it fails. */
export async function installDependencies(root: string, pm: PackageManager, onOutput?: (chunk: string) => void): Promise<void> {
  let result: CommandResult
  try {
    result = await runCommand(pm, ['install'], { cwd: root, onOutput })
  } catch (error) {
    throw new MlskelError('MLSKEL_NEW_INSTALL_FAILED', `could not start ${pm}: ${(error as Error).message}`, { fix: `Install ${pm}, or choose another with --pm, or skip with --no-install and install later.`, cause: error })
  }
  if (result.code !== 0) {
    const tail = result.output.trim().split('\n').slice(-15).join('\n')
    throw new MlskelError('MLSKEL_NEW_INSTALL_FAILED', `\`${pm} install\` in ${root} failed (exit ${result.code ?? result.signal}):\n${tail}`)
  }
}

export type GitOutcome = { status: 'committed' } | { status: 'skipped'; reason: string }

/** `git init` and an initial commit, when git is there and the folder is not already inside a repository. */
export async function initGit(root: string): Promise<GitOutcome> {
  const git = (args: string[]) => runCommand('git', args, { cwd: root }).catch((): CommandResult => ({ code: -1, signal: null, output: 'git is not installed' }))
  const inside = await git(['rev-parse', '--is-inside-work-tree'])
  if (inside.code === -1) return { status: 'skipped', reason: 'git is not installed' }
  if (inside.code === 0 && inside.output.trim() === 'true') return { status: 'skipped', reason: 'the folder is already inside a git repository' }
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'Initial commit from mlskel']]) {
    const result = await git(args)
    if (result.code !== 0) return { status: 'skipped', reason: `git ${args[0]} failed: ${result.output.trim().split('\n')[0] ?? ''}` }
  }
  return { status: 'committed' }
}
