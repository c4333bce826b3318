// Test helper: run the mlskel CLI from its TypeScript sources (through tsx) as a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const cli = join(repo, 'src/cli/index.ts')
const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/esm/index.mjs')).href

export interface Exit {
  code: number | null
  stdout: string
  stderr: string
}

/** `mlskel <args>` in `cwd`; `onStart` gets the child (to signal it). Resolves when it exits. */
export function mlskel(cwd: string, args: string[], onStart?: (child: ChildProcess) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, cli, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    onStart?.(child)
  })
}
