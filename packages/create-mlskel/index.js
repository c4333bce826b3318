#!/usr/bin/env node
// create-mlskel: what `npm create mlskel@latest <dir>` runs (npm maps it to `npm exec create-mlskel`). It runs the
// `mlskel new` of the mlskel it depends on, with the same flags, so both make the same project. `-y`/`--yes` is
// accepted and dropped: npm create passes it on, and mlskel new asks no questions.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import process from 'node:process'

const USAGE = `Usage: npm create mlskel@latest <dir> [-- --pm npm|pnpm|yarn] [--no-git] [--no-install] [--force] [--json]

Creates a machine-learning project in <dir> from mlskel's template (as \`mlskel new <dir>\` does), installs it
and makes its first commit. Then: cd <dir> && npm run pipeline`

const args = process.argv.slice(2).filter((arg) => arg !== '-y' && arg !== '--yes')
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
if (!args.some((arg) => !arg.startsWith('-'))) {
  process.stderr.write(`create-mlskel: name the project's folder.\n\n${USAGE}\n`)
  process.exit(2)
}

// mlskel's CLI, from the package this one depends on (its package.json is exported for this)
const require = createRequire(import.meta.url)
const cli = join(dirname(require.resolve('mlskel/package.json')), 'dist', 'cli', 'index.js')
const result = spawnSync(process.execPath, [cli, 'new', ...args], { stdio: 'inherit' })
process.exit(result.status ?? 1)
