// Test helper: run the built mlskel CLI (dist/cli/index.js, which tests/global-setup.ts keeps up to date with the
// sources) as a child process, as a user runs it.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../', import.meta.url))
/** The built CLI. */
export const CLI = join(repo, 'dist', 'cli', 'index.js')

export interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

/** `mlskel <args>` in `cwd`; `onStart` gets the child (to signal it). Resolves when it exits. */
export function mlskel(cwd: string, args: string[], onStart?: (child: ChildProcess) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    onStart?.(child)
  })
}
