import { execFileSync } from 'node:child_process'
import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mlskel } from '../cli/test-cli.js'
import { errorCatalog } from '../errors/index.js'
import { createProject } from '../scaffold/index.js'
import { checkReportSchema, formatCheckReport, runCheck, runRule, RULES, type CheckReport } from './index.js'
import { makeContext } from './test-context.js'

// every rule but the two that run the project's own tools (their tests are in rules/)
const FAST_RULES = RULES.map((r) => r.id).filter((id) => id !== 'coverage' && id !== 'lint')
let root: string

/** A committed project, as `mlskel new --no-install` leaves it. */
async function project(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'mlskel-check-')), 'project')
  await createProject({ dir, mlskelSpec: 'file:/nowhere/mlskel' })
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' })
  git('init', '-q')
  git('add', '-A')
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init')
  return dir
}

/**
 * The report's shape: keys, rule ids, statuses, levels and codes as they are; every other string and number
 * replaced by its type (messages and counts are the rules' own tests' business, and change with the template).
 */
function shape(report: CheckReport): unknown {
  const KEEP = new Set(['id', 'status', 'level', 'code', 'schema_version', 'ok', 'strict'])
  const walk = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, key))
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]))
    return KEEP.has(key) ? value : `<${typeof value}>`
  }
  return walk(report, '')
}

beforeAll(async () => {
  root = await project()
})
afterAll(async () => {
  await rm(dirname(root), { recursive: true, force: true })
})

describe('runCheck', () => {
  it('passes a fresh project, with warnings for its missing reports and README placeholders; the JSON shape is pinned', async () => {
    const report = await runCheck({ root, only: FAST_RULES })
    expect(checkReportSchema.parse(report)).toEqual(report)
    expect(report.ok).toBe(true)
    expect(report.rules.map((r) => r.id)).toEqual(FAST_RULES)
    expect(shape(report)).toMatchSnapshot()
  })

  it('--strict: warnings are errors, and the check fails', async () => {
    const report = await runCheck({ root, only: ['reports', 'structure'], strict: true })
    expect(report.ok).toBe(false)
    expect(report.strict).toBe(true)
    expect(report.rules.map((r) => [r.id, r.status])).toEqual([['structure', 'pass'], ['reports', 'fail']])
    expect(report.rules[1]!.findings.map((f) => f.level)).toEqual(['error', 'error'])
    expect(report.summary).toMatchObject({ rules: 2, passed: 1, errors: 2, warnings: 0 })
  })

  it('refuses an unknown rule, naming the known ones', async () => {
    await expect(runCheck({ root, only: ['tests', 'lnit'] })).rejects.toMatchObject({ code: 'MLSKEL_CHECK_UNKNOWN_RULE', message: expect.stringContaining('"lnit"'), exitCode: 2 })
  })

  it('skips the rules mlskel.yaml skips, unless --only names them; a bad checks: section fails with its line', async () => {
    const dir = await project()
    try {
      await appendFile(join(dir, 'mlskel.yaml'), '  skip: [readme, reports]\n')
      expect((await runCheck({ root: dir, only: [] })).rules.map((r) => r.id)).not.toContain('readme')
      expect((await runCheck({ root: dir, only: ['readme'] })).rules.map((r) => r.id)).toEqual(['readme'])
      await appendFile(join(dir, 'mlskel.yaml'), '  model_size: 5\n')
      await expect(runCheck({ root: dir, only: ['tests'] })).rejects.toMatchObject({ code: 'MLSKEL_CHECK_CONFIG_INVALID', where: { file: 'mlskel.yaml', line: expect.any(Number) } })
    } finally {
      await rm(dirname(dir), { recursive: true, force: true })
    }
  })

  it('reports a rule that throws as one failed rule, with the registry\'s fix', async () => {
    const rule = { id: 'tests' as const, title: 'boom', run: async () => Promise.reject(new Error('EACCES: permission denied, open tests/')) }
    const report = await runRule(rule, makeContext(root), false)
    expect(report.status).toBe('fail')
    expect(report.findings).toEqual([{ level: 'error', code: 'MLSKEL_CHECK_RULE_FAILED', message: 'the rule failed: EACCES: permission denied, open tests/', fix: errorCatalog.MLSKEL_CHECK_RULE_FAILED }])
  })
})

describe('formatCheckReport', () => {
  it('prints one line per rule, its findings with place, code and fix, and a summary', async () => {
    const text = formatCheckReport(await runCheck({ root, only: ['structure', 'reports', 'tests'] }))
    const lines = text.split('\n')
    expect(lines[0]).toBe('✓ structure  project layout: 12 folders, 2 required files')
    expect(lines[1]).toBe('⚠ reports    explorative and delivery reports: 0 report files')
    expect(lines[2]).toMatch(/^ {4}⚠ reports\/: no explorative report in reports\/ .* MLSKEL_CHECK_REPORT_MISSING$/)
    expect(lines[3]).toMatch(/^ {4}⚠ reports\/: no delivery report/)
    // the two findings share their fix: it is printed once, after them
    expect(lines[4]).toBe(`      fix: ${errorCatalog.MLSKEL_CHECK_REPORT_MISSING}`)
    expect(lines[5]).toBe('✓ tests      test files: 4 test files')
    expect(lines.at(-1)).toMatch(/^✓ passed: 2 of 3 rules passed; 0 errors, 2 warnings, 0 notes · \d+\.\d s$/)
    expect(text).not.toContain('\u001b[')
  })

  it('colours only when asked', async () => {
    const report = await runCheck({ root, only: ['tests'] })
    expect(formatCheckReport(report, { color: true })).toContain('\u001b[32m✓\u001b[39m')
  })
})

describe('mlskel check (the command)', () => {
  it('prints the readable report and exits 0 when nothing fails', async () => {
    const result = await mlskel(root, ['check', '--only', 'tests'])
    expect(result.stdout).toContain('✓ tests  test files: 4 test files')
    expect(result.code).toBe(0)
  })

  it('exits 1 on an error, and --json gives the report alone on stdout', async () => {
    const dir = await project()
    try {
      await rm(join(dir, 'tests'), { recursive: true })
      const result = await mlskel(dir, ['check', '--only', 'tests,structure', '--json'])
      expect(result.code).toBe(1)
      const report = checkReportSchema.parse(JSON.parse(result.stdout))
      expect(report.ok).toBe(false)
      expect(report.rules.flatMap((r) => r.findings.map((f) => f.code))).toEqual(['MLSKEL_CHECK_STRUCTURE_MISSING', 'MLSKEL_CHECK_NO_TESTS'])
    } finally {
      await rm(dirname(dir), { recursive: true, force: true })
    }
  })

  it('exits 2 on an unknown rule, with the error and its fix', async () => {
    const result = await mlskel(root, ['check', '--only', 'everything'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('MLSKEL_CHECK_UNKNOWN_RULE')
    expect(result.stderr).toContain('fix:')
  })

  it('has --help naming the rules and exit codes', async () => {
    const result = await mlskel(root, ['check', '--help'])
    expect(result.stdout).toContain('--accept-raw')
    expect(result.stdout).toContain('Rules: structure, reports, tests, coverage, lint, raw-data, models, model-size, secrets, pipeline, readme.')
    expect(result.stdout).toContain('Exit codes:')
  })
})

