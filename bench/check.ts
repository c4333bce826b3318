// The check benchmark (issue 5; the fourth part of `npm run bench`; alone: `npx tsx bench/check.ts` once the iris
// fixture bench/.data/iris exists): `mlskel check` with every rule but coverage (which runs the project's tests,
// and is as slow as they are), on the built package, as whole-command wall times:
//   1. on the iris project (installed, trained): target ≤ 500 ms;
//   2. on a project of 10,000 files: the iris project plus 8,000 raw data files (data/raw/shards, accepted into the
//      manifest), 1,000 source modules (src/features) and 1,000 test files (tests/features), all committed, so
//      every rule has its share (raw data hashing, the secrets scan of tracked files, lint, the test count): target
//      ≤ 2 s. Both are medians of warm runs (the stat cache and ESLint's cache filled by the first run, as in a
//      project checked before); the first, cold run is reported beside them.
//   3. the rules that scale with the project, each run alone (`--only <rule>`) on the 10,000 files, their own
//      `duration_ms` in the JSON report (medians of warm runs): secrets ≤ 1 s, raw-data ≤ 1 s (8,000 raw files, warm
//      stat cache), pipeline ≤ 100 ms (up to date). These were timed unit tests once; timings live here.
// Each target row also shows the ratio to `node -e 0` measured in the same run.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sameTemplate } from './pipeline.js'

const repo = resolve(import.meta.dirname, '..')
const cli = join(repo, 'dist', 'cli', 'index.js')
const RULES = 'structure,reports,tests,lint,raw-data,models,model-size,secrets,pipeline,readme'
const RAW_FILES = 8_000
const SOURCE_FILES = 1_000
const TEST_FILES = 1_000

export interface CheckRow {
  name: string
  ms: number
  coldMs: number
  targetMs: number
  files: number
  ok: boolean
}

interface CheckRun {
  ms: number
  ok: boolean
  output: string
  /** Each rule's own duration_ms, from the report. */
  rules: Map<string, number>
}

function check(cwd: string, rules = RULES): CheckRun {
  const start = performance.now()
  const result = spawnSync(process.execPath, [cli, 'check', '--only', rules, '--json'], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
  const ms = performance.now() - start
  if (result.status !== 0 && result.status !== 1) throw new Error(`mlskel check failed (${result.status}) in ${cwd}:\n${result.stderr}`)
  const report = JSON.parse(result.stdout) as { rules: { id: string; duration_ms: number }[] }
  return { ms, ok: result.status === 0, output: result.stdout, rules: new Map(report.rules.map((r) => [r.id, r.duration_ms])) }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** The whole command's row, then a row per rule of `ruleTargets` (rule id → target ms), each run alone. */
function measure(name: string, cwd: string, targetMs: number, runs: number, ruleTargets: Record<string, number> = {}): CheckRow[] {
  const cold = check(cwd)
  if (!cold.ok) throw new Error(`mlskel check finds errors in the ${name} fixture, so the benchmark would time a failing check:\n${cold.output}`)
  const files = countFiles(cwd)
  const ms = median(Array.from({ length: runs }, () => check(cwd).ms))
  const rows: CheckRow[] = [{ name, ms, coldMs: cold.ms, targetMs, files, ok: ms <= targetMs }]
  for (const [rule, target] of Object.entries(ruleTargets)) {
    const ruleMs = median(Array.from({ length: runs }, () => check(cwd, rule).rules.get(rule)!))
    rows.push({ name: `  its rule ${rule}, alone`, ms: ruleMs, coldMs: cold.rules.get(rule)!, targetMs: target, files, ok: ruleMs <= target })
  }
  return rows
}

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.includes('node_modules') && !e.parentPath.includes('.git')).length
}

function git(cwd: string, ...args: string[]): void {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`)
}

/** The iris project plus 10,000 files, committed; rebuilt when missing or made from an older template than iris. */
function bigProject(iris: string, dir: string): string {
  // the copy below brings the iris fixture's template stamp along
  if (existsSync(join(dir, '.git')) && sameTemplate(iris, dir)) return dir
  rmSync(dir, { recursive: true, force: true })
  cpSync(iris, dir, { recursive: true, filter: (src) => !src.startsWith(join(iris, 'node_modules')) && !src.startsWith(join(iris, '.mlskel')) })
  symlinkSync(join(iris, 'node_modules'), join(dir, 'node_modules'))
  mkdirSync(join(dir, 'data', 'raw', 'shards'), { recursive: true })
  for (let i = 0; i < RAW_FILES; i++) {
    const rows = Array.from({ length: 20 }, (_, r) => `${(i * 7 + r) % 97},${(r * 13) % 31},${(i + r) % 5}`).join('\n')
    writeFileSync(join(dir, 'data', 'raw', 'shards', `part-${String(i).padStart(5, '0')}.csv`), `a,b,c\n${rows}\n`)
  }
  mkdirSync(join(dir, 'src', 'features'), { recursive: true })
  mkdirSync(join(dir, 'tests', 'features'), { recursive: true })
  for (let i = 0; i < SOURCE_FILES; i++) {
    writeFileSync(join(dir, 'src', 'features', `f${i}.ts`), `/** Feature ${i}: a scaled sum. */\nexport function feature${i}(values: number[]): number {\n  return values.reduce((sum, v) => sum + v * ${i + 1}, 0)\n}\n`)
  }
  for (let i = 0; i < TEST_FILES; i++) {
    writeFileSync(join(dir, 'tests', 'features', `f${i}.test.ts`), `import { expect, it } from 'vitest'\nimport { feature${i} } from '../../src/features/f${i}.js'\n\nit('scales', () => {\n  expect(feature${i}([1, 2])).toBe(${3 * (i + 1)})\n})\n`)
  }
  if (!existsSync(join(dir, '.git'))) git(dir, 'init', '-q')
  git(dir, 'add', '-A')
  git(dir, '-c', 'user.email=bench@example.com', '-c', 'user.name=bench', 'commit', '-qm', 'bench fixture')
  // the new raw files are accepted into the manifest, as a user would after adding them
  spawnSync(process.execPath, [cli, 'check', '--only', 'raw-data', '--accept-raw'], { cwd: dir })
  git(dir, 'add', '-A')
  git(dir, '-c', 'user.email=bench@example.com', '-c', 'user.name=bench', 'commit', '-qm', 'accept raw data')
  return dir
}

export function checkBench(o: { project: string; work: string }): CheckRow[] {
  const iris = measure('mlskel check (no coverage), iris project', o.project, 500, 7)
  const big = measure('… project of 10,000+ files', bigProject(o.project, join(o.work, 'check-10k')), 2000, 5, { secrets: 1000, 'raw-data': 1000, pipeline: 100 })
  return [...iris, ...big]
}

export function printCheckRows(rows: CheckRow[], nodeMs: number): void {
  console.log(`\nmlskel check, every rule but coverage; medians of warm runs (the first, cold run beside); node -e 0 = ${nodeMs.toFixed(0)} ms\n`)
  console.log(`${'benchmark'.padEnd(44)}${'files'.padStart(7)}${'median'.padStart(10)}${'cold'.padStart(10)}${'target'.padStart(10)}${'× node'.padStart(9)}  verdict`)
  for (const r of rows) {
    console.log(`${r.name.padEnd(44)}${String(r.files).padStart(7)}${`${r.ms.toFixed(0)} ms`.padStart(10)}${`${r.coldMs.toFixed(0)} ms`.padStart(10)}${`${r.targetMs} ms`.padStart(10)}${(r.ms / nodeMs).toFixed(1).padStart(9)}  ${r.ok ? 'ok' : 'OVER TARGET'}`)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const node = Array.from({ length: 10 }, () => {
    const start = performance.now()
    spawnSync(process.execPath, ['-e', '0'])
    return performance.now() - start
  }).sort((a, b) => a - b)[5]!
  const rows = checkBench({ project: join(repo, 'bench', '.data', 'iris'), work: join(repo, 'bench', '.data') })
  printCheckRows(rows, node)
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1
}
