// Before the tests: the built CLI in dist/, which the CLI tests run as users run it (node dist/cli/index.js, no
// TypeScript loader), rebuilt when a source is newer than it. `npm test` builds first, so this finds it fresh; a
// `npx vitest run <file>` after an edit gets the edit.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const built = join(repo, 'dist', 'cli', 'index.js')

/** The newest modification time of what the build reads: src/, the build's tsconfig, package.json. */
function newestSource(): number {
  let newest = Math.max(statSync(join(repo, 'tsconfig.build.json')).mtimeMs, statSync(join(repo, 'package.json')).mtimeMs)
  for (const entry of readdirSync(join(repo, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

export default function setup(): void {
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) return
  process.stderr.write('building dist/ (a source is newer than the built CLI the tests run)…\n')
  execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'inherit' })
  chmodSync(built, 0o755)
}
