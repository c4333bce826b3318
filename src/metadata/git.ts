// What git says about the code a model was trained from: commit, branch, remote, whether the working tree differs
// from the commit and, when it does, that difference as a patch `git apply` reproduces in a clean checkout. Never
// throws: without git, or outside a repository, every field is null.
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { runProcess, runText } from '../process/index.js'

/** Diffs larger than this (bytes) are not saved beside the record; the record says so (truncated: true). */
export const DEFAULT_DIFF_CAP_BYTES = 5 * 1024 * 1024

export interface GitState {
  commit: string | null
  branch: string | null
  /** The fetch URL of the branch's remote (else origin, else the first remote), credentials removed. */
  remote_url: string | null
  dirty: boolean | null
}

/** The working tree's difference from HEAD, as `git diff --binary` writes it. */
export interface WorkingTreeDiff {
  /** SHA-256 and size of the whole patch, also when it is over the cap. */
  sha256: string
  bytes: number
  cap_bytes: number
  truncated: boolean
  /** The patch; null when it is over the cap (no partial patch is ever kept). */
  patch: Buffer | null
}

export interface GitStateOptions {
  /**
   * Paths (relative to `root`, posix) left out of the dirty check and the diff: what mlskel writes during a run
   * (the model, the records, data outputs, mlskel.lock).
   */
  exclude?: readonly string[]
  /** Default DEFAULT_DIFF_CAP_BYTES. */
  diffCapBytes?: number
}

const GIT_TIMEOUT_MS = 60_000

/** git's output, or null when it failed, could not start, or said more than 16 MiB. */
async function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string | null> {
  const result = await runText('git', args, { cwd, ...(env ? { env } : {}), timeoutMs: GIT_TIMEOUT_MS, maxBytes: 16 << 20 })
  return result.code === 0 && !result.truncated ? result.stdout : null
}

/**
 * Commit, branch (null when detached), remote URL and whether the working tree under `root` differs from the
 * commit — tracked changes and untracked files that are not ignored, minus `exclude` — and, when it does, the
 * difference (`diff`). The user's index and object store are never written: the diff is made with a temporary
 * index and a temporary object folder.
 */
export async function gitState(root: string, options: GitStateOptions = {}): Promise<GitState & { diff: WorkingTreeDiff | null }> {
  const none = { commit: null, branch: null, remote_url: null, dirty: null, diff: null }
  const where = await repository(root)
  if (!where) return none
  const { indexPath, objectsPath, commit, branch } = where
  const state = { commit, branch, remote_url: await remoteUrl(root, branch) }
  const exclude = [...new Set(options.exclude ?? [])].filter((p) => p && p !== '.' && p !== '..' && !p.startsWith('../'))
  const pathspec = ['--', '.', ...exclude.map((p) => `:(exclude,literal)${p}`)]
  if (state.commit) {
    // `git add` refuses to be handed an ignored path, even to exclude it: those are ignored anyway
    const ignored = new Set(exclude.length ? ((await git(root, ['check-ignore', '--', ...exclude]))?.split('\n') ?? []) : [])
    const addPathspec = ['--', '.', ...exclude.filter((p) => !ignored.has(p)).map((p) => `:(exclude,literal)${p}`)]
    const diff = await workingTreeDiff(root, { indexPath, objectsPath }, addPathspec, pathspec, options.diffCapBytes ?? DEFAULT_DIFF_CAP_BYTES)
    if (diff) return { ...state, dirty: diff.bytes > 0, diff: diff.bytes > 0 ? diff : null }
  }
  // Before the first commit (nothing to diff against), or when the diff could not be made: git status alone.
  const status = await git(root, ['status', '--porcelain', '--untracked-files=all', ...pathspec])
  return { ...state, dirty: status === null ? null : status.trim().length > 0, diff: null }
}

/**
 * Whether `root` is in a work tree and, when it is, where its index and objects are (for the diff), the commit HEAD
 * names and its branch (null when detached). One git for all of it: a training spends ~15 ms of CPU on each git it
 * starts. Before the first commit `HEAD^{commit}` names nothing: git has printed the rest and fails there, and a
 * second git names the branch to be.
 */
async function repository(root: string): Promise<{ indexPath: string; objectsPath: string; commit: string | null; branch: string | null } | null> {
  // `--` after the revisions: they are not paths, whatever files there are
  const args = ['rev-parse', '--is-inside-work-tree', '--git-path', 'index', '--git-path', 'objects', 'HEAD^{commit}', '--symbolic-full-name', 'HEAD', '--']
  const result = await runText('git', args, { cwd: root, timeoutMs: GIT_TIMEOUT_MS, maxBytes: 16 << 20 })
  const [inside, indexPath, objectsPath, commit, ref] = result.truncated ? [] : result.stdout.split('\n')
  if (inside !== 'true' || !indexPath || !objectsPath) return null
  if (result.code === 0 && commit && ref) return { indexPath, objectsPath, commit, branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null }
  const branch = (await git(root, ['symbolic-ref', '--short', '-q', 'HEAD']))?.trim() || null
  return { indexPath, objectsPath, commit: null, branch }
}

/**
 * HEAD → working tree as one binary patch: a copy of the index (so unchanged files are not re-hashed) gets every
 * change and untracked, non-ignored file under `pathspec` staged, then is diffed against HEAD. New blobs go to a
 * temporary object folder that borrows the repository's objects, so nothing in .git changes. `paths` are the
 * repository's index and object folder as `git rev-parse --git-path` gives them (relative to `root`, or absolute).
 */
async function workingTreeDiff(root: string, paths: { indexPath: string; objectsPath: string }, addPathspec: string[], pathspec: string[], cap: number): Promise<WorkingTreeDiff | null> {
  const temp = await mkdtemp(join(tmpdir(), 'mlskel-git-'))
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GIT_INDEX_FILE: join(temp, 'index'),
      GIT_OBJECT_DIRECTORY: join(temp, 'objects'),
      GIT_ALTERNATE_OBJECT_DIRECTORIES: resolve(root, paths.objectsPath),
      GIT_OPTIONAL_LOCKS: '0',
    }
    await mkdir(env.GIT_OBJECT_DIRECTORY!)
    const copied = await copyFile(resolve(root, paths.indexPath), env.GIT_INDEX_FILE!).then(
      () => true,
      () => false,
    )
    if (!copied && (await git(root, ['read-tree', 'HEAD'], env)) === null) return null
    if ((await git(root, ['add', '--all', ...addPathspec], env)) === null) return null
    return await diffStream(root, env, cap, [
      'diff',
      '--cached',
      '--binary',
      '--no-color',
      '--no-ext-diff',
      '--no-textconv',
      '--no-renames',
      '--no-relative',
      '--ignore-submodules=none',
      '--src-prefix=a/',
      '--dst-prefix=b/',
      'HEAD',
      ...pathspec,
    ])
  } finally {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined)
  }
}

/** Run git, hashing and counting all of its output but keeping at most `cap` bytes of it. */
async function diffStream(cwd: string, env: NodeJS.ProcessEnv, cap: number, args: string[]): Promise<WorkingTreeDiff | null> {
  const hash = createHash('sha256')
  let bytes = 0
  const count = (chunk: Buffer) => {
    hash.update(chunk)
    bytes += chunk.length
  }
  const result = await runProcess('git', args, { cwd, env, timeoutMs: GIT_TIMEOUT_MS, maxBytes: cap, onStdout: count })
  if (result.code !== 0) return null
  const truncated = bytes > cap
  return { sha256: hash.digest('hex'), bytes, cap_bytes: cap, truncated, patch: truncated ? null : result.stdout }
}

/**
 * The fetch URL of the branch's remote, else origin's, else the first remote's. The remotes and the branch's upstream
 * come from one `git config` (in a project with no remote, the only git); the URL from `git remote get-url`, which
 * applies the user's `insteadOf` rewrites.
 */
async function remoteUrl(root: string, branch: string | null): Promise<string | null> {
  // -z: each key, a new line, its value, then NUL
  const entries = (await git(root, ['config', '-z', '--get-regexp', '^(remote\\..*\\.url|branch\\..*\\.remote)$']))?.split('\0') ?? []
  const remotes: string[] = []
  let upstream: string | undefined
  for (const entry of entries) {
    const at = entry.indexOf('\n')
    const [key, value] = at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)]
    if (key.startsWith('remote.') && key.endsWith('.url')) remotes.push(key.slice('remote.'.length, -'.url'.length))
    else if (branch && key === `branch.${branch}.remote`) upstream = value
  }
  const name = upstream && remotes.includes(upstream) ? upstream : remotes.includes('origin') ? 'origin' : remotes[0]
  if (!name) return null
  const url = (await git(root, ['remote', 'get-url', name]))?.trim()
  return url ? stripCredentials(url) : null
}

/**
 * A remote URL without credentials: user and password of http(s) and other URLs (a token is often given as the
 * user), the password of ssh URLs (their user, like git@, is not a secret). scp-like `git@host:path` is kept.
 */
export function stripCredentials(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)(.*)$/i.exec(url)
  if (!match) return url
  const [, scheme, userinfo, rest] = match as unknown as [string, string, string, string]
  if (/^ssh:|^git\+ssh:|^ssh\+git:/i.test(scheme)) {
    const user = userinfo.slice(0, -1).split(':')[0]!
    return `${scheme}${user ? `${user}@` : ''}${rest}`
  }
  return `${scheme}${rest}`
}
