// git for `runs diff` and `runs verify`: a runner that never throws, and the questions they ask.
import { runText } from '../process/index.js'

export interface GitResult {
  /** Exit code; -1 when git could not be started (not installed). */
  code: number
  stdout: string
  stderr: string
}

export async function git(cwd: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<GitResult> {
  const result = await runText('git', args, { cwd, timeoutMs: options.timeoutMs ?? 120_000 })
  if (result.code === 0 && !result.error) return { code: 0, stdout: result.stdout, stderr: result.stderr }
  return { code: result.code ?? -1, stdout: result.stdout, stderr: result.stderr || result.error?.message || `git was stopped by ${result.signal}` }
}

export async function commitExists(cwd: string, commit: string): Promise<boolean> {
  return (await git(cwd, ['cat-file', '-e', `${commit}^{commit}`])).code === 0
}

/** The repository's top folder and the project's place in it ('' or 'sub/dir/'); undefined outside git. */
export async function repositoryOf(cwd: string): Promise<{ top: string; prefix: string } | undefined> {
  const result = await git(cwd, ['rev-parse', '--show-toplevel', '--show-prefix'])
  if (result.code !== 0) return undefined
  const [top = '', prefix = ''] = result.stdout.split('\n')
  return top ? { top, prefix } : undefined
}
