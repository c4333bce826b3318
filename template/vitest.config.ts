// Vitest for the project's unit tests. `npm test` runs them with coverage, then `mlskel check`, which fails when
// line coverage of src/ is below checks.coverage.lines in mlskel.yaml (80%), reading the json-summary written here.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    // the stages' logs (pino on stderr) would bury the test report
    env: { LOG_LEVEL: 'silent' },
    // The files share a worker process, which imports mlskel and DuckDB once rather than once per file: a fifth less
    // CPU for the suite. Safe because every test works in its own temporary copy of the project and restores what it
    // changes (spies, the working folder). The worker count stays Vitest's default (one less than the cores): on two
    // cores, a second worker cuts the wall time by a fifth but costs a quarter more CPU.
    isolate: false,
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'json-summary'],
    },
  },
})
