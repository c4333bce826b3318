import { describe, expect, it } from 'vitest'
import { runProcess, runText } from './index.js'

describe('runProcess', () => {
  it('gives the exit code and both streams, and feeds stdin', async () => {
    expect(await runText('sh', ['-c', 'echo out; echo err >&2; exit 3'], { cwd: '/' })).toMatchObject({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', truncated: false })
    expect((await runText('cat', [], { cwd: '/', input: 'fed' })).stdout).toBe('fed')
  })

  it('never throws: a command that cannot start resolves with the reason', async () => {
    const result = await runText('no-such-command-mlskel', [], { cwd: '/' })
    expect(result).toMatchObject({ code: null, stdout: '' })
    expect((result.error as NodeJS.ErrnoException).code).toBe('ENOENT')
  })

  it('keeps the end of a long output within maxBytes, and hands every chunk to its callback', async () => {
    let seen = 0
    const result = await runProcess('sh', ['-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done'], { cwd: '/', maxBytes: 100, onStdout: (chunk) => (seen += chunk.length) })
    expect(result.truncated).toBe(true)
    expect(result.stdout.length).toBe(100)
    expect(result.stdout.toString()).toMatch(/line 1999\n$/)
    expect(seen).toBeGreaterThan(10_000)
  })

  it('stops a command that outlives its timeout, and says so', async () => {
    const result = await runText('sleep', ['10'], { cwd: '/', timeoutMs: 100 })
    expect(result).toMatchObject({ code: null, signal: 'SIGTERM' })
    expect(result.error?.message).toMatch(/did not finish within 100 ms/)
  })
})
