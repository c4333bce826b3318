// The `checks:` section of mlskel.yaml: what `mlskel check` compares against. Every key is optional; the defaults
// are the ones docs/check.md documents. Also the source of the section's published JSON Schema.
import { isAbsolute } from 'node:path'
import { z } from 'zod'

export const RULE_IDS = ['structure', 'reports', 'tests', 'coverage', 'lint', 'raw-data', 'links', 'models', 'model-size', 'secrets', 'pipeline', 'readme'] as const
export type RuleId = (typeof RULE_IDS)[number]

export const DEFAULT_COVERAGE_LINES = 80
export const DEFAULT_COVERAGE_COMMAND = 'vitest run --coverage --coverage.reporter=json-summary --coverage.reporter=text-summary'
export const DEFAULT_COVERAGE_SUMMARY = 'coverage/coverage-summary.json'
export const DEFAULT_LINT_PATHS = ['src', 'tests']
export const DEFAULT_MODEL_SIZE_MB = 100

export const checksSchema = z
  .strictObject({
    coverage: z
      .strictObject({
        lines: z.number().min(0).max(100).default(DEFAULT_COVERAGE_LINES).describe('least line coverage, in percent; below it the coverage rule fails'),
        command: z.string().regex(/\S/).default(DEFAULT_COVERAGE_COMMAND).describe("the command that runs the tests with coverage and writes `summary` (run from the project root, node_modules/.bin on PATH)"),
        summary: z
          .string()
          .min(1)
          .refine((path) => !isAbsolute(path) && !path.split(/[\\/]/).includes('..'), { message: 'must be a path inside the project, relative to its root' })
          .default(DEFAULT_COVERAGE_SUMMARY).describe('the Istanbul json-summary file the command writes; used as it is when it is newer than every source and test file'),
      })
      .prefault({})
      .describe('the coverage rule'),
    lint: z
      .strictObject({ paths: z.array(z.string().min(1)).min(1).default(DEFAULT_LINT_PATHS).describe('folders and files ESLint checks, with the project\'s own configuration') })
      .prefault({})
      .describe('the lint rule'),
    model_size_mb: z.number().positive().default(DEFAULT_MODEL_SIZE_MB).describe('a model folder larger than this many megabytes (10^6 bytes) gets a warning'),
    skip: z.array(z.enum(RULE_IDS)).default([]).describe('rules not to run (`mlskel check --only` still runs them)'),
  })
  .prefault({})
  .describe('the project checks of `mlskel check`')

export type ChecksConfig = z.output<typeof checksSchema>
