// Small text tables for the scripts' human-readable output.

/** Text columns left-aligned and numbers right-aligned; the first row is the header, underlined. */
export function formatTable(rows: readonly (readonly (string | number)[])[]): string {
  if (rows.length === 0) return ''
  const texts = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)))
  const widths = texts[0]!.map((_, col) => Math.max(...texts.map((row) => (row[col] ?? '').length)))
  const lines = texts.map((row, r) =>
    row
      .map((text, col) => (typeof rows[r]![col] === 'number' ? text.padStart(widths[col]!) : text.padEnd(widths[col]!)))
      .join('  ')
      .trimEnd(),
  )
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '))
  return lines.join('\n')
}

/** Up to four decimals, no trailing zeros; integers as they are. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value)
  return Number(value.toFixed(4)).toString()
}
