// Rule 2, reports: the ancestor expected "at least an explorative and a delivery report" in reports/. A report is
// recognised by its name: `explor` for the explorative one (explore.html, exploration.ipynb), `deliver` or
// `modelling` for the delivery one (delivery.html, modelling-report.html, what `mlskel report` and the template's
// notebooks write). Missing ones are warnings, as the ancestor had them; `--strict` makes them errors.
import { readdir } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { Finding, Rule } from '../types.js'

export const REPORTS_DIR = 'reports'
export const REPORT_EXTENSIONS = ['.html', '.pdf', '.md', '.ipynb']
export const REPORT_KINDS = [
  { kind: 'explorative', pattern: /explor/i, example: 'reports/explore.html' },
  { kind: 'delivery', pattern: /deliver|modell?ing/i, example: 'reports/delivery.html' },
] as const

export const reportsRule: Rule = {
  id: 'reports',
  title: 'explorative and delivery reports',
  async run(ctx) {
    const reports = await reportFiles(join(ctx.root, REPORTS_DIR))
    const findings: Finding[] = []
    const found: string[] = []
    for (const { kind, pattern, example } of REPORT_KINDS) {
      const matches = reports.filter((file) => pattern.test(file.split('/').pop()!))
      if (matches.length > 0) found.push(`${kind}: ${matches.join(', ')}`)
      else findings.push({ level: 'warning', code: 'MLSKEL_CHECK_REPORT_MISSING', file: `${REPORTS_DIR}/`, message: `no ${kind} report in ${REPORTS_DIR}/ (a file named like ${example}; ${REPORT_EXTENSIONS.join(', ')})` })
    }
    return { findings, summary: `${reports.length} report file${reports.length === 1 ? '' : 's'}${found.length ? `; ${found.join('; ')}` : ''}` }
  },
}

/** Report files under `dir` (any depth), relative to the project root; none when the folder is missing. */
async function reportFiles(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true })
  } catch {
    return []
  }
  return entries
    .filter((e) => e.isFile() && REPORT_EXTENSIONS.some((ext) => e.name.toLowerCase().endsWith(ext)))
    .map((e) => join(REPORTS_DIR, relative(dir, join(e.parentPath, e.name))).split(sep).join('/'))
    .sort()
}
