// The shape of `mlskel check --json`: stable and documented (docs/check.md), published as schema/check.schema.json.
// Fields are only ever added; schema_version changes if one is removed or changes meaning.
import { z } from 'zod'
import { RULE_IDS } from './schema.js'

export const CHECK_REPORT_VERSION = 1

export const findingSchema = z.strictObject({
  level: z.enum(['error', 'warning', 'info']).describe('error fails the check; warning fails it with --strict (and is then reported as error); info never does'),
  code: z.string().regex(/^MLSKEL_CHECK_[A-Z_]+$/).describe('stable code, documented in docs/errors.md'),
  message: z.string().describe('what is wrong, in words; never contains a secret'),
  file: z.string().optional().describe('the file or folder concerned, relative to the project root, / separators'),
  line: z.int().min(1).optional().describe('1-based line in file'),
  fix: z.string().describe('how to fix it'),
})

export const ruleReportSchema = z.strictObject({
  id: z.enum(RULE_IDS).describe('the rule, as --only names it'),
  title: z.string(),
  status: z.enum(['pass', 'warn', 'fail']).describe('fail: an error; warn: a warning; pass: neither (notes allowed)'),
  summary: z.string().optional().describe('one line on what the rule saw, e.g. "7 test files"'),
  duration_ms: z.number().min(0),
  findings: z.array(findingSchema),
})

export const checkReportSchema = z
  .strictObject({
    schema_version: z.literal(CHECK_REPORT_VERSION),
    ok: z.boolean().describe('false when any finding is an error (with --strict, any warning too); the exit code is 1 then'),
    strict: z.boolean(),
    root: z.string().describe('the project root, absolute'),
    summary: z.strictObject({
      rules: z.int().min(0),
      passed: z.int().min(0),
      errors: z.int().min(0),
      warnings: z.int().min(0),
      infos: z.int().min(0),
    }),
    duration_ms: z.number().min(0),
    rules: z.array(ruleReportSchema).describe('in the order of the rule list, whatever order they finished in'),
  })
  .describe('the result of `mlskel check --json`')

export type FindingReport = z.output<typeof findingSchema>
export type RuleReport = z.output<typeof ruleReportSchema>
export type CheckReport = z.output<typeof checkReportSchema>
