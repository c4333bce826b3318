// `mlskel check`, the project doctor: runs its rules side by side over one project and gathers their findings into
// one report (report.ts), which format.ts prints and `--json` gives as it is. Each rule is a small module under
// rules/; this file only selects them, gives them what they share (the config, the paths, git's file list, a
// hasher), times them and judges the whole.
import { join } from 'node:path'
import { errorCatalog, isMlskelError, MlskelError, type ErrorCode } from '../errors/index.js'
import { Hasher } from '../hashing/index.js'
import { loadSettings, projectPaths, settingsSchema } from '../settings/index.js'
import { HASH_CACHE_FILE, readChecksConfig } from '../project/index.js'
import { CHECK_REPORT_VERSION, type CheckReport, type FindingReport, type RuleReport } from './report.js'
import { coverageRule } from './rules/coverage.js'
import { linksRule } from './rules/links.js'
import { lintRule } from './rules/lint.js'
import { modelSizeRule, modelsRule } from './rules/models.js'
import { pipelineRule } from './rules/pipeline.js'
import { rawDataRule } from './rules/raw-data.js'
import { readmeRule } from './rules/readme.js'
import { reportsRule } from './rules/reports.js'
import { secretsRule } from './rules/secrets.js'
import { structureRule } from './rules/structure.js'
import { testsRule } from './rules/tests.js'
import { RULE_IDS, type ChecksConfig } from './schema.js'
import type { CheckContext, Finding, Rule } from './types.js'
import { runText } from '../process/index.js'

export { checksSchema, RULE_IDS, type ChecksConfig, type RuleId } from './schema.js'
export { checkReportSchema, CHECK_REPORT_VERSION, type CheckReport, type RuleReport, type FindingReport } from './report.js'
export type { CheckContext, Finding, Rule, RuleOutcome, Level } from './types.js'
export { formatCheckReport } from './format.js'
export { writeRawManifest, rawManifestPath } from './rules/raw-data.js'

/** Every rule, in the order the report lists them (the order of the issue that asked for them; links beside raw data). */
export const RULES: readonly Rule[] = [structureRule, reportsRule, testsRule, coverageRule, lintRule, rawDataRule, linksRule, modelsRule, modelSizeRule, secretsRule, pipelineRule, readmeRule]

export interface CheckOptions {
  /** The project root (holding mlskel.yaml). */
  root: string
  /** Run only these rules (also those the config skips). */
  only?: readonly string[]
  /** Warnings fail the check too, reported as errors. */
  strict?: boolean
  /** Write the raw data manifest from data/raw as it is now (new, changed and removed files accepted). */
  acceptRaw?: boolean
  /** Progress of long rules; default: none. */
  progress?: (message: string) => void
}

/** Run the rules over the project at `options.root`. Throws only on bad options or a bad `checks:` section. */
export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const started = performance.now()
  const root = options.root
  const config = await readChecksConfig(root)
  const rules = selectRules(options.only, config)
  const context = makeContext(root, config, options)
  const reports = await Promise.all(rules.map((rule) => runRule(rule, context, options.strict === true)))
  await context.saveHasher()
  const all = reports.flatMap((r) => r.findings)
  const count = (level: Finding['level']) => all.filter((f) => f.level === level).length
  const errors = count('error')
  return {
    schema_version: CHECK_REPORT_VERSION,
    ok: errors === 0,
    strict: options.strict === true,
    root,
    summary: { rules: reports.length, passed: reports.filter((r) => r.status === 'pass').length, errors, warnings: count('warning'), infos: count('info') },
    duration_ms: Math.round(performance.now() - started),
    rules: reports,
  }
}

function selectRules(only: readonly string[] | undefined, config: ChecksConfig): Rule[] {
  if (!only || only.length === 0) return RULES.filter((rule) => !config.skip.includes(rule.id))
  const unknown = only.filter((id) => !(RULE_IDS as readonly string[]).includes(id))
  if (unknown.length > 0) {
    throw new MlskelError('MLSKEL_CHECK_UNKNOWN_RULE', `no rule named ${unknown.map((id) => `"${id}"`).join(', ')}; the rules are ${RULE_IDS.join(', ')}`, { exitCode: 2 })
  }
  return RULES.filter((rule) => only.includes(rule.id))
}

function makeContext(root: string, config: ChecksConfig, options: CheckOptions): CheckContext & { saveHasher(): Promise<void> } {
  const paths = projectPaths(root, loadSettings(settingsSchema, { root }))
  let tracked: Promise<string[] | undefined> | undefined
  let hasher: Promise<Hasher> | undefined
  return {
    root,
    config,
    paths,
    acceptRaw: options.acceptRaw === true,
    trackedFiles: () => (tracked ??= gitTrackedFiles(root)),
    hasher: () => (hasher ??= Hasher.open(join(root, HASH_CACHE_FILE))),
    progress: (message) => options.progress?.(message),
    async saveHasher() {
      // the cache only speeds up the next check; failing to save it fails nothing
      if (hasher) await (await hasher).save().catch(() => undefined)
    },
  }
}

/** Files git tracks under `root`, relative to it; undefined outside a git work tree (or without git). */
export async function gitTrackedFiles(root: string): Promise<string[] | undefined> {
  const result = await runText('git', ['ls-files', '-z'], { cwd: root, maxBytes: 256 << 20 })
  return result.code === 0 && !result.truncated ? result.stdout.split('\0').filter(Boolean).sort() : undefined
}

/** One rule, timed and judged; a rule that throws becomes one error finding. Exported for tests. */
export async function runRule(rule: Rule, context: CheckContext, strict: boolean): Promise<RuleReport> {
  const started = performance.now()
  let findings: Finding[]
  let summary: string | undefined
  try {
    ;({ findings, summary } = await rule.run(context))
  } catch (error) {
    // a rule that cannot finish is one failed rule, not a failed check: the others still report
    findings = [failure(error)]
  }
  const judged = findings.map((f): FindingReport => ({
    level: strict && f.level === 'warning' ? 'error' : f.level,
    code: f.code,
    message: f.message,
    ...(f.file === undefined ? {} : { file: f.file }),
    ...(f.line === undefined ? {} : { line: f.line }),
    fix: f.fix ?? errorCatalog[f.code],
  }))
  const status = judged.some((f) => f.level === 'error') ? 'fail' : judged.some((f) => f.level === 'warning') ? 'warn' : 'pass'
  return { id: rule.id, title: rule.title, status, ...(summary === undefined ? {} : { summary }), duration_ms: Math.round(performance.now() - started), findings: judged }
}

function failure(error: unknown): Finding {
  if (isMlskelError(error)) {
    const code: ErrorCode = error.code.startsWith('MLSKEL_CHECK_') ? error.code : 'MLSKEL_CHECK_RULE_FAILED'
    return { level: 'error', code, message: `${error.code === code ? '' : `${error.code}: `}${error.message}`, fix: error.fix, ...(error.where?.file ? { file: error.where.file } : {}), ...(error.where?.line ? { line: error.where.line } : {}) }
  }
  return { level: 'error', code: 'MLSKEL_CHECK_RULE_FAILED', message: `the rule failed: ${error instanceof Error ? error.message : String(error)}` }
}
