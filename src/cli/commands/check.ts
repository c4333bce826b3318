// `mlskel check`: run the project doctor and print its report (readable, or --json); exit 1 when it fails.
import { runCheck, formatCheckReport } from '../../check/index.js'
import { wantsColor } from '../../terminal/index.js'
import { findProjectRoot } from '../../project/files.js'

export interface CheckCommandOptions {
  json?: boolean
  strict?: boolean
  only?: string[]
  acceptRaw?: boolean
}

export default async function check(options: CheckCommandOptions): Promise<void> {
  const json = options.json === true
  const report = await runCheck({
    root: findProjectRoot(),
    only: options.only?.flatMap((list) => list.split(',')).map((id) => id.trim()).filter(Boolean),
    strict: options.strict,
    acceptRaw: options.acceptRaw,
    // long rules (coverage runs the tests) say what they do; with --json stdout carries the report alone
    progress: (message) => process.stderr.write(`${message}\n`),
  })
  process.stdout.write(`${json ? JSON.stringify(report, null, 2) : formatCheckReport(report, { color: wantsColor(process.stdout) })}\n`)
  if (!report.ok) process.exitCode = 1
}
