// Running a command and collecting what it says: the one way mlskel runs git, package managers, ESLint, a coverage
// command or `git merge-file`. It never throws: a command that cannot start (not installed) resolves with `error`,
// one that outlives `timeoutMs` is killed and says so. (A pipeline stage is started differently, in a process group
// of its own with its output streamed live: pipeline/execute.ts.)
import { spawn } from 'node:child_process'

export interface RunOptions {
  cwd: string
  /** Default: ours. */
  env?: NodeJS.ProcessEnv
  /** Written to the command's stdin, then closed; without it stdin is /dev/null. */
  input?: string | Buffer
  /** Killed (SIGTERM) after this long; default none. */
  timeoutMs?: number
  /** Bytes of each stream kept; past it the oldest are dropped (the end of the output is what explains a failure). Default 64 MiB. */
  maxBytes?: number
  /** Each chunk as it comes (all of it, whatever maxBytes keeps). */
  onStdout?: (chunk: Buffer) => void
  onStderr?: (chunk: Buffer) => void
}

export interface RunResult {
  /** Exit code; null when a signal ended it or it could not start. */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: Buffer
  /** Why it could not start (ENOENT: not installed), or that it timed out. */
  error?: Error
  /** Whether output was dropped to keep within maxBytes. */
  truncated: boolean
}

const DEFAULT_MAX_BYTES = 64 << 20

export function runProcess(command: string, args: readonly string[], o: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES
    let truncated = false
    let timedOut = false
    const collector = (onChunk?: (chunk: Buffer) => void) => {
      const chunks: Buffer[] = []
      let bytes = 0
      return {
        add(chunk: Buffer) {
          onChunk?.(chunk)
          chunks.push(chunk)
          bytes += chunk.length
          // whole chunks beyond the bound go as they come; the last one is cut when the result is made
          while (chunks.length > 1 && bytes - chunks[0]!.length >= maxBytes) {
            bytes -= chunks.shift()!.length
            truncated = true
          }
        },
        bytes(): Buffer {
          const all = Buffer.concat(chunks, bytes)
          if (all.length <= maxBytes) return all
          truncated = true
          return all.subarray(all.length - maxBytes)
        },
      }
    }
    const out = collector(o.onStdout)
    const err = collector(o.onStderr)
    let child
    try {
      child = spawn(command, [...args], { cwd: o.cwd, env: o.env ?? process.env, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], windowsHide: true })
    } catch (error) {
      return resolve({ code: null, signal: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), error: error as Error, truncated: false })
    }
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), child.kill('SIGTERM')), o.timeoutMs)
    child.stdout!.on('data', out.add)
    child.stderr!.on('data', err.add)
    let startError: Error | undefined
    child.on('error', (error) => (startError = error))
    if (o.input !== undefined) {
      // a command that exits without reading its input must not fail us with EPIPE
      child.stdin!.on('error', () => undefined)
      child.stdin!.end(o.input)
    }
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const error = startError ?? (timedOut ? new Error(`${command} did not finish within ${o.timeoutMs} ms and was stopped`) : undefined)
      resolve({ code: startError ? null : code, signal, stdout: out.bytes(), stderr: err.bytes(), truncated, ...(error ? { error } : {}) })
    })
  })
}

/** runProcess, with the output as text. */
export async function runText(command: string, args: readonly string[], o: RunOptions): Promise<Omit<RunResult, 'stdout' | 'stderr'> & { stdout: string; stderr: string }> {
  const result = await runProcess(command, args, o)
  return { ...result, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') }
}
