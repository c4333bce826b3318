// The lint rule: ESLint errors in the project's sources, with the project's own ESLint and configuration.
//
// ESLint is loaded from the project, never from mlskel's dependencies: the project pins its version and plugins,
// and its eslint.config.js imports them from its own node_modules. Loading it costs about half a second, so the
// outcome of a successful lint is cached (lint-cache.ts) and reused while no file it depends on has changed.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CheckContext, Finding, Rule, RuleOutcome } from '../types.js'
import { openLintCache } from './lint-cache.js'

/** Lint errors reported one by one; the rest are counted in one more finding. */
export const MAX_LINT_FINDINGS = 50

// The little of ESLint's API this rule uses, written out so that mlskel's types do not depend on one ESLint version.
interface LintMessage {
  ruleId: string | null
  /** 2: error, 1: warning. */
  severity: number
  message: string
  line?: number
}
interface LintResult {
  filePath: string
  messages: LintMessage[]
  errorCount: number
  warningCount: number
}
interface ESLintInstance {
  lintFiles(patterns: string[]): Promise<LintResult[]>
}
type ESLintClass = new (options: Record<string, unknown>) => ESLintInstance
interface ESLintModule {
  ESLint?: ESLintClass
  /** ESLint ≥ 8.57: the class that fits the project (flat config or eslintrc). */
  loadESLint?: (options: { cwd: string }) => Promise<ESLintClass>
}

/** Appended to the summary when the outcome comes from the lint cache, without running ESLint. */
export const UNCHANGED_MARK = ' (unchanged since the last lint)'

export const lintRule: Rule = {
  id: 'lint',
  title: 'ESLint',
  async run(context) {
    const paths = context.config.lint.paths.filter((path) => existsSync(join(context.root, path)))
    if (paths.length === 0) return { findings: [], summary: `nothing to lint (${context.config.lint.paths.join(', ')} not found)` }
    const cache = await openLintCache({ root: context.root, state: context.paths.state, paths: context.config.lint.paths })
    const cached = await cache?.read()
    if (cached) return { findings: cached.findings, summary: `${cached.summary ?? ''}${UNCHANGED_MARK}` }
    let results: LintResult[]
    try {
      results = await lintFiles(context, paths)
    } catch (error) {
      // never cached: the cause (a missing plugin, a broken config) may be fixed outside the files the key covers
      return { findings: [lintFailed(error)], summary: 'ESLint could not run' }
    }
    const outcome = outcomeOf(context, results)
    await cache?.write(outcome)
    return outcome
  },
}

async function lintFiles(context: CheckContext, paths: string[]): Promise<LintResult[]> {
  const ESLint = await loadProjectESLint(context.root)
  const eslint = new ESLint({ cwd: context.root, cache: true, cacheLocation: join(context.paths.state, 'cache', 'eslintcache'), errorOnUnmatchedPattern: false })
  return eslint.lintFiles(paths)
}

/** The project's ESLint class; throws a LintSetupError when the project has none. */
async function loadProjectESLint(root: string): Promise<ESLintClass> {
  let entry: string
  try {
    entry = createRequire(join(root, 'package.json')).resolve('eslint')
  } catch {
    throw new LintSetupError('ESLint is not installed in the project (no eslint package in its node_modules)')
  }
  const module = (await import(pathToFileURL(entry).href)) as ESLintModule
  if (module.loadESLint) return module.loadESLint({ cwd: root })
  if (module.ESLint) return module.ESLint
  throw new LintSetupError(`the project's eslint (${entry}) has no ESLint API: it is older than ESLint 7`)
}

class LintSetupError extends Error {}

function lintFailed(error: unknown): Finding {
  const reason = error instanceof LintSetupError ? error.message : `ESLint failed: ${firstLines(error instanceof Error ? error.message : String(error), 5)}`
  return { level: 'error', code: 'MLSKEL_CHECK_LINT_FAILED', message: `${reason.replace(/\.$/, '')}.` }
}

function outcomeOf(context: CheckContext, results: LintResult[]): RuleOutcome {
  const errors = results.flatMap((result) => result.messages.filter((message) => message.severity === 2).map((message) => toFinding(context.root, result, message)))
  errors.sort((a, b) => a.file!.localeCompare(b.file!) || (a.line ?? 0) - (b.line ?? 0))
  const findings = errors.slice(0, MAX_LINT_FINDINGS)
  const more = errors.length - findings.length
  if (more > 0) {
    findings.push({ level: 'error', code: 'MLSKEL_CHECK_LINT_ERRORS', message: `${more} more lint ${plural(more, 'error')} not shown; run \`npx eslint ${context.config.lint.paths.join(' ')}\` to see them all.` })
  }
  const warnings = results.reduce((sum, result) => sum + result.warningCount, 0)
  return { findings, summary: `${count(errors.length, 'error')}, ${count(warnings, 'warning')} in ${count(results.length, 'file')}` }
}

function toFinding(root: string, result: LintResult, message: LintMessage): Finding {
  const finding: Finding = {
    level: 'error',
    code: 'MLSKEL_CHECK_LINT_ERRORS',
    // parse errors have no rule; their message already says "Parsing error: ..."
    message: message.ruleId ? `${message.ruleId}: ${message.message}` : message.message,
    file: relative(root, result.filePath).split(sep).join('/'),
  }
  if (message.line !== undefined) finding.line = message.line
  return finding
}

function firstLines(text: string, count: number): string {
  return text.trim().split(/\r?\n/).slice(0, count).join('\n')
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`
}

function count(n: number, word: string): string {
  return `${n} ${plural(n, word)}`
}
