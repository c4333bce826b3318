// Test helper: a generated project without an install, for tests that run the template's own tools. Not shipped
// (the build leaves out src/**/test-*.ts).
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
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

/** The template's stages: each module's file under src/ and the function that runs it on a project's root. */
const STAGES = {
  'generate-dataset': ['etl/generate-dataset.ts', 'generateDataset'],
  train: ['model/train.ts', 'train'],
  predict: ['model/predict.ts', 'predict'],
} as const

/**
 * The stages of a project made by createTemplateProject, run in this process, in order, as the project's own tests
 * run them (each takes the root; its modules are the project's, importing mlskel as the project has it). For tests
 * that need a data set or a trained model: `mlskel run` starting each stage as a process is tested on the installed
 * project (tests/e2e), and cost ~1.5 s of CPU per stage, more than the work. The stages' logs are quiet: LOG_LEVEL in
 * the project's .env, when it has none.
 */
export async function runTemplateStages(dir: string, stages: readonly (keyof typeof STAGES)[]): Promise<void> {
  if (!existsSync(join(dir, '.env'))) writeFileSync(join(dir, '.env'), 'LOG_LEVEL=silent\n')
  for (const stage of stages) {
    const [file, name] = STAGES[stage]
    const module = (await import(pathToFileURL(join(dir, 'src', file)).href)) as Record<string, (options: { root: string }) => Promise<unknown>>
    await module[name]!({ root: dir })
  }
}
