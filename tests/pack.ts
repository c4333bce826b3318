// Test helper: mlskel as published, `npm pack`ed into a folder, or its built CLI. Two test files pack at once when
// the suite runs in parallel, so neither lets npm rebuild dist/ on the way (prepack): two builds writing dist/
// together could pack a half-written file. dist/ is built once instead: `npm test` builds before Vitest starts, and a stale or missing
// build (a test file run alone after an edit) is rebuilt here first.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const repo = resolve(import.meta.dirname, '..')

/** Pack mlskel into `destination`; returns the tarball's file name. */
export function packMlskel(destination: string, env: NodeJS.ProcessEnv = process.env): string {
  if (buildIsStale()) run('npm', ['run', 'build'], env)
  const packed = run('npm', ['pack', '--ignore-scripts', '--pack-destination', destination, '--silent'], env)
  return packed.trim().split('\n').pop()!
}

/** The built CLI, dist/cli/index.js (built first when stale), for tests that need mlskel as a process of its own. */
export function builtCli(env: NodeJS.ProcessEnv = process.env): string {
  if (buildIsStale()) run('npm', ['run', 'build'], env)
  return join(repo, 'dist', 'cli', 'index.js')
}

/** Whether some source or template file is newer than the built CLI. */
function buildIsStale(): boolean {
  const built = join(repo, 'dist', 'cli', 'index.js')
  if (!existsSync(built)) return true
  const since = statSync(built).mtimeMs
  return readdirSync(join(repo, 'src'), { recursive: true, withFileTypes: true }).some((e) => e.isFile() && e.name.endsWith('.ts') && statSync(join(e.parentPath, e.name)).mtimeMs > since)
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { cwd: repo, encoding: 'utf8', env })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}
