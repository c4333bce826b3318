// `mlskel run [stage...] [-- args]`: parse what commander gave, run the pipeline, print the summary.
import type { Command } from 'commander'
import { isMlskelError, type MlskelError } from '../../errors/index.js'
// The runner and the root finder, not their folders' index.ts: those load zod, which a no-op run never needs
// (it must finish in 300 ms, Node's start included).
import { runPipeline, type RunSummary } from '../../pipeline/runner.js'
import { findProjectRoot } from '../../project/files.js'

export interface RunCommandOptions {
  force?: boolean
  dryRun?: boolean
  downstream?: boolean
  set?: string[]
  json?: boolean
}

/**
 * Commander puts the words after `--` among the operands; the raw argv tells which they were. Returns the stage
 * names and the arguments meant for their commands.
 */
export function splitPassthrough(operands: readonly string[], rawArgs: readonly string[]): { stages: string[]; args: string[] } {
  const dashes = rawArgs.indexOf('--')
  if (dashes < 0) return { stages: [...operands], args: [] }
  const args = rawArgs.slice(dashes + 1)
  const stages = operands.slice(0, Math.max(0, operands.length - args.length))
  return { stages, args }
}

export default async function run(operands: string[], options: RunCommandOptions, command: Command): Promise<void> {
  const rawArgs = (command.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? []
  const { stages, args } = splitPassthrough(operands, rawArgs)
  const json = options.json === true
  let summary: RunSummary
  try {
    const overrides = options.set && options.set.length > 0 ? (await import('../../params/index.js')).parseOverrides(options.set) : {}
    summary = await runPipeline({
      root: findProjectRoot(),
      stages,
      args,
      force: options.force,
      dryRun: options.dryRun,
      downstream: options.downstream,
      overrides,
      // with --json, stdout carries only the summary: progress and the stages' output go to stderr
      progress: json ? process.stderr : process.stdout,
      output: json ? 'stderr' : 'inherit',
      argv: process.argv.slice(2),
    })
  } catch (error) {
    if (json && isMlskelError(error)) printJson({ ok: false, stages: [], duration_ms: 0, error })
    throw error
  }
  if (json) printJson(summary)
  if (summary.error) throw summary.error
}

function printJson(summary: RunSummary): void {
  const error = summary.error && errorJson(summary.error)
  process.stdout.write(`${JSON.stringify({ ok: summary.ok, stages: summary.stages, ...(error ? { error } : {}) }, null, 2)}\n`)
}

function errorJson(error: MlskelError): Record<string, unknown> {
  return { code: error.code, message: error.message, ...(error.where ? { where: error.where } : {}), fix: error.fix }
}
