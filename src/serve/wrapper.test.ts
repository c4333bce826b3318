import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { commandLine, isCommandShell, watchWrapper } from './wrapper.js'

describe('isCommandShell', () => {
  it('is true of a shell running a command string, as npm, npx and make start a script', () => {
    for (const argv of [['/bin/sh', '-c', 'mlskel serve'], ['sh', '-c', 'x'], ['/usr/bin/bash', '-ec', 'x'], ['dash', '-c', 'x'], ['-sh', '-c', 'x']]) expect(isCommandShell(argv), argv.join(' ')).toBe(true)
  })

  it('is false of an interactive shell, a supervisor, node itself, or an unknown parent', () => {
    for (const argv of [['bash'], ['-bash'], ['/bin/sh', 'script.sh'], ['node', '-c', 'x'], ['npm', 'run', 'serve'], ['make', 'deploy-endpoint'], ['/sbin/init']]) expect(isCommandShell(argv), argv.join(' ')).toBe(false)
    expect(isCommandShell(undefined)).toBe(false)
  })
})

describe('watchWrapper', () => {
  it('reads a process\'s command line', () => {
    expect(commandLine(process.pid)?.[0]).toContain('node')
  })

  it('calls back once the sh -c it watches is gone, and watches nothing else', async () => {
    const shell = spawn('/bin/sh', ['-c', 'sleep 30; true'], { stdio: 'ignore' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    // the watch asks whether process.ppid is still the shell: here the shell stands for our parent
    let gone: number | undefined
    const stop = watchWrapper((pid) => (gone = pid), { parent: shell.pid!, intervalMs: 20 })
    expect(gone).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 100))
    // our own parent is not the shell: the watch sees "gone" at once, as a reparented server would
    expect(gone).toBe(shell.pid)
    stop()
    shell.kill('SIGKILL')
    // not a command shell: not watched
    let called = false
    watchWrapper(() => (called = true), { parent: process.pid, intervalMs: 10 })()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(called).toBe(false)
  })
})
