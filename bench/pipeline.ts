// The whole pipeline on 1,000,000 rows: a project made from the template (its packages are the iris fixture's),
// a 1,000,000-row × 20-column CSV from scripts/make-dataset.ts, and `mlskel run --force` (generate-dataset, train with
// 5-fold cross-validation and a final fit, predict). It must finish, and training must say how far it is as it goes.
// `npx tsx bench/pipeline.ts [--rows N]` alone; bench/index.ts runs it after the others.
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'

const repo = resolve(import.meta.dirname, '..')
const cli = join(repo, 'dist', 'cli', 'index.js')

/** The file in the iris fixture (bench/index.ts) that names the template it was made from, by its hash. */
export const TEMPLATE_STAMP = '.mlskel-template-hash'

/**
 * Whether a project the benchmark made from the template (with the fixture's node_modules linked in) was made from the
 * same template as the fixture: one made before a change to the template runs old code on a newer mlskel.
 */
export function sameTemplate(fixture: string, project: string): boolean {
  const stamp = (dir: string) => (existsSync(join(dir, TEMPLATE_STAMP)) ? readFileSync(join(dir, TEMPLATE_STAMP), 'utf8') : undefined)
  const made = stamp(project)
  return made !== undefined && made === stamp(fixture)
}

export interface PipelineRow {
  rows: number
  ok: boolean
  seconds: number
  /** Per stage: its status and seconds. */
  stages: { name: string; status: string; seconds: number }[]
  /** Progress lines training printed on stderr, and the first and last of them. */
  progressLines: number
  firstProgress: string | undefined
  lastProgress: string | undefined
  load: number
  error?: string
}

/** Run the pipeline of a `rows`-row project; `fixture` is an installed project whose node_modules it borrows. */
export async function pipelineBench(o: { fixture: string; work: string; rows?: number }): Promise<PipelineRow> {
  const rows = o.rows ?? 1_000_000
  const project = join(o.work, `pipeline-${rows}`)
  const load = loadavg()[0]!
  if (!existsSync(join(project, 'node_modules')) || !sameTemplate(o.fixture, project)) {
    rmSync(project, { recursive: true, force: true })
    mkdirSync(o.work, { recursive: true })
    const made = spawnSync(process.execPath, [cli, 'new', project, '--no-git', '--no-install'], { cwd: repo, encoding: 'utf8' })
    if (made.status !== 0) throw new Error(`mlskel new failed:\n${made.stderr}`)
    symlinkSync(join(o.fixture, 'node_modules'), join(project, 'node_modules'), 'dir')
    if (existsSync(join(o.fixture, TEMPLATE_STAMP))) copyFileSync(join(o.fixture, TEMPLATE_STAMP), join(project, TEMPLATE_STAMP))
  }
  const csv = join(project, 'data', 'raw', 'large.csv')
  if (!existsSync(csv)) {
    console.log(`writing a ${rows.toLocaleString('en-US')}-row CSV for the pipeline benchmark…`)
    const made = spawnSync(join(repo, 'node_modules', '.bin', 'tsx'), [join(repo, 'scripts', 'make-dataset.ts'), '--task', 'classification', '--rows', String(rows), '--cols', '20', '--seed', '3', '--out', csv], { cwd: project, encoding: 'utf8' })
    if (made.status !== 0) throw new Error(`make-dataset failed:\n${made.stderr}`)
  }
  const params = join(project, 'params.yaml')
  writeFileSync(params, readFileSync(params, 'utf8').replace(/^ {2}raw: \S+/m, '  raw: large.csv').replace(/^ {2}target: \S+/m, '  target: label'))
  const started = performance.now()
  const child = spawn(join(project, 'node_modules', '.bin', 'mlskel'), ['run', '--force', '--json'], { cwd: project, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const progress: string[] = []
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
    for (const line of chunk.toString().split('\n')) {
      if (/^train: (fold \d+\/\d+|final fit): \d+\/\d+ (iterations|trees)/.test(line)) {
        progress.push(line)
        console.log(`  ${line}`)
      }
    }
  })
  const code = await new Promise<number | null>((done) => child.on('exit', done))
  const seconds = (performance.now() - started) / 1000
  let summary: { ok: boolean; stages: { name: string; status: string; duration_ms: number }[] } | undefined
  try {
    summary = JSON.parse(stdout) as typeof summary
  } catch {
    summary = undefined
  }
  return {
    rows,
    ok: code === 0 && summary?.ok === true && progress.length > 0,
    seconds,
    stages: (summary?.stages ?? []).map((s) => ({ name: s.name, status: s.status, seconds: s.duration_ms / 1000 })),
    progressLines: progress.length,
    firstProgress: progress[0],
    lastProgress: progress.at(-1),
    load,
    ...(code === 0 ? {} : { error: stderr.slice(-2000) }),
  }
}

export function printPipelineRow(row: PipelineRow): void {
  console.log(`\nthe whole pipeline on ${row.rows.toLocaleString('en-US')} rows × 20 features (generate-dataset, train with 5-fold cross-validation, predict), load ${row.load.toFixed(2)}\n`)
  for (const stage of row.stages) console.log(`  ${stage.name.padEnd(18)}${stage.status.padEnd(10)}${`${stage.seconds.toFixed(1)} s`.padStart(10)}`)
  console.log(`  ${'total'.padEnd(28)}${`${row.seconds.toFixed(1)} s`.padStart(10)}`)
  console.log(`  progress lines during training: ${row.progressLines}${row.firstProgress ? ` (first "${row.firstProgress}", last "${row.lastProgress}")` : ''}`)
  console.log(`  verdict: ${row.ok ? 'ok: finished, with progress lines' : `FAILED${row.error ? `\n${row.error}` : ''}`}`)
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const at = process.argv.indexOf('--rows')
  const work = join(repo, 'bench', '.data')
  const row = await pipelineBench({ fixture: join(work, 'iris'), work, ...(at > 0 ? { rows: Number(process.argv[at + 1]) } : {}) })
  printPipelineRow(row)
  process.exitCode = row.ok ? 0 : 1
}
