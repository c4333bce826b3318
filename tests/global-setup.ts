// Before the tests: the built CLI in dist/, which the CLI tests run as users run it (node dist/cli/index.js, no
// TypeScript loader), rebuilt when a source is newer than it. `npm test` builds first, so this finds it fresh; a
// `npx vitest run <file>` after an edit gets the edit.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDist } from '../scripts/build.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const built = join(repo, 'dist', 'cli', 'index.js')

/** The newest modification time of what the build reads: src/, the build's script and tsconfig, package.json. */
function newestSource(): number {
  let newest = Math.max(...['tsconfig.json', 'package.json', 'scripts/build.ts'].map((file) => statSync(join(repo, file)).mtimeMs))
  for (const entry of readdirSync(join(repo, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

export default async function setup(): Promise<void> {
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) return
  process.stderr.write('building dist/ (a source is newer than the built CLI the tests run)…\n')
  await buildDist()
}
