// Vitest for mlskel's own suite: unit tests beside the code, end-to-end tests in tests/.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    // the CLI tests run dist/cli/index.js: built here when a source is newer
    globalSetup: ['tests/global-setup.ts'],
    // MLSKEL_TEST_CPU_LOG=<file>: each file's CPU seconds (its own, its child processes') and wall seconds, a line each
    setupFiles: process.env.MLSKEL_TEST_CPU_LOG ? ['tests/cpu-per-file.ts'] : [],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one file at a time on a 2-core machine, the second core idle
    // whenever a file waits on an install, a disk or a server it started. Two files side by side fill those waits.
    maxWorkers: 2,
  },
})
