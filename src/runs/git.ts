// git for `runs diff` and `runs verify`: a small runner that never throws, and the questions they ask.
import { execFile } from 'node:child_process'

export interface GitResult {
  /** Exit code; -1 when git could not be started (not installed). */
  code: number
  stdout: string
  stderr: string
}

export function git(cwd: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile('git', [...args], { cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr })
      const code = typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout: stdout ?? '', stderr: stderr || error.message })
    })
  })
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
