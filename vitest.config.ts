// Vitest for mlskel's own suite: unit tests beside the code, end-to-end tests in tests/.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'
import { apartFromSharedMaker } from './tests/sequence.js'

/**
 * Test files that replace a module (vi.mock) run in a process of their own: in a shared one, the module may have been
 * loaded already by a file before them, unmocked. Found by reading the files, so a new one needs no list kept.
 */
function filesThatMock(): string[] {
  return ['src', 'tests']
    .flatMap((folder) => readdirSync(join(import.meta.dirname, folder), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => relative(import.meta.dirname, join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith(join('tests', 'e2e')) && /\bvi\.(mock|doMock)\(/.test(readFileSync(join(import.meta.dirname, file), 'utf8')))
}

const mocking = filesThatMock()

const e2e = (spec: TestSpecification) => spec.moduleId.startsWith(join(import.meta.dirname, 'tests', 'e2e'))
const usesShared = (spec: TestSpecification) => e2e(spec) && /\bshared\(\)/.test(readFileSync(spec.moduleId, 'utf8'))

/**
 * Vitest's order (the longest files first, by the last run's durations; the listing's order in a clean clone, which
 * has none), except that two end-to-end files waiting for the shared project do not start side by side
 * (tests/sequence.ts): in a clean CI run, one worker sat idle ~40 s while the other made it.
 */
class Sequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return apartFromSharedMaker(await super.sort(files), usesShared, (spec) => e2e(spec) && !usesShared(spec))
  }
}

export default defineConfig({
  test: {
    // the CLI tests run dist/cli/index.js: built here when a source is newer
    globalSetup: ['tests/global-setup.ts'],
    // MLSKEL_TEST_CPU_LOG=<file>: each file's and each test's CPU seconds (its own, its child processes') and wall seconds
    setupFiles: process.env.MLSKEL_TEST_CPU_LOG ? ['tests/cpu-per-file.ts'] : [],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one file at a time on a 2-core machine, the second core idle
    // whenever a file waits on an install, a disk or a server it started. Two files side by side fill those waits.
    maxWorkers: 2,
    sequence: { sequencer: Sequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['tests/e2e/**', ...mocking],
          // one process runs file after file: zod, DuckDB and mlskel's modules are loaded once, not once per file
          // (53 s of the unit files' 345 s of CPU). A file that changes process state (environment, working folder)
          // puts it back.
          isolate: false,
        },
      },
      {
        extends: true,
        // end-to-end files (a project each, long) and those that mock modules: a process each
        test: { name: 'isolated', include: ['tests/e2e/**/*.test.ts', ...mocking] },
      },
    ],
  },
})
