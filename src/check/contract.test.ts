// The contract every rule of `mlskel check` keeps, proven for each rule alike (issue 15, item 7): its findings have
// the report's shape (a documented level, a code of the error registry that docs/check.md lists for that rule, a
// message, a project-relative file, a line, a fix), its status follows from its findings, it is timed, and
// `--only` runs it alone, even when mlskel.yaml skips it. What each rule finds is its own tests' business (rules/).
// Each rule runs on two projects: one as `mlskel new --no-install` leaves it, and one broken so that every rule has
// something to say, so that no rule passes this suite by finding nothing.
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorCatalog } from '../errors/index.js'
import { createProject } from '../scaffold/index.js'
import { checkReportSchema, runCheck, RULES, type CheckReport, type RuleId } from './index.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))
const checkDoc = readFileSync(join(repo, 'docs/check.md'), 'utf8')
const errorsDoc = readFileSync(join(repo, 'docs/errors.md'), 'utf8')

/** The codes docs/check.md's table lists for each rule: `| \`id\` | what it checks | its codes |`. */
const documented = new Map<string, Set<string>>()
for (const line of checkDoc.split('\n')) {
  const row = /^\| `([a-z-]+)` \|.*\|([^|]*)\|\s*$/.exec(line)
  if (row) documented.set(row[1]!, new Set(row[2]!.match(/MLSKEL_CHECK_[A-Z_]+/g) ?? []))
}

// the coverage rule runs a command of the project's: here one that cannot pass, and costs nothing
const COVERAGE_COMMAND = '    command: node -e "process.exit(3)"\n'

let work: string
const reports = new Map<'pristine' | 'broken', CheckReport>()

function git(root: string, ...args: string[]): void {
  execFileSync('git', args, { cwd: root, stdio: 'ignore' })
}

async function project(name: string): Promise<string> {
  const root = join(work, name)
  await createProject({ dir: root, mlskelSpec: 'file:/nowhere/mlskel' })
  const yaml = readFileSync(join(root, 'mlskel.yaml'), 'utf8')
  if (!/^ {2}coverage:\n/m.test(yaml)) throw new Error('the template\'s mlskel.yaml has no checks.coverage section any more')
  writeFileSync(join(root, 'mlskel.yaml'), yaml.replace(/^ {2}coverage:\n/m, `  coverage:\n${COVERAGE_COMMAND}`))
  git(root, 'init', '-q')
  git(root, 'add', '-A')
  git(root, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'init')
  return root
}

/** Something for every rule to find: a missing folder, no tests, changed raw data, a link out, a stray model, a key. */
function breakProject(root: string): void {
  rmSync(join(root, 'src/etl'), { recursive: true })
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (/\.(test|spec)\.ts$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name))
  }
  const raw = join(root, 'data/raw', readdirSync(join(root, 'data/raw')).find((name) => name.endsWith('.csv'))!)
  appendFileSync(raw, '9.9,9.9,9.9,9.9,setosa\n')
  symlinkSync('/etc/hostname', join(root, 'data/raw/outside.txt'))
  mkdirSync(join(root, 'models/0123456789abcdef'), { recursive: true })
  writeFileSync(join(root, 'models/0123456789abcdef/model.json'), '{}')
  writeFileSync(join(root, 'models/0123456789abcdef/train.csv'), 'a,b\n1,2\n')
  // an AWS access key id, written in two parts so that this file holds none
  writeFileSync(join(root, 'src/helpers/keys.ts'), `export const key = '${'AKIA'}${'Z7QXR2LJ4HN6WDFK'}'\n`)
  git(root, 'add', '-A')
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlskel-check-contract-'))
  const pristine = await project('pristine')
  const broken = await project('broken')
  breakProject(broken)
  reports.set('pristine', await runCheck({ root: pristine }))
  reports.set('broken', await runCheck({ root: broken }))
}, 120_000)
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

it('docs/check.md lists every rule, with codes of the error registry that docs/errors.md documents', () => {
  expect([...documented.keys()].sort()).toEqual(RULES.map((rule) => rule.id).sort())
  for (const [id, codes] of documented) {
    expect(codes.size, `the codes of ${id}`).toBeGreaterThan(0)
    for (const code of codes) {
      expect(errorCatalog, `${code} (rule ${id})`).toHaveProperty(code)
      expect(errorsDoc, `${code} in docs/errors.md`).toContain(code)
    }
  }
})

it('the reports of both projects have the published shape', () => {
  for (const report of reports.values()) expect(() => checkReportSchema.parse(report)).not.toThrow()
})

describe.each(RULES.map((rule) => rule.id))('the %s rule', (id: RuleId) => {
  const ruleReports = () => [...reports].map(([name, report]) => ({ name, rule: report.rules.find((r) => r.id === id)! }))

  it('runs in both projects, timed, its status following from its findings', () => {
    for (const { name, rule } of ruleReports()) {
      expect(rule, `${id} in the ${name} project`).toBeDefined()
      expect(Number.isInteger(rule.duration_ms) && rule.duration_ms >= 0, `${id}'s duration_ms`).toBe(true)
      const levels = new Set(rule.findings.map((f) => f.level))
      expect(rule.status).toBe(levels.has('error') ? 'fail' : levels.has('warning') ? 'warn' : 'pass')
    }
  })

  it('has something to say about the broken project', () => {
    expect(ruleReports().find((r) => r.name === 'broken')!.rule.findings.length).toBeGreaterThan(0)
  })

  it('gives findings in the report\'s shape, with a code docs/check.md lists for it', () => {
    const codes = documented.get(id)!
    for (const { name, rule } of ruleReports()) {
      for (const finding of rule.findings) {
        const where = `${id} in the ${name} project: ${JSON.stringify(finding)}`
        expect(['error', 'warning', 'info'], where).toContain(finding.level)
        // a rule that could not finish says so with the one shared code; every other code is the rule's own
        if (finding.code !== 'MLSKEL_CHECK_RULE_FAILED') expect([...codes], where).toContain(finding.code)
        expect(finding.message.trim(), where).not.toBe('')
        expect(finding.message, `${where}: no absolute path of the project`).not.toContain(work)
        expect(typeof finding.fix === 'string' && finding.fix.trim() !== '', `${where}: a fix`).toBe(true)
        if (finding.file !== undefined) {
          expect(isAbsolute(finding.file) || finding.file.split('/').includes('..') || finding.file.includes('\\'), `${where}: a project-relative file`).toBe(false)
        }
        if (finding.line !== undefined) expect(Number.isInteger(finding.line) && finding.line >= 1, where).toBe(true)
      }
    }
  })

  it('runs alone with --only, even when mlskel.yaml skips it', async () => {
    const root = join(work, 'pristine')
    const yaml = readFileSync(join(root, 'mlskel.yaml'), 'utf8')
    writeFileSync(join(root, 'mlskel.yaml'), yaml.replace(/^checks:\n/m, `checks:\n  skip: [${id}]\n`))
    try {
      const skipped = await runCheck({ root })
      expect(skipped.rules.map((r) => r.id)).not.toContain(id)
      const alone = await runCheck({ root, only: [id] })
      expect(alone.rules.map((r) => r.id)).toEqual([id])
      expect(alone.summary.rules).toBe(1)
    } finally {
      writeFileSync(join(root, 'mlskel.yaml'), yaml)
    }
  }, 60_000)
})
