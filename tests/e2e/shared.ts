// What the end-to-end files share, made once per version of mlskel and reused: mlskel packed as published, and a
// project created with its dependencies installed (`mlskel new`), mlskel among them from the tarball it vendors. Each
// file gets a copy of that project of its own: its files copied, its node_modules hard-linked (an install is what
// every file would otherwise repeat; the files run side by side). The cache is keyed by the content of what `npm pack`
// puts in the tarball, under the system's temp folder, so a re-run after no change to mlskel reuses it too.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { builtCli, packMlskel } from '../pack.js'

export const repo = resolve(import.meta.dirname, '../..')

/**
 * The environment of a user's shell: none of this test runner's or npm-script variables. npm takes the registry's
 * package metadata from its cache when it has it (prefer-offline): what is under test is mlskel, not the registry, and
 * asking it again for every package of an install without a lockfile cost ~25 s of waiting per install here.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VITEST') || key.startsWith('npm_') || key === 'NODE_OPTIONS' || key === 'TEST' || key === 'NODE_ENV') continue
    env[key] = value
  }
  return { ...env, NO_COLOR: '1', CI: 'true', npm_config_prefer_offline: 'true' }
}

export interface Run {
  status: number | null
  stdout: string
  stderr: string
}

export function run(command: string, args: string[], options: SpawnSyncOptions & { cwd: string }): Run {
  const result = spawnSync(command, args, { env: userEnv(), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000, ...options })
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) }
}

export function ok(result: Run): Run {
  if (result.status !== 0) throw new Error(`exit ${result.status}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`)
  return result
}

export interface Shared {
  /** The packed tarball. */
  tarball: string
  /**
   * The `mlskel` command the project installed from its vendored tarball, for commands run outside a copy of it (a
   * copy's own is its node_modules/.bin/mlskel, as `npx mlskel` runs it).
   */
  mlskel: string
  /** The project `mlskel new` made, installed and committed: copy it (copyProject), never change it. */
  pristine: string
}

const LOCK_WAIT_MS = 900_000

/** The shared tarball and project, made now if no file made them for this mlskel yet. */
export function shared(): Shared {
  // dist/ built first when a source is newer (a file run alone after an edit): it is part of the key
  const cli = builtCli(userEnv())
  const { version, files } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; files: string[] }
  const name = `mlskel-${version}.tgz`
  const home = join(tmpdir(), `mlskel-e2e-${packageDigest(files)}`)
  const made: Shared = { tarball: join(home, name), mlskel: join(home, 'iris-project', 'node_modules', '.bin', 'mlskel'), pristine: join(home, 'iris-project') }
  const ready = join(home, 'ready')
  if (!existsSync(ready)) {
    // one maker at a time: the files that start together wait for the first (a lock folder, made atomically, that
    // names its maker's process)
    const lock = `${home}.lock`
    const deadline = Date.now() + LOCK_WAIT_MS
    for (;;) {
      try {
        mkdirSync(lock)
        writeFileSync(join(lock, 'pid'), String(process.pid))
        break
      } catch {
        if (existsSync(ready)) break
        if (abandoned(lock)) rmSync(lock, { recursive: true, force: true })
        if (Date.now() > deadline) throw new Error(`waited ${LOCK_WAIT_MS / 1000} s for another test file to make ${home}`)
        spawnSync('sleep', ['1'])
      }
    }
    try {
      if (!existsSync(ready)) make(home, name, cli)
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
  sweepOthers(home)
  unchanged(made.pristine, home)
  return made
}

/**
 * The shared project as made: a test that wrote into it (rather than into its copy) would change what every later
 * file and run copies, unnoticed. Its git status says so, in ~20 ms (without optional locks: it never writes
 * the index the other files copy).
 */
function unchanged(pristine: string, home: string): void {
  const status = ok(run('git', ['--no-optional-locks', 'status', '--porcelain'], { cwd: pristine })).stdout.trim()
  if (status) throw new Error(`the shared project ${pristine} was changed, though tests only copy it (copyProject):\n${status}\nDelete ${home} to have it made again.`)
}

/**
 * A digest of what `npm pack` puts in the tarball (package.json's `files`, package.json, README.md), read here: packing
 * only to name the cache cost every e2e file 1.9 s of CPU. A file that is not packed may be read too: a change to it
 * makes the project again, which is slow, never wrong.
 */
function packageDigest(files: readonly string[]): string {
  const paths: string[] = []
  for (const entry of ['package.json', 'README.md', ...files]) {
    const path = join(repo, entry)
    if (!existsSync(path)) continue
    if (!statSync(path).isDirectory()) paths.push(entry)
    else for (const file of readdirSync(path, { recursive: true, withFileTypes: true })) if (file.isFile()) paths.push(relative(repo, join(file.parentPath, file.name)))
  }
  const hash = createHash('sha256')
  for (const path of paths.sort()) hash.update(`${path}\0`).update(readFileSync(join(repo, path))).update('\0')
  return hash.digest('hex').slice(0, 16)
}

/** Whether a maker's lock is left by a maker that is gone (its process has ended) or has taken longer than the wait. */
function abandoned(lock: string): boolean {
  const since = statSync(lock, { throwIfNoEntry: false })
  if (!since) return false
  let pid = 0
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'))
  } catch {
    // not written yet (the maker has just made the lock), or the lock is gone
  }
  if (pid > 0) {
    try {
      process.kill(pid, 0)
    } catch (error) {
      // ESRCH: no such process (EPERM: alive, another user's)
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true
    }
  }
  return Date.now() - since.mtimeMs > LOCK_WAIT_MS
}

/** The tarball and the project, made in `<home>.building` and moved to `home` once whole; `cli` is dist/cli/index.js. */
function make(home: string, name: string, cli: string): void {
  const building = `${home}.building`
  rmSync(building, { recursive: true, force: true })
  mkdirSync(building, { recursive: true })
  const packed = packMlskel(building, userEnv())
  if (packed !== name) throw new Error(`npm pack wrote ${packed}, not ${name}`)
  // The project, made by the CLI as built here: run from a checkout, `mlskel new` vendors mlskel packed from it, the
  // same bytes as the tarball (project.test.ts compares them), and the project installs it. (No tool is installed
  // from the tarball first to run it: ~9 s of CPU for nothing the tests use; adopt.test.ts runs `npm create mlskel`,
  // which installs the tarball as a tool.)
  const created = ok(run(process.execPath, [cli, 'new', 'iris-project', '--pm', 'npm'], { cwd: building }))
  if (!created.stdout.includes('iris-project is ready')) throw new Error(`mlskel new did not say the project is ready:\n${created.stdout}`)
  writeFileSync(join(building, 'ready'), '')
  rmSync(home, { recursive: true, force: true })
  renameSync(building, home)
}

/**
 * Shared folders of earlier mlskel versions (each holds an installed project, hundreds of MB), and what a killed run
 * left half made (.building) or locked.
 */
function sweepOthers(keep: string): void {
  for (const entry of readdirSync(tmpdir())) {
    const path = join(tmpdir(), entry)
    if (!/^mlskel-e2e-[0-9a-f]{16}(\.building|\.lock)?$/.test(entry) || path === keep) continue
    // only those no run has used for a day: another checkout's run may be using its own right now
    if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true })
  }
}

/**
 * A copy of the shared project at `into` (a folder that does not exist yet): its files and git history copied,
 * its node_modules hard-linked (read by the tests, never written).
 */
export function copyProject(from: string, into: string): string {
  cpSync(from, into, { recursive: true, filter: (source) => source !== join(from, 'node_modules') })
  ok(run('cp', ['-al', join(from, 'node_modules'), join(into, 'node_modules')], { cwd: into }))
  return into
}

export interface Serving {
  server: ChildProcess
  /** Its exit code. */
  exited: Promise<number | null>
  /** Its URL, once it listens (rejected when it has not within a minute). */
  listening: Promise<string>
}

/** `mlskel serve` in `project` on a free port of 127.0.0.1, as a user's shell would start it. */
export function startServe(mlskel: string, project: string): Serving {
  const server = spawn(mlskel, ['serve', '--host', '127.0.0.1', '--port', '0'], { cwd: project, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolveExit) => server.on('exit', (code) => resolveExit(code)))
  let stderr = ''
  const listening = new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 60_000)
    server.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      const url = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]
      if (url) {
        clearTimeout(timer)
        resolveUrl(url)
      }
    })
  })
  return { server, exited, listening }
}

/** What `mlskel run --json` prints. */
export interface Summary {
  ok: boolean
  stages: { name: string; status: string; reasons: string[] }[]
}

/** Each stage's status in a summary, by name: ran, skipped, … */
export const statuses = (summary: Summary): Record<string, string> => Object.fromEntries(summary.stages.map((s) => [s.name, s.status]))

/** What `mlskel check --json` prints, as far as the tests read it. */
export interface CheckReport {
  ok: boolean
  rules: { id: string; status: string; findings: { level: string; code: string }[] }[]
}

export interface TrainingRecord {
  model_id: string
  model_type: string
  scores: Record<string, Record<string, number>>
  task: string
}

/**
 * What the files do to their copy of the project, for the `mlskel` and project that `where` gives when called (both
 * are known only once the file's beforeAll has run).
 */
export function projectSteps(where: () => { mlskel: string; project: string }) {
  const setParams = (edit: (text: string) => string): void => {
    const file = join(where().project, 'params.yaml')
    writeFileSync(file, edit(readFileSync(file, 'utf8')))
  }
  return {
    /** `mlskel run --json` with `args`, which must succeed: its summary. */
    mlskelRun(args: string[] = []): Summary {
      const { mlskel, project } = where()
      return JSON.parse(ok(run(mlskel, ['run', '--json', ...args], { cwd: project })).stdout) as Summary
    },
    /** The newest metadata record. */
    newestRecord(): TrainingRecord {
      const dir = join(where().project, 'models', 'metadata')
      const newest = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().pop()!
      return JSON.parse(readFileSync(join(dir, newest), 'utf8')) as TrainingRecord
    },
    /** params.yaml's text edited. */
    setParams,
    /** params.yaml's `model:` section replaced by these lines (indented under it), the rest as it is. */
    setModel(...lines: string[]): void {
      setParams((text) => text.replace(/^model:\n(?: {2}.*\n?)*/m, `model:\n${lines.map((line) => `  ${line}\n`).join('')}`))
    },
  }
}
