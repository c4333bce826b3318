import { cp, mkdtemp, rm, unlink, writeFile, mkdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeContext } from '../test-context.js'
import { readmeRule } from './readme.js'
import { reportsRule } from './reports.js'
import { structureRule } from './structure.js'
import { testsRule } from './tests.js'

const template = new URL('../../../template/', import.meta.url).pathname
let root: string

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-check-files-'))
  await cp(template, root, { recursive: true })
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('structure', () => {
  it('passes on the template: every layout folder and both model scripts', async () => {
    const outcome = await structureRule.run(makeContext(root))
    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe('12 folders, 2 required files')
  })

  it('names each missing folder and file', async () => {
    await rm(join(root, 'notebooks'), { recursive: true })
    await rm(join(root, 'models'), { recursive: true })
    await unlink(join(root, 'src/model/predict.ts'))
    const { findings } = await structureRule.run(makeContext(root))
    expect(findings.map((f) => [f.level, f.code, f.file])).toEqual([
      ['error', 'MLSKEL_CHECK_STRUCTURE_MISSING', 'models'],
      ['error', 'MLSKEL_CHECK_STRUCTURE_MISSING', 'models/metadata'],
      ['error', 'MLSKEL_CHECK_STRUCTURE_MISSING', 'notebooks'],
      ['error', 'MLSKEL_CHECK_STRUCTURE_MISSING', 'src/model/predict.ts'],
    ])
    expect(findings[2]!.message).toBe('folder notebooks/ is missing')
    expect(findings[3]!.message).toBe('src/model/predict.ts is missing: every project trains and predicts through it')
  })

  it('looks for the data folders where the settings put them', async () => {
    const context = makeContext(root, { settings: { DATA_RAW: 'inputs/raw' } })
    const { findings } = await structureRule.run(context)
    expect(findings.map((f) => f.file)).toEqual(['inputs/raw'])
  })

  it('says so when a folder of the layout is a file', async () => {
    await rm(join(root, 'reports'), { recursive: true })
    await writeFile(join(root, 'reports'), '')
    const { findings } = await structureRule.run(makeContext(root))
    expect(findings.map((f) => f.message)).toEqual(['reports should be a folder, but is a file'])
  })
})

describe('reports', () => {
  it('warns about each missing report (the ancestor\'s rule: a warning, not an error)', async () => {
    const { findings, summary } = await reportsRule.run(makeContext(root))
    expect(findings.map((f) => [f.level, f.code, f.file])).toEqual([
      ['warning', 'MLSKEL_CHECK_REPORT_MISSING', 'reports/'],
      ['warning', 'MLSKEL_CHECK_REPORT_MISSING', 'reports/'],
    ])
    expect(findings[0]!.message).toContain('no explorative report in reports/')
    expect(findings[1]!.message).toContain('no delivery report in reports/')
    expect(summary).toBe('0 report files')
  })

  it('passes with an explorative and a delivery report, by name, in any report format', async () => {
    await writeFile(join(root, 'reports/explore.html'), '<html></html>')
    await mkdir(join(root, 'reports/2026'), { recursive: true })
    await writeFile(join(root, 'reports/2026/modelling-report.pdf'), '')
    await writeFile(join(root, 'reports/notes.txt'), 'explore later')
    const { findings, summary } = await reportsRule.run(makeContext(root))
    expect(findings).toEqual([])
    expect(summary).toBe('2 report files; explorative: reports/explore.html; delivery: reports/2026/modelling-report.pdf')
  })

  it('does not count a file of another format as a report', async () => {
    await writeFile(join(root, 'reports/explore.txt'), '')
    await writeFile(join(root, 'reports/delivery.html'), '')
    const { findings } = await reportsRule.run(makeContext(root))
    expect(findings.map((f) => f.message)).toEqual([expect.stringContaining('no explorative report')])
  })
})

describe('tests', () => {
  it('counts the test files, as `make count-test-files` did', async () => {
    const { findings, summary } = await testsRule.run(makeContext(root))
    expect(findings).toEqual([])
    expect(summary).toBe('4 test files')
  })

  it('counts tests beside the code too, and not those of installed packages', async () => {
    await writeFile(join(root, 'src/helpers/format.spec.ts'), '')
    await mkdir(join(root, 'tests/node_modules/x'), { recursive: true })
    await writeFile(join(root, 'tests/node_modules/x/a.test.js'), '')
    expect((await testsRule.run(makeContext(root))).summary).toBe('5 test files')
  })

  it('fails when there is none', async () => {
    await rm(join(root, 'tests'), { recursive: true })
    const { findings, summary } = await testsRule.run(makeContext(root))
    expect(findings.map((f) => [f.level, f.code])).toEqual([['error', 'MLSKEL_CHECK_NO_TESTS']])
    expect(findings[0]!.message).toBe('no test files in tests/ or src/ (named *.test.ts or *.spec.ts)')
    expect(summary).toBe('0 test files')
  })
})

describe('readme', () => {
  it('warns about each section still holding the template\'s placeholder, with its line', async () => {
    const { findings } = await readmeRule.run(makeContext(root))
    const lines = (await readFile(join(root, 'README.md'), 'utf8')).split('\n')
    expect(findings.map((f) => [f.level, f.code, f.message])).toEqual([
      ['warning', 'MLSKEL_CHECK_README_PLACEHOLDER', 'section "Objective" still holds the template\'s placeholder'],
      ['warning', 'MLSKEL_CHECK_README_PLACEHOLDER', 'section "Explorative results" still holds the template\'s placeholder'],
      ['warning', 'MLSKEL_CHECK_README_PLACEHOLDER', 'section "Modelling results" still holds the template\'s placeholder'],
      ['warning', 'MLSKEL_CHECK_README_PLACEHOLDER', 'section "Deploy" still holds the template\'s placeholder'],
    ])
    for (const f of findings) expect(lines[f.line! - 1]).toContain('<!-- TODO:')
  })

  it('passes once the sections are written, and ignores headings inside code blocks', async () => {
    await writeFile(join(root, 'README.md'), '# Churn\n\n## Objective\n\nPredict churn.\n\n```sh\n# not a heading\n```\n')
    expect(await readmeRule.run(makeContext(root))).toEqual({ findings: [], summary: 'no placeholders left' })
  })

  it('warns when there is no README', async () => {
    await unlink(join(root, 'README.md'))
    const { findings } = await readmeRule.run(makeContext(root))
    expect(findings.map((f) => [f.level, f.file, f.message])).toEqual([['warning', 'README.md', 'README.md is missing: it says what the project is for and how to use it']])
  })
})
