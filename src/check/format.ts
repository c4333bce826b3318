// The readable form of a check report: one line per rule (✓ ⚠ ✗), its findings below it with their place and fix,
// and a summary line. Colour only on a terminal, never with NO_COLOR; the symbols carry the meaning either way.
import { styleText } from 'node:util'
import type { CheckReport, FindingReport } from './report.js'

type Style = Parameters<typeof styleText>[0]

export interface FormatOptions {
  color?: boolean
}

const RULE_MARK = { pass: ['✓', 'green'], warn: ['⚠', 'yellow'], fail: ['✗', 'red'] } as const
const FINDING_MARK = { error: ['✗', 'red'], warning: ['⚠', 'yellow'], info: ['ℹ', 'cyan'] } as const

export function formatCheckReport(report: CheckReport, options: FormatOptions = {}): string {
  const paint = (style: Style, text: string) => (options.color ? styleText(style, text, { validateStream: false }) : text)
  const width = Math.max(...report.rules.map((r) => r.id.length))
  const lines: string[] = []
  for (const rule of report.rules) {
    const [mark, style] = RULE_MARK[rule.status]
    lines.push(`${paint(style, mark)} ${rule.id.padEnd(width)}  ${rule.title}${rule.summary ? paint('dim', `: ${rule.summary}`) : ''}`)
    rule.findings.forEach((finding, i) => {
      const [fmark, fstyle] = FINDING_MARK[finding.level]
      lines.push(`    ${paint(fstyle, fmark)} ${place(finding)}${finding.message.replace(/\n/g, '\n      ')}  ${paint('dim', finding.code)}`)
      // one fix line after a run of findings that share it (fifty lint errors need not say fifty times how to fix)
      if (rule.findings[i + 1]?.fix !== finding.fix) lines.push(`      ${paint('dim', `fix: ${finding.fix}`)}`)
    })
  }
  const s = report.summary
  const plural = (n: number, word: string, words = `${word}s`) => `${n} ${n === 1 ? word : words}`
  const verdict = report.ok ? paint('green', '✓ passed') : paint('red', '✗ failed')
  lines.push(
    '',
    `${verdict}: ${s.passed} of ${plural(s.rules, 'rule')} passed; ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${plural(s.infos, 'note')}${report.strict ? ' (--strict: warnings count as errors)' : ''} · ${(report.duration_ms / 1000).toFixed(1)} s`,
  )
  return lines.join('\n')
}

function place(finding: FindingReport): string {
  if (!finding.file) return ''
  return `${finding.file}${finding.line ? `:${finding.line}` : ''}: `
}
