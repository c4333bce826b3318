// Column type inference: what generate-dataset makes of each raw column from counts over its cells (sql.ts takes
// them), unless params.yaml declares the column's type (`dataset.columns`). Pure, so every rule is tested alone.
import { DATE_FORMATS, type ColumnType, type DateFormat } from './columns.js'

/** Counts over one raw column's cells, after trimming; "present" cells are those that are not missing values. */
export interface ColumnCounts {
  name: string
  rows: number
  /** Cells that are missing values (dataset.missing_values). */
  missing: number
  /** Present cells that read as finite numbers, and whether all of those are whole. */
  numeric: number
  integral: boolean
  /** Present cells that are true/false/yes/no, and those that are 0 or 1. */
  booleanWords: number
  zeroOne: number
  /** Present cells that read as a date in each format ('iso' first), and whether any has a time of day. */
  dates: Partial<Record<DateFormat, number>>
  hasTime: boolean
  /** Distinct present values. */
  distinct: number
  /** The first present cell that is not a number, and its 1-based line in the file. */
  example?: { value: string; line: number }
}

export interface InferredType {
  type: ColumnType
  /** Datetime: the format its values are written in. */
  format?: DateFormat
  /** Why, in a few words, for the description and the stage's output (e.g. "looks like an identifier: …"). */
  reason: string
  declared: boolean
}

/** A text column whose values are nearly all distinct is an identifier: at least this share, over this many rows. */
export const IDENTIFIER_DISTINCT_SHARE = 0.95
export const IDENTIFIER_MIN_ROWS = 20
/** A column whose present cells are at least this share numbers is numeric; the rest are invalid values. */
export const NUMERIC_SHARE = 0.9

/** The type of a column: declared, or inferred from its counts by the rules of docs/data.md. */
export function inferColumnType(c: ColumnCounts, declared?: ColumnType): InferredType {
  const present = c.rows - c.missing
  if (declared) return { type: declared, declared: true, reason: 'declared in params.yaml', ...(declared === 'datetime' ? { format: bestDateFormat(c) ?? 'iso' } : {}) }
  if (present === 0) return { type: 'ignore', declared: false, reason: `every value is missing (${c.rows} rows)` }
  if (c.booleanWords === present) return { type: 'boolean', declared: false, reason: 'true/false or yes/no values' }
  if (c.numeric === present) return { type: 'numeric', declared: false, reason: c.integral ? 'whole numbers' : 'numbers' }
  const format = dateFormatReadingAll(c, present)
  if (format) return { type: 'datetime', declared: false, format, reason: format === 'iso' ? 'ISO 8601 dates' : `dates written ${format}` }
  if (c.numeric >= NUMERIC_SHARE * present) {
    return { type: 'numeric', declared: false, reason: `numbers, but for ${present - c.numeric} value${present - c.numeric === 1 ? '' : 's'} that are not (invalid values, dataset.invalid_rows)` }
  }
  if (present >= IDENTIFIER_MIN_ROWS && c.distinct >= IDENTIFIER_DISTINCT_SHARE * present) {
    return {
      type: 'identifier',
      declared: false,
      reason: `looks like an identifier: ${c.distinct} distinct values in ${present} rows; left out of the features and written beside predictions (declare it categorical in dataset.columns to learn from it)`,
    }
  }
  return { type: 'categorical', declared: false, reason: `text, ${c.distinct} distinct values` }
}

function dateFormatReadingAll(c: ColumnCounts, present: number): DateFormat | undefined {
  for (const format of ['iso', ...DATE_FORMATS] as const) if ((c.dates[format] ?? 0) === present) return format
  return undefined
}

/** A declared datetime column's format: the one that reads the most of its values (ISO on a tie). */
function bestDateFormat(c: ColumnCounts): DateFormat | undefined {
  let best: DateFormat | undefined
  let most = 0
  for (const format of ['iso', ...DATE_FORMATS] as const) {
    const n = c.dates[format] ?? 0
    if (n > most) {
      most = n
      best = format
    }
  }
  return best
}

/**
 * How many present cells of a column of `type` are invalid: they cannot be read as the type (dataset.invalid_rows
 * drops their rows or stops on the first). Categorical and identifier columns take any text.
 */
export function invalidCells(c: ColumnCounts, type: ColumnType, format?: DateFormat): number {
  const present = c.rows - c.missing
  switch (type) {
    case 'numeric':
      return present - c.numeric
    case 'boolean':
      return present - c.booleanWords - c.zeroOne
    case 'datetime':
      return present - (c.dates[format ?? 'iso'] ?? 0) - (format && format !== 'iso' ? (c.dates.iso ?? 0) : 0)
    default:
      return 0
  }
}
