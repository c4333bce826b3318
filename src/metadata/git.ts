// What git says about the code a model was trained from. Never throws: without git, or outside a repository,
// every field is null.
import { execFile } from 'node:child_process'

export interface GitState {
  commit: string | null
  branch: string | null
  dirty: boolean | null
}

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 10_000, maxBuffer: 16 << 20, windowsHide: true }, (error, stdout) => resolve(error ? null : stdout))
  })
}

/**
 * Commit, branch (null when detached) and whether the working tree differs from it. `exclude` lists paths
 * (relative to `root`, posix) left out of the dirty check: the model and record being written by this run.
 */
export async function gitState(root: string, exclude: readonly string[] = []): Promise<GitState> {
  const inside = await git(root, ['rev-parse', '--is-inside-work-tree'])
  if (inside?.trim() !== 'true') return { commit: null, branch: null, dirty: null }
  const [commit, branch, status] = await Promise.all([
    git(root, ['rev-parse', '--verify', '-q', 'HEAD']),
    git(root, ['symbolic-ref', '--short', '-q', 'HEAD']),
    git(root, ['status', '--porcelain', '--', '.', ...exclude.filter((p) => p && !p.startsWith('..')).map((p) => `:(exclude)${p}`)]),
  ])
  return { commit: commit?.trim() || null, branch: branch?.trim() || null, dirty: status === null ? null : status.trim().length > 0 }
}
