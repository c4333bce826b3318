// Vitest for the project's unit tests. `npm test` runs them with coverage, then `mlskel check`, which fails when
// line coverage of src/ is below checks.coverage.lines in mlskel.yaml (80%), reading the json-summary written here.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    // the stages' logs (pino on stderr) would bury the test report
    env: { LOG_LEVEL: 'silent' },
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'json-summary'],
    },
  },
})
