// The column types of a project's table, and how their raw values read: what generate-dataset infers, params.yaml
// overrides (`dataset.columns`), the dataset description records, and the served model takes.
//
// The reading rules are written once here and in SQL beside them (sql.ts), so a value means the same when
// generate-dataset reads it from the raw file, when predict.ts reads an input file, and when the server reads a
// request: a test feeds the same values through both.

/** What a column is to the pipeline. `identifier` columns travel beside predictions; `ignore` ones are left out. */
export const COLUMN_TYPES = ['numeric', 'boolean', 'categorical', 'datetime', 'identifier', 'ignore'] as const
export type ColumnType = (typeof COLUMN_TYPES)[number]

/** The model features a datetime column becomes; `hour` only when some value has a time of day. */
export const DATETIME_PARTS = ['year', 'month', 'day', 'weekday', 'hour'] as const
export type DatetimePart = (typeof DATETIME_PARTS)[number]

/**
 * The cells read as missing unless params.yaml says otherwise (`dataset.missing_values`): pandas' defaults for
 * read_csv, which include R's `NA`. Compared after trimming spaces, case-sensitively (`na` is a value).
 */
export const DEFAULT_MISSING_VALUES = ['', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null'] as const

/** Boolean words (compared lower-cased); 0 and 1 are booleans only in a column declared `boolean`. */
export const TRUE_WORDS = ['true', 'yes'] as const
export const FALSE_WORDS = ['false', 'no'] as const

/**
 * Date formats besides ISO 8601 that a datetime column may be written in, as DuckDB's strptime spells them; each may
 * be followed by a time (` %H:%M` or ` %H:%M:%S`). Inference takes the first that reads every value, so a column
 * that fits both day-first and month-first (all days ≤ 12) is read day-first; declare nothing else to change it
 * but the file. ISO (`2024-03-31`, `2024-03-31T12:00:00`, `2024-03-31 12:00`) is always tried first.
 */
export const DATE_FORMATS = ['%d/%m/%Y', '%m/%d/%Y', '%d.%m.%Y', '%Y/%m/%d', '%d-%m-%Y'] as const
export type DateFormat = 'iso' | (typeof DATE_FORMATS)[number]

/** How a text cell of a column is read. */
export interface ReadOptions {
  /** Cells that are missing values (after trimming). */
  missing: ReadonlySet<string>
  /** The decimal separator of numbers: '.' or ','. */
  decimal: '.' | ','
}

export const DEFAULT_READ: ReadOptions = { missing: new Set(DEFAULT_MISSING_VALUES), decimal: '.' }

/** A text cell as a number; NaN when it is not one. Accepts what DuckDB's CAST to DOUBLE accepts, but finite only. */
export function readNumber(text: string, decimal: '.' | ',' = '.'): number {
  const t = decimal === ',' ? text.trim().replace(',', '.') : text.trim()
  if (!NUMBER.test(t)) return NaN
  const value = Number(t.replaceAll('_', ''))
  return Number.isFinite(value) ? value : NaN
}

// digits may be grouped by single underscores, as DuckDB reads them; no hex, no "Infinity"
const NUMBER = /^[+-]?(\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/

/** A boolean cell: 1 / 0 for true / false, NaN when it is not one. `digits`: 0 and 1 count (a declared column). */
export function readBoolean(text: string, digits: boolean): number {
  const t = text.trim().toLowerCase()
  if ((TRUE_WORDS as readonly string[]).includes(t) || (digits && t === '1')) return 1
  if ((FALSE_WORDS as readonly string[]).includes(t) || (digits && t === '0')) return 0
  return NaN
}

/** The wall-clock fields of a date or timestamp as written; a zone offset or `Z` is ignored, as DuckDB does. */
export interface Clock {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}(?::?\d{2})?))?)?$/i
const TIME = '(?:\\s+(\\d{1,2}):(\\d{2})(?::(\\d{2}))?)?'
const FORMAT_PATTERNS: Record<(typeof DATE_FORMATS)[number], { pattern: RegExp; order: [number, number, number] }> = {
  // order: the capture groups of year, month and day
  '%d/%m/%Y': { pattern: new RegExp(`^(\\d{1,2})/(\\d{1,2})/(\\d{4})${TIME}$`), order: [3, 2, 1] },
  '%m/%d/%Y': { pattern: new RegExp(`^(\\d{1,2})/(\\d{1,2})/(\\d{4})${TIME}$`), order: [3, 1, 2] },
  '%d.%m.%Y': { pattern: new RegExp(`^(\\d{1,2})\\.(\\d{1,2})\\.(\\d{4})${TIME}$`), order: [3, 2, 1] },
  '%Y/%m/%d': { pattern: new RegExp(`^(\\d{4})/(\\d{1,2})/(\\d{1,2})${TIME}$`), order: [1, 2, 3] },
  '%d-%m-%Y': { pattern: new RegExp(`^(\\d{1,2})-(\\d{1,2})-(\\d{4})${TIME}$`), order: [3, 2, 1] },
}

/** A datetime cell in `format` (ISO is always accepted too), or undefined when it is not a valid one. */
export function readDatetime(text: string, format: DateFormat = 'iso'): Clock | undefined {
  const t = text.trim()
  const iso = ISO.exec(t)
  if (iso) return clock(+iso[1]!, +iso[2]!, +iso[3]!, iso[4], iso[5], iso[6])
  if (format === 'iso') return undefined
  const { pattern, order } = FORMAT_PATTERNS[format]
  const m = pattern.exec(t)
  if (!m) return undefined
  return clock(+m[order[0]]!, +m[order[1]]!, +m[order[2]]!, m[4], m[5], m[6])
}

function clock(year: number, month: number, day: number, h?: string, mi?: string, s?: string): Clock | undefined {
  const hour = h === undefined ? 0 : +h
  const minute = mi === undefined ? 0 : +mi
  const second = s === undefined ? 0 : +s
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined
  return { year, month, day, hour, minute, second }
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** A part of a datetime as a model feature: weekday 0 = Monday … 6 = Sunday (ISO's order, DuckDB's isodow − 1). */
export function datetimePart(c: Clock, part: DatetimePart): number {
  switch (part) {
    case 'year':
      return c.year
    case 'month':
      return c.month
    case 'day':
      return c.day
    case 'weekday':
      return (new Date(Date.UTC(c.year, c.month - 1, c.day)).getUTCDay() + 6) % 7
    case 'hour':
      return c.hour
  }
}
