// Rule 3, tests: the project has tests. The ancestor's `make count-test-files` printed how many; this rule says
// the same number in its summary, and fails when it is zero.
import { readdir } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { Rule } from '../types.js'

/** Test files as Vitest and Jest name them: *.test.ts, *.spec.mjs, ... */
export const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?$/
/** Where tests live: tests/ (the template's), and beside the code in src/. */
export const TEST_ROOTS = ['tests', 'src']

export const testsRule: Rule = {
  id: 'tests',
  title: 'test files',
  async run(ctx) {
    const files = (await Promise.all(TEST_ROOTS.map((dir) => testFiles(ctx.root, dir)))).flat()
    if (files.length === 0) {
      return { findings: [{ level: 'error', code: 'MLSKEL_CHECK_NO_TESTS', file: 'tests/', message: `no test files in ${TEST_ROOTS.map((d) => `${d}/`).join(' or ')} (named *.test.ts or *.spec.ts)` }], summary: '0 test files' }
    }
    return { findings: [], summary: `${files.length} test file${files.length === 1 ? '' : 's'}` }
  },
}

async function testFiles(root: string, dir: string): Promise<string[]> {
  const base = join(root, dir)
  let entries
  try {
    entries = await readdir(base, { recursive: true, withFileTypes: true })
  } catch {
    return []
  }
  return entries
    .filter((e) => e.isFile() && TEST_FILE.test(e.name) && !relative(base, e.parentPath).split(sep).includes('node_modules'))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
}
