// The coverage rule on temp projects: summaries written by the tests (fast), fake coverage commands, and once the
// template's real coverage command on one of its test files.
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTemplateProject } from '../../scaffold/test-project.js'
import { makeContext } from '../test-context.js'
import type { CheckContext } from '../types.js'
import { coverageRule } from './coverage.js'

const SUMMARY = 'coverage/coverage-summary.json'
/** A moment well before "now", for sources that must look older than a summary. */
const LONG_AGO = new Date('2020-01-01T00:00:00Z')

let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-coverage-test-'))
  await writeSource('src/model/train.ts', 'export const trees = 10\n')
  await writeSource('tests/train.test.ts', "import { it } from 'vitest'\nit('runs', () => {})\n")
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

async function writeSource(path: string, text: string, time = LONG_AGO): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true })
  await writeFile(join(root, path), text)
  await utimes(join(root, path), time, time)
}

type Counts = [covered: number, total: number]

/** An Istanbul json-summary: per-file entries keyed by absolute path, as vitest writes them. */
function summaryJson(dir: string, total: Counts, files: Record<string, Counts> = {}): string {
  const lines = ([covered, total]: Counts) => ({ total, covered, skipped: 0, pct: total === 0 ? 100 : Math.floor((covered / total) * 10_000) / 100 })
  const entries = Object.entries(files).map(([file, counts]) => [join(dir, file), { lines: lines(counts) }])
  return JSON.stringify({ total: { lines: lines(total) }, ...Object.fromEntries(entries) })
}

async function writeSummary(total: Counts, files: Record<string, Counts> = {}, time = new Date()): Promise<void> {
  await writeSource(SUMMARY, summaryJson(root, total, files), time)
}

/** A script the fake coverage commands run: writes a summary with the given counts, prints, exits as told. */
async function writeFakeCoverage(): Promise<void> {
  const script = `
    import { mkdirSync, writeFileSync } from 'node:fs'
    const [covered, total, exitCode, text] = process.argv.slice(2)
    console.log('fake tests ran'); console.error('on stderr')
    mkdirSync('coverage', { recursive: true })
    writeFileSync(${JSON.stringify(SUMMARY)}, text ?? JSON.stringify({ total: { lines: { total: +total, covered: +covered, skipped: 0, pct: Math.floor((covered / total) * 10000) / 100 } } }))
    process.exit(+exitCode)
  `
  await writeFile(join(root, 'fake-coverage.mjs'), script)
}

function context(command = 'echo "the coverage command should not run"; exit 99', lines?: number): CheckContext {
  return makeContext(root, { config: { coverage: { command, ...(lines === undefined ? {} : { lines }) } } })
}

describe('coverage rule, with a fresh summary', () => {
  it('passes when line coverage is above the threshold, reusing the summary', async () => {
    await writeSummary([969, 1000])
    const outcome = await coverageRule.run(context())
    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe(`96.9% of lines (threshold 80%), reused ${SUMMARY}`)
  })

  it('fails below the threshold and names the three files with the lowest coverage', async () => {
    await writeSummary([50, 100], { 'src/a.ts': [10, 40], 'src/b.ts': [5, 20], 'src/model/c.ts': [30, 30], 'src/d.ts': [5, 10], 'src/empty.ts': [0, 0] })
    const outcome = await coverageRule.run(context())
    expect(outcome.findings).toHaveLength(1)
    const [finding] = outcome.findings
    expect(finding).toMatchObject({ level: 'error', code: 'MLSKEL_CHECK_COVERAGE_LOW' })
    expect(finding!.message).toBe('Line coverage is 50% (50 of 100 lines), below the threshold of 80%; lowest: src/a.ts (25%), src/b.ts (25%), src/d.ts (50%).')
    expect(outcome.summary).toBe(`50% of lines (threshold 80%), reused ${SUMMARY}`)
  })

  it('uses the threshold from the config', async () => {
    await writeSummary([50, 100])
    expect((await coverageRule.run(context(undefined, 50))).findings).toEqual([])
    expect((await coverageRule.run(context(undefined, 51))).findings).toHaveLength(1)
  })

  it('says that nothing was measured when the summary counts no lines', async () => {
    await writeSummary([0, 0])
    const outcome = await coverageRule.run(context())
    expect(outcome.findings).toHaveLength(1)
    expect(outcome.findings[0]).toMatchObject({ code: 'MLSKEL_CHECK_COVERAGE_LOW', message: expect.stringContaining('No lines were measured') })
    expect(outcome.findings[0]!.fix).toContain('coverage.include')
  })
})

describe('coverage rule, running the coverage command', () => {
  beforeEach(writeFakeCoverage)

  it('runs the command when a source is newer than the summary, and says so', async () => {
    await writeSummary([1, 100], {}, LONG_AGO)
    await writeSource('src/model/train.ts', 'export const trees = 20\n', new Date())
    const progress: string[] = []
    const command = 'node fake-coverage.mjs 90 100 0'
    const outcome = await coverageRule.run({ ...context(command), progress: (message) => progress.push(message) })
    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe('90% of lines (threshold 80%), after running the tests')
    expect(progress).toEqual([`running the tests with coverage: ${command}`])
  })

  it('runs the command when there is no summary, with node_modules/.bin on PATH and CI set', async () => {
    await mkdir(join(root, 'node_modules', '.bin'), { recursive: true })
    await writeFile(join(root, 'node_modules', '.bin', 'fake-vitest'), '#!/bin/sh\n[ "$CI" = 1 ] && [ "$NO_COLOR" = 1 ] && exec node fake-coverage.mjs 85 100 0\n', { mode: 0o755 })
    const outcome = await coverageRule.run(context('fake-vitest --coverage'))
    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe('85% of lines (threshold 80%), after running the tests')
  })

  it('runs the command when the test configuration is newer than the summary', async () => {
    await writeSummary([1, 100], {}, new Date(Date.now() - 60_000))
    await writeSource('vitest.config.ts', 'export default {}\n', new Date())
    const outcome = await coverageRule.run(context('node fake-coverage.mjs 90 100 0'))
    expect(outcome.summary).toContain('after running the tests')
  })

  it('fails with the command, its exit code and its output when the command fails without a summary', async () => {
    const command = 'echo "FAIL tests/train.test.ts > trains"; echo "1 failed" >&2; exit 3'
    const outcome = await coverageRule.run(context(command))
    expect(outcome.findings).toHaveLength(1)
    const [finding] = outcome.findings
    expect(finding).toMatchObject({ level: 'error', code: 'MLSKEL_CHECK_COVERAGE_FAILED' })
    expect(finding!.message).toContain(`\`${command}\` exited with code 3`)
    expect(finding!.message).toContain('FAIL tests/train.test.ts > trains\n1 failed')
  })

  it('quotes only the last 20 lines of a long output', async () => {
    const outcome = await coverageRule.run(context('for i in $(seq 1 100); do echo "line $i"; done; exit 1'))
    const message = outcome.findings[0]!.message
    expect(message).toContain('line 81\n')
    expect(message).toContain('line 100')
    expect(message).not.toContain('line 80\n')
  })

  it('fails when the command succeeds but leaves an old summary in place', async () => {
    await writeSummary([99, 100], {}, LONG_AGO)
    await writeSource('src/model/train.ts', 'export const trees = 20\n', new Date())
    const outcome = await coverageRule.run(context('echo ok'))
    expect(outcome.findings).toMatchObject([{ code: 'MLSKEL_CHECK_COVERAGE_FAILED', message: expect.stringContaining(`exited with code 0; it wrote no new ${SUMMARY}`) }])
  })

  it('fails when the summary the command wrote is not JSON', async () => {
    const outcome = await coverageRule.run(context('node fake-coverage.mjs 0 0 0 "not json"'))
    expect(outcome.findings).toMatchObject([{ code: 'MLSKEL_CHECK_COVERAGE_FAILED', message: expect.stringContaining(`${SUMMARY} is unreadable`) }])
  })

  it('judges by a summary written before a non-zero exit (vitest\'s own thresholds failing)', async () => {
    const outcome = await coverageRule.run(context('node fake-coverage.mjs 70 100 1'))
    expect(outcome.findings).toMatchObject([{ level: 'error', code: 'MLSKEL_CHECK_COVERAGE_LOW', message: expect.stringContaining('70%') }])
  })

  it('warns about a non-zero exit when the summary it wrote passes', async () => {
    const outcome = await coverageRule.run(context('node fake-coverage.mjs 70 100 1', 60))
    expect(outcome.findings).toMatchObject([{ level: 'warning', code: 'MLSKEL_CHECK_COVERAGE_FAILED', message: expect.stringContaining('exited with code 1') }])
    expect(outcome.summary).toBe('70% of lines (threshold 60%), after running the tests')
  })

  it('runs the command when the fresh summary is damaged', async () => {
    await writeSource(SUMMARY, '{"total": ', new Date())
    const outcome = await coverageRule.run(context('node fake-coverage.mjs 90 100 0'))
    expect(outcome.summary).toBe('90% of lines (threshold 80%), after running the tests')
  })
})

describe('coverage rule on the template', () => {
  // The template's coverage command and its vitest config against the rule's reading of the summary they write. One
  // of its test files is enough for that contract (the whole suite, and the 80% it reaches, run in the end-to-end
  // tests, through the project's own npm test): the rule runs the command, reads what it wrote, then reuses it.
  it('runs the template\'s tests with coverage, then reuses the summary they wrote', { timeout: 120_000 }, async () => {
    const project = join(root, 'project')
    createTemplateProject(project)
    for (const file of await readdir(join(project, 'tests'))) if (file.endsWith('.test.ts') && file !== 'helpers.test.ts') await rm(join(project, 'tests', file))
    const config = { config: { coverage: { lines: 10 } } }
    const first = await coverageRule.run(makeContext(project, config))
    expect(first.findings).toEqual([])
    expect(first.summary).toMatch(/^\d+(\.\d+)?% of lines \(threshold 10%\), after running the tests$/)
    const second = await coverageRule.run(makeContext(project, config))
    expect(second.summary).toMatch(/reused coverage\/coverage-summary\.json$/)
  })
})
