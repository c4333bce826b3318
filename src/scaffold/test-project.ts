// Test helper: a generated project without an install, for tests that run the template's own tools. Not shipped
// (the build leaves out src/**/test-*.ts).
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RENAMES } from './index.js'

const repo = fileURLToPath(new URL('../../', import.meta.url))

/**
 * The template as `mlskel new --no-install` makes it, in `dir`, without installing: node_modules holds links to
 * mlskel's own dependencies, and `mlskel` links to this repo (the template's tools, ESLint and Vitest, then run).
 */
export function createTemplateProject(dir: string): void {
  cpSync(join(repo, 'template'), dir, { recursive: true })
  for (const [from, to] of Object.entries(RENAMES)) if (existsSync(join(dir, from))) renameSync(join(dir, from), join(dir, to))
  mkdirSync(join(dir, 'node_modules'))
  for (const entry of readdirSync(join(repo, 'node_modules'))) if (entry !== 'mlskel') symlinkSync(join(repo, 'node_modules', entry), join(dir, 'node_modules', entry))
  symlinkSync(repo, join(dir, 'node_modules', 'mlskel'))
}
