// Liveness of processes and process groups, zombies counted as gone.
import { spawn, spawnSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { isProcessAlive, isProcessGroupAlive } from './index.js'

const started: number[] = []
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
})

/** A process in a group of its own; resolves once it runs. */
async function groupLeader(): Promise<number> {
  const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' })
  child.unref()
  await new Promise((resolve) => child.once('spawn', resolve))
  started.push(child.pid!)
  return child.pid!
}

describe('isProcessAlive and isProcessGroupAlive', () => {
  it('see a running process and its group, and not once it is killed', async () => {
    const pid = await groupLeader()
    expect(isProcessAlive(pid)).toBe(true)
    expect(isProcessGroupAlive(pid)).toBe(true)
    process.kill(-pid, 'SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(isProcessAlive(pid)).toBe(false)
    expect(isProcessGroupAlive(pid)).toBe(false)
  })

  it('count a process that exited but was never reaped (a zombie) as gone, as its group', async () => {
    // `true` runs in a session and group of its own (setsid) under a parent that execs into sleep, which never
    // reaps it: a zombie, which signal 0 still reaches, as it would under an init that does not reap orphans
    const parent = spawn('/bin/sh', ['-c', 'setsid true & echo $!; exec sleep 30'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
    started.push(parent.pid!)
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const state = spawnSync('ps', ['-o', 'stat=', '-p', String(zombie)], { encoding: 'utf8' }).stdout.trim()
    expect(state).toMatch(/^Z/)
    expect(() => process.kill(-zombie, 0)).not.toThrow()
    expect(isProcessAlive(zombie)).toBe(false)
    expect(isProcessGroupAlive(zombie)).toBe(false)
    parent.stdout!.destroy()
  })

  it('say no for pids that cannot be a process or a group of one', () => {
    expect(isProcessAlive(0)).toBe(false)
    expect(isProcessAlive(-5)).toBe(false)
    expect(isProcessGroupAlive(1)).toBe(false)
    expect(isProcessGroupAlive(Number.NaN)).toBe(false)
  })
})
