// The coverage rule: line coverage of the project's tests, from Istanbul's json-summary, against checks.coverage.lines.
//
// `npm test` in the template runs the tests with coverage and then `mlskel check`, so a summary newer than every
// source and test file is taken as it is: the tests never run twice. Otherwise the rule runs the coverage command.
import { StringDecoder } from 'node:string_decoder'
import type { BigIntStats } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { delimiter, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { z } from 'zod'
import { listFiles } from '../../hashing/index.js'
import type { CheckContext, Finding, Rule, RuleOutcome } from '../types.js'
import { describeIssues } from '../../errors/index.js'
import { runProcess } from '../../process/index.js'

/** Folders whose files make a summary stale when they change. */
const SOURCE_DIRS = ['src', 'tests']
/** Files that change what the tests measure; vitest falls back to vite.config.* when it has no config of its own. */
const CONFIG_FILES = ['package.json', ...['vitest', 'vite'].flatMap((name) => ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'].map((ext) => `${name}.config.${ext}`))]
/** Lines of the command's output quoted when it fails. */
const TAIL_LINES = 20
/** Output kept in memory while the command runs (characters): enough for the tail, bounded for chatty test suites. */
const KEEP_CHARS = 64 * 1024
/** Files named when coverage is low. */
const LOWEST_FILES = 3

const linesSchema = z.looseObject({ total: z.number(), covered: z.number(), pct: z.union([z.number(), z.string()]) })
// `total` sits beside the per-file entries (keyed by absolute path), all of the same shape
const summarySchema = z.record(z.string(), z.looseObject({ lines: linesSchema })).refine((summary) => summary.total !== undefined, 'no "total" entry')

type Lines = z.output<typeof linesSchema>
type Summary = z.output<typeof summarySchema>

export const coverageRule: Rule = {
  id: 'coverage',
  title: 'line coverage of the tests',
  async run(context) {
    const summaryPath = resolve(context.root, context.config.coverage.summary)
    const reused = await freshSummary(context.root, summaryPath)
    if (reused) return judge(context, reused, `reused ${context.config.coverage.summary}`)
    return runAndJudge(context, summaryPath)
  },
}

/** The summary when it is newer than every file that could change it, and readable; undefined otherwise. */
async function freshSummary(root: string, summaryPath: string): Promise<Summary | undefined> {
  const summaryStat = await statOrUndefined(summaryPath)
  if (!summaryStat) return undefined
  if (summaryStat.mtimeNs <= (await newestInputMtime(root))) return undefined
  try {
    return await readSummary(summaryPath)
  } catch {
    // a damaged summary is no reason to fail: running the command writes a new one
    return undefined
  }
}

/** The newest modification time (ns) of the sources, tests and test configuration; 0 when there are none. */
async function newestInputMtime(root: string): Promise<bigint> {
  const files = CONFIG_FILES.map((file) => join(root, file))
  for (const dir of SOURCE_DIRS) {
    const listed = await listFiles(join(root, dir)).catch(() => [])
    files.push(...listed.map((file) => join(root, dir, file)))
  }
  const stats = await Promise.all(files.map(statOrUndefined))
  return stats.reduce((newest, info) => (info && info.mtimeNs > newest ? info.mtimeNs : newest), 0n)
}

async function runAndJudge(context: CheckContext, summaryPath: string): Promise<RuleOutcome> {
  const { command, summary: summaryName } = context.config.coverage
  const before = await statOrUndefined(summaryPath)
  context.progress(`running the tests with coverage: ${command}`)
  const run = await runCommand(command, context.root)
  const after = await statOrUndefined(summaryPath)
  // vitest also exits non-zero when its own coverage thresholds fail; a summary it wrote still says how much
  const written = after !== undefined && (before === undefined || after.mtimeNs > before.mtimeNs)
  const failed = (reason: string): RuleOutcome => ({ findings: [commandFailed(command, run, reason)], summary: 'the coverage command failed' })
  if (!written) return failed(`it wrote no new ${summaryName}`)
  let summary: Summary
  try {
    summary = await readSummary(summaryPath)
  } catch (error) {
    return failed(`${summaryName} is unreadable: ${(error as Error).message}`)
  }
  const outcome = judge(context, summary, 'after running the tests')
  if (run.exitCode !== 0 && outcome.findings.length === 0) {
    // a stricter threshold of vitest's own, or another failure: worth knowing, but this rule only judges lines
    outcome.findings.push({ ...commandFailed(command, run, 'it wrote a coverage summary all the same'), level: 'warning' })
  }
  return outcome
}

/** The outcome for a summary: an error when line coverage is below the threshold or nothing was measured. */
function judge(context: CheckContext, summary: Summary, source: string): RuleOutcome {
  const threshold = context.config.coverage.lines
  const total = summary.total!.lines
  if (total.total === 0) {
    if (threshold === 0) return { findings: [], summary: `no lines measured (threshold 0%), ${source}` }
    return { findings: [nothingMeasured(context)], summary: `no lines measured, ${source}` }
  }
  const pct = percent(total)
  const line = `${pct}% of lines (threshold ${threshold}%), ${source}`
  if (pct >= threshold) return { findings: [], summary: line }
  const lowest = lowestFiles(context.root, summary)
  const finding: Finding = {
    level: 'error',
    code: 'MLSKEL_CHECK_COVERAGE_LOW',
    message: `Line coverage is ${pct}% (${total.covered} of ${total.total} lines), below the threshold of ${threshold}%${lowest ? `; lowest: ${lowest}` : ''}.`,
  }
  return { findings: [finding], summary: line }
}

function nothingMeasured(context: CheckContext): Finding {
  return {
    level: 'error',
    code: 'MLSKEL_CHECK_COVERAGE_LOW',
    message: `No lines were measured: ${context.config.coverage.summary} counts 0 lines, so coverage cannot be judged against the threshold of ${context.config.coverage.lines}%.`,
    fix: 'Make the tests import code from src/, and check that coverage.include in vitest.config.ts names your sources (the template has `src/**`).',
  }
}

/** "src/a.ts (12.5%), src/b.ts (40%)": the files with the lowest line coverage, project-relative. */
function lowestFiles(root: string, summary: Summary): string {
  return Object.entries(summary)
    .filter(([key, entry]) => key !== 'total' && entry.lines.total > 0)
    .map(([key, entry]) => ({ file: projectRelative(root, key), pct: percent(entry.lines) }))
    .sort((a, b) => a.pct - b.pct || a.file.localeCompare(b.file))
    .slice(0, LOWEST_FILES)
    .map(({ file, pct }) => `${file} (${pct}%)`)
    .join(', ')
}

/** Istanbul's own rounded percentage when it gave one ("Unknown" for empty files in some versions). */
function percent(lines: Lines): number {
  if (typeof lines.pct === 'number') return lines.pct
  return lines.total === 0 ? 100 : Math.floor((lines.covered / lines.total) * 10_000) / 100
}

function projectRelative(root: string, path: string): string {
  const rel = isAbsolute(path) ? relative(root, path) : path
  return rel.split(sep).join('/')
}

async function readSummary(path: string): Promise<Summary> {
  const parsed = summarySchema.safeParse(JSON.parse(await readFile(path, 'utf8')))
  if (!parsed.success) throw new Error(`not an Istanbul json-summary (${describeIssues(parsed.error).text})`)
  return parsed.data
}

interface CommandRun {
  /** null when a signal ended the command or it could not start. */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** stdout and stderr, interleaved; the last KEEP_CHARS or more of them. */
  output: string
  spawnError?: Error
}

/** Runs `command` with /bin/sh in `root`, with the project's tools on PATH; output is captured, never printed. */
async function runCommand(command: string, root: string): Promise<CommandRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: [join(root, 'node_modules', '.bin'), process.env.PATH].filter(Boolean).join(delimiter), CI: '1', NO_COLOR: '1' }
  // FORCE_COLOR wins over NO_COLOR in most tools, and colour codes would garble the quoted output
  delete env.FORCE_COLOR
  let output = ''
  const keeper = () => {
    // one decoder per stream, so a character split between two chunks stays whole
    const decoder = new StringDecoder('utf8')
    return (chunk: Buffer): void => {
      output += decoder.write(chunk)
      if (output.length > 2 * KEEP_CHARS) output = output.slice(-KEEP_CHARS)
    }
  }
  // stdout and stderr interleaved as they come: kept here, not by runProcess (which keeps each apart)
  const run = await runProcess('/bin/sh', ['-c', command], { cwd: root, env, maxBytes: 0, onStdout: keeper(), onStderr: keeper() })
  return { exitCode: run.code, signal: run.signal, output, ...(run.error ? { spawnError: run.error } : {}) }
}

function commandFailed(command: string, run: CommandRun, reason: string): Finding {
  const how = run.spawnError ? `could not start (${run.spawnError.message})` : run.signal ? `was stopped by ${run.signal}` : `exited with code ${run.exitCode}`
  const tail = lastLines(run.output, TAIL_LINES)
  return {
    level: 'error',
    code: 'MLSKEL_CHECK_COVERAGE_FAILED',
    message: `The coverage command \`${command}\` ${how}; ${reason}.${tail ? `\nLast lines of its output:\n${tail}` : ' It printed nothing.'}`,
  }
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split(/\r?\n/).slice(-count).join('\n')
}

async function statOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw error
  }
}
