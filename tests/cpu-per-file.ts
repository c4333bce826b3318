// With MLSKEL_TEST_CPU_LOG=<file> (vitest.config.ts), each test file appends a line to <file>: its path, the CPU
// seconds of its own process, those of the processes it started and waited for (stages, CLIs, installs, Python), and
// its wall seconds, tab-separated; and a line for each of its tests, the same figures after the file's path and the
// test's name. What the suite spends where, for whoever makes it faster: a file's wall time says little on two cores
// where another file runs beside it; CPU adds up.
import { appendFileSync, readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeEach } from 'vitest'

/** This process's CPU seconds, and its waited-for children's (/proc/self/stat: utime, stime, cutime, cstime). */
function cpu(): { self: number; children: number; at: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')
  const ticks = (i: number) => Number(fields[i])
  // fields from the state (index 0); clock ticks of 1/100 s on Linux
  return { self: (ticks(11) + ticks(12)) / 100, children: (ticks(13) + ticks(14)) / 100, at: Date.now() }
}

const file = () => (globalThis as { __vitest_worker__?: { filepath?: string } }).__vitest_worker__?.filepath ?? '?'
function log(fields: string[], from: ReturnType<typeof cpu>): void {
  const now = cpu()
  const figures = [(now.self - from.self).toFixed(1), (now.children - from.children).toFixed(1), ((now.at - from.at) / 1000).toFixed(1)]
  appendFileSync(process.env.MLSKEL_TEST_CPU_LOG!, `${[...fields, ...figures].join('\t')}\n`)
}

// from before the test file is imported (setup files come first), its imports counted
const started = cpu()
afterAll(() => log([file()], started))
let test = started
beforeEach(() => {
  test = cpu()
})
afterEach((context) => log([file(), context.task.name], test))
