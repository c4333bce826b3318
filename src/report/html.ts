// The report page: one self-contained HTML file. Styles are inline, charts are inline SVG, there are no scripts
// and no external requests (fonts are the system's), so the file opens anywhere, offline, and prints to PDF as it
// shows. Every text that comes from data goes through escapeHtml.
export interface ReportSection {
  /** An anchor id for the table of contents: letters, digits and dashes. */
  id: string
  title: string
  /** The section's body, already HTML (escape data with escapeHtml). */
  html: string
}

export interface ReportPage {
  title: string
  /** One line under the title: what the report is about (a run id, a data file). */
  subtitle?: string
  sections: ReportSection[]
  /** When the report was made, shown in the footer; default now. */
  generatedAt?: Date
  /** The mlskel version that made it, shown in the footer. */
  generator?: string
}

const STYLE = `
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f9fafb; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 24px 64px; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 16px 0 8px; display: flex; flex-wrap: wrap; gap: 6px 16px; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; }
section { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; margin: 20px 0; break-inside: avoid; }
section h2 { margin: 0 0 12px; font-size: 20px; }
h3 { font-size: 16px; margin: 16px 0 8px; }
table { border-collapse: collapse; font-size: 14px; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 12px 6px 0; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
figure { margin: 12px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px 32px; align-items: flex-start; }
.note { color: var(--muted); font-size: 14px; }
footer { color: var(--muted); font-size: 13px; margin-top: 32px; }
@media print { body { background: white; } section { border: none; padding: 0; } nav { display: none; } }
`

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

/** A chart in its figure, with an optional caption (plain text). `svg` is the output of renderSvg. */
export function figure(svg: string, caption?: string): string {
  return `<figure>${svg}${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : ''}</figure>`
}

/** A table from rows of cells; numbers are right-aligned. Cells are text (escaped here). */
export function table(head: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const cell = (tag: 'td' | 'th', value: string | number | null) => `<${tag}${typeof value === 'number' ? ' class="num"' : ''}>${escapeHtml(value === null ? '–' : String(value))}</${tag}>`
  return `<table><thead><tr>${head.map((h) => cell('th', h)).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('')}</tbody></table>`
}

/** A definition list of label → value (both text, escaped here). */
export function definitions(items: readonly (readonly [string, string])[]): string {
  return `<dl>${items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`
}

/** The whole page. */
export function htmlPage(page: ReportPage): string {
  const when = (page.generatedAt ?? new Date()).toISOString()
  const nav = page.sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('')
  const sections = page.sections.map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>${s.html}</section>`).join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>${escapeHtml(page.title)}</h1>${page.subtitle ? `<p>${escapeHtml(page.subtitle)}</p>` : ''}</header>
<nav>${nav}</nav>
${sections}
<footer>Made ${escapeHtml(when)}${page.generator ? ` by ${escapeHtml(page.generator)}` : ''}. Self-contained: no scripts, no external requests.</footer>
</main>
</body>
</html>
`
}
