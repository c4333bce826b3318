// The lint rule on a copy of the template, linted with the ESLint and configuration it would install.
import { existsSync, readdirSync, utimesSync } from 'node:fs'
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTemplateProject } from '../../scaffold/test-project.js'
import { makeContext } from '../test-context.js'
import { lintRule, MAX_LINT_FINDINGS, UNCHANGED_MARK } from './lint.js'

const repo = fileURLToPath(new URL('../../../', import.meta.url))

let work: string
let project: string

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'mlskel-lint-test-'))
  project = join(work, 'project')
  createTemplateProject(project)
})

afterEach(async () => {
  await rm(work, { recursive: true, force: true })
})

/**
 * The template with src/settings.ts as its only TypeScript (its other modules, its tests and scripts gone): the tests
 * whose findings are in files they write lint two files rather than a dozen (~0.3 s of CPU a lint). The first test
 * lints the template as it is.
 */
async function slim(dir: string): Promise<void> {
  for (const folder of ['src/etl', 'src/helpers', 'src/model', 'tests', 'scripts']) await rm(join(dir, folder), { recursive: true, force: true })
  await mkdir(join(dir, 'tests'))
}

/** Date the project's own files 10 s back, past the racy window, so that the lint cache may vouch for them. */
function age(dir: string): void {
  const past = new Date(Date.now() - 10_000)
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) age(path)
    else utimesSync(path, past, past)
  }
}

/**
 * Make the project's ESLint fail to load while its package.json keeps its stat: the link to mlskel's eslint becomes a
 * folder holding only a link to that package.json. Only the fixture's links change, never mlskel's node_modules.
 */
async function breakESLint(dir: string): Promise<void> {
  const link = join(dir, 'node_modules', 'eslint')
  await unlink(link)
  await mkdir(link)
  await symlink(join(repo, 'node_modules', 'eslint', 'package.json'), join(link, 'package.json'))
}

const cacheFile = () => join(project, '.mlskel', 'cache', 'lint.json')

// ESLint's first load of typescript-eslint takes about a second; later ones in the same worker are quicker
describe('lint rule', { timeout: 30_000 }, () => {
  it('passes on the template, counting the files it linted, and keeps its cache in .mlskel/cache', async () => {
    const outcome = await lintRule.run(makeContext(project))
    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toMatch(/^0 errors, 0 warnings in \d+ files$/)
    expect(existsSync(join(project, '.mlskel', 'cache', 'eslintcache'))).toBe(true)
  })

  describe('on the slimmed template', () => {
    beforeEach(() => slim(project))

    it('reports each lint error with its rule, file and line', async () => {
      await writeFile(join(project, 'src', 'unused.ts'), 'export const used = 1\n\nconst unused = 2\n')
      const outcome = await lintRule.run(makeContext(project))
      expect(outcome.findings).toEqual([
        {
          level: 'error',
          code: 'MLSKEL_CHECK_LINT_ERRORS',
          file: 'src/unused.ts',
          line: 3,
          message: "@typescript-eslint/no-unused-vars: 'unused' is assigned a value but never used. Allowed unused vars must match /^_/u.",
        },
      ])
      expect(outcome.summary).toMatch(/^1 error, 0 warnings in \d+ files$/)
    })

    it('reports a file that does not parse', async () => {
      await writeFile(join(project, 'tests', 'broken.test.ts'), 'export const = 1\n')
      const outcome = await lintRule.run(makeContext(project))
      expect(outcome.findings).toMatchObject([{ code: 'MLSKEL_CHECK_LINT_ERRORS', file: 'tests/broken.test.ts', line: 1, message: expect.stringContaining('Parsing error') }])
    })

    it('counts warnings without failing', async () => {
      // the template's configuration, with unused variables made a warning
      await rename(join(project, 'eslint.config.js'), join(project, 'eslint.base.js'))
      await writeFile(join(project, 'eslint.config.js'), "import base from './eslint.base.js'\nexport default [...base, { rules: { '@typescript-eslint/no-unused-vars': 'warn' } }]\n")
      await writeFile(join(project, 'src', 'unused.ts'), 'export const used = 1\nconst unused = 2\n')
      const outcome = await lintRule.run(makeContext(project))
      expect(outcome.findings).toEqual([])
      expect(outcome.summary).toMatch(/^0 errors, 1 warning in \d+ files$/)
    })

    it(`reports at most ${MAX_LINT_FINDINGS} errors, and how many more there are`, async () => {
      const lines = Array.from({ length: MAX_LINT_FINDINGS + 7 }, (_, i) => `const unused${i} = ${i}`)
      await writeFile(join(project, 'src', 'many.ts'), `${lines.join('\n')}\nexport {}\n`)
      const outcome = await lintRule.run(makeContext(project))
      expect(outcome.findings).toHaveLength(MAX_LINT_FINDINGS + 1)
      expect(outcome.findings[0]).toMatchObject({ file: 'src/many.ts', line: 1 })
      expect(outcome.findings.at(-1)).toEqual({ level: 'error', code: 'MLSKEL_CHECK_LINT_ERRORS', message: '7 more lint errors not shown; run `npx eslint src tests` to see them all.' })
    })

    it('lints only the configured paths that exist', async () => {
      await writeFile(join(project, 'tests', 'unused.test.ts'), 'const unused = 2\n')
      await mkdir(join(project, 'tools'))
      await writeFile(join(project, 'tools', 'ok.ts'), 'export const ok = 1\n')
      const outcome = await lintRule.run(makeContext(project, { config: { lint: { paths: ['tools', 'missing'] } } }))
      expect(outcome.findings).toEqual([])
      expect(outcome.summary).toBe('0 errors, 0 warnings in 1 file')
    })

    it('fails with LINT_FAILED when the project has no ESLint', async () => {
      await rm(join(project, 'node_modules'), { recursive: true })
      const outcome = await lintRule.run(makeContext(project))
      expect(outcome.findings).toEqual([
        { level: 'error', code: 'MLSKEL_CHECK_LINT_FAILED', message: 'ESLint is not installed in the project (no eslint package in its node_modules).' },
      ])
    })

    it('fails with LINT_FAILED and the reason when the configuration does not load', async () => {
      await writeFile(join(project, 'eslint.config.js'), "import missing from 'no-such-eslint-plugin'\nexport default [missing]\n")
      const outcome = await lintRule.run(makeContext(project))
      expect(outcome.findings).toMatchObject([{ level: 'error', code: 'MLSKEL_CHECK_LINT_FAILED', message: expect.stringContaining('no-such-eslint-plugin') }])
    })

    describe('cache', () => {
      it('serves an unchanged project from the last lint, without loading ESLint', async () => {
        await writeFile(join(project, 'src', 'unused.ts'), 'export const used = 1\n\nconst unused = 2\n')
        age(project)
        const first = await lintRule.run(makeContext(project))
        expect(first.findings).toHaveLength(1)
        expect(existsSync(cacheFile())).toBe(true)
        await breakESLint(project)
        const second = await lintRule.run(makeContext(project))
        expect(second).toEqual({ findings: first.findings, summary: `${first.summary!}${UNCHANGED_MARK}` })
        expect(second.summary).toMatch(/^1 error, 0 warnings in \d+ files \(unchanged since the last lint\)$/)
      })

      it('lints again when a linted file changes', async () => {
        age(project)
        expect((await lintRule.run(makeContext(project))).findings).toEqual([])
        await appendFile(join(project, 'src', 'settings.ts'), '\nconst unused = 2\n')
        const outcome = await lintRule.run(makeContext(project))
        expect(outcome.findings).toMatchObject([{ code: 'MLSKEL_CHECK_LINT_ERRORS', file: 'src/settings.ts', message: expect.stringContaining("'unused'") }])
        expect(outcome.summary).not.toContain(UNCHANGED_MARK)
      })

      it('lints again when the ESLint configuration changes', async () => {
        // first with unused variables made a warning, then with the template's configuration again
        await rename(join(project, 'eslint.config.js'), join(project, 'eslint.base.js'))
        await writeFile(join(project, 'eslint.config.js'), "import base from './eslint.base.js'\nexport default [...base, { rules: { '@typescript-eslint/no-unused-vars': 'warn' } }]\n")
        await writeFile(join(project, 'src', 'unused.ts'), 'export const used = 1\nconst unused = 2\n')
        age(project)
        expect((await lintRule.run(makeContext(project))).summary).toMatch(/^0 errors, 1 warning in \d+ files$/)
        await writeFile(join(project, 'eslint.config.js'), "export { default } from './eslint.base.js'\n")
        const outcome = await lintRule.run(makeContext(project))
        expect(outcome.findings).toMatchObject([{ file: 'src/unused.ts', line: 2 }])
        expect(outcome.summary).toMatch(/^1 error, 0 warnings in \d+ files$/)
      })

      it('never keeps a failed lint', async () => {
        await writeFile(join(project, 'eslint.config.js'), "import missing from 'no-such-eslint-plugin'\nexport default [missing]\n")
        age(project)
        expect((await lintRule.run(makeContext(project))).findings).toMatchObject([{ code: 'MLSKEL_CHECK_LINT_FAILED' }])
        expect(existsSync(cacheFile())).toBe(false)
      })

      it('keeps no lint of files changed within the racy window, as a change in the same clock tick would not show', async () => {
        await lintRule.run(makeContext(project))
        expect(existsSync(cacheFile())).toBe(false)
      })

      it('takes a damaged cache file for a miss', async () => {
        age(project)
        await mkdir(join(project, '.mlskel', 'cache'), { recursive: true })
        await writeFile(cacheFile(), '{"format":"mlskel-lint-cache","version":1,"key":')
        const outcome = await lintRule.run(makeContext(project))
        expect(outcome).toMatchObject({ findings: [], summary: expect.not.stringContaining(UNCHANGED_MARK) })
        expect(JSON.parse(await readFile(cacheFile(), 'utf8'))).toMatchObject({ format: 'mlskel-lint-cache', version: 1 })
      })
    })
  })
})
