// The reading rules of columns.ts as DuckDB SQL, over a table whose cells are all text (read_csv with
// all_varchar): what generate-dataset counts to infer types, and the typed values it writes to staging.
// columns.test.ts reads the same cells through both and checks they agree.
import { DATE_FORMATS, FALSE_WORDS, TRUE_WORDS, type ColumnType, type DateFormat, type ReadOptions } from './columns.js'
import type { ColumnCounts } from './infer.js'

/** A string literal for SQL: 'it''s'. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** A quoted identifier for SQL: "my ""column""". */
export function sqlIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

const list = (values: Iterable<string>) => `[${[...values].map(sqlString).join(', ')}]`

/** The trimmed cell; NULL (DuckDB's own missing) stays NULL. */
export const cell = (column: string) => `trim(${sqlIdent(column)})`

/** Whether a cell is a missing value. */
export function isMissing(column: string, read: ReadOptions): string {
  return `(${sqlIdent(column)} IS NULL OR list_contains(${list(read.missing)}, ${cell(column)}))`
}

/** The cell as a DOUBLE when it reads as a finite number (readNumber's rule), else NULL. */
export function asNumber(column: string, read: ReadOptions): string {
  const text = read.decimal === ',' ? `replace(${cell(column)}, ',', '.')` : cell(column)
  // the pattern keeps out what DuckDB casts but readNumber refuses (hex, 'inf', spaces inside)
  return `CASE WHEN regexp_full_match(${text}, ${sqlString(NUMBER_PATTERN)}) AND isfinite(TRY_CAST(${text} AS DOUBLE)) THEN TRY_CAST(${text} AS DOUBLE) END`
}
const NUMBER_PATTERN = '[+-]?(\\d+(_\\d+)*\\.?(\\d+(_\\d+)*)?|\\.\\d+(_\\d+)*)([eE][+-]?\\d+)?'

/** The cell as a BOOLEAN: true/yes, false/no (any case), and 0/1 when `digits`; else NULL. */
export function asBoolean(column: string, digits: boolean): string {
  const t = `lower(${cell(column)})`
  const yes = [...TRUE_WORDS, ...(digits ? ['1'] : [])]
  const no = [...FALSE_WORDS, ...(digits ? ['0'] : [])]
  return `CASE WHEN list_contains(${list(yes)}, ${t}) THEN true WHEN list_contains(${list(no)}, ${t}) THEN false END`
}

const ISO_PATTERN = '\\d{4}-\\d{1,2}-\\d{1,2}([Tt ]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(\\s*([Zz]|[+-]\\d{2}(:?\\d{2})?))?)?'

/** The cell as a TIMESTAMP (wall clock as written, a zone offset ignored) in `format` or ISO, else NULL. */
export function asDatetime(column: string, format: DateFormat): string {
  const c = cell(column)
  // a zone offset after the time is dropped (readDatetime ignores it too), and 'T' becomes a space, before the cast
  const iso = `CASE WHEN regexp_full_match(${c}, ${sqlString(ISO_PATTERN)}) THEN TRY_CAST(regexp_replace(regexp_replace(${c}, '(:\\d{2}(\\.\\d+)?)\\s*([Zz]|[+-]\\d{2}(:?\\d{2})?)$', '\\1'), '[Tt]', ' ') AS TIMESTAMP) END`
  if (format === 'iso') return iso
  return `coalesce(${iso}, try_strptime(${c}, ${list([`${format} %H:%M:%S`, `${format} %H:%M`, format])}))`
}

/** Whether a timestamp has a time of day. */
const hasClock = (ts: string) => `(${ts} <> date_trunc('day', ${ts}))`

const FORMATS = ['iso', ...DATE_FORMATS] as const
/** Per column, the counts every column gets: rows, missing, numbers, whole, booleans, 0/1, distinct, first non-number. */
const BASE = 8

/**
 * The subquery's columns for column i: its cell trimmed (__t), whether it is missing (__m), its number (__n), named
 * apart from the aggregates' aliases; the text readings trim `__t` again, which costs little.
 */
const innerColumns = (columns: readonly string[], read: ReadOptions, indexes: readonly number[]) =>
  indexes.flatMap((i) => [`${cell(columns[i]!)} AS __t${i}`, `${isMissing(columns[i]!, read)} AS __m${i}`, `${asNumber(columns[i]!, read)} AS __n${i}`]).join(', ')

const notNumber = (i: number) => `NOT __m${i} AND __n${i} IS NULL`

function baseAggregates(i: number): string[] {
  const [t, m, n] = [`__t${i}`, `__m${i}`, `__n${i}`]
  const present = `NOT ${m}`
  return [
    `count(*) AS r${i}`,
    `count(*) FILTER (WHERE ${m}) AS m${i}`,
    `count(${n}) AS n${i}`,
    `coalesce(bool_and(${n} = trunc(${n})), true) AS i${i}`,
    `count(*) FILTER (WHERE ${present} AND (${asBoolean(t, false)}) IS NOT NULL) AS b${i}`,
    `count(*) FILTER (WHERE ${present} AND list_contains(['0', '1'], ${t})) AS z${i}`,
    `count(DISTINCT ${t}) FILTER (WHERE ${present}) AS u${i}`,
    `arg_min(${t}, __line) FILTER (WHERE ${notNumber(i)}) || chr(31) || CAST(min(__line) FILTER (WHERE ${notNumber(i)}) AS VARCHAR) AS e${i}`,
  ]
}

/** A text `value` read as a date in format `f` alone (the ISO reading for 'iso'), else NULL. */
const dateIn = (value: string, f: (typeof FORMATS)[number]) => (f === 'iso' ? asDatetime(value, 'iso') : `try_strptime(${cell(value)}, ${list([`${f} %H:%M:%S`, `${f} %H:%M`, f])})`)

/** Whether a text `value` holds a time of day. */
const timeOfDay = (value: string) => `${hasClock(asDatetime(value, 'iso'))} OR regexp_matches(${value}, '\\d:\\d\\d')`

/** A count per date format, then whether any has a time of day: read only on present cells that are no number. */
function dateAggregates(i: number): string[] {
  const t = `__t${i}`
  // a date reading of the cell when it is present and no number, else NULL
  const dateOnly = (expression: string) => `CASE WHEN ${notNumber(i)} THEN ${expression} END`
  return [...FORMATS.map((f, k) => `count(${dateOnly(dateIn(t, f))}) AS d${i}_${k}`), `coalesce(bool_or(${dateOnly(timeOfDay(t))}), false) AS h${i}`]
}

/** A column's counts from its BASE values in a result row, its date readings not yet known (none). */
function parseBase(name: string, v: readonly unknown[]): ColumnCounts {
  const counts: ColumnCounts = {
    name,
    rows: Number(v[0]),
    missing: Number(v[1]),
    numeric: Number(v[2]),
    integral: Boolean(v[3]),
    booleanWords: Number(v[4]),
    zeroOne: Number(v[5]),
    distinct: Number(v[6]),
    dates: Object.fromEntries(FORMATS.map((f) => [f, 0])),
    hasTime: false,
  }
  if (typeof v[7] === 'string') {
    const [value, line] = v[7].split('\u001f')
    counts.example = { value: value!, line: Number(line) }
  }
  return counts
}

/** Fill in a column's date readings from their values in a result row (dateAggregates' order). */
function parseDates(counts: ColumnCounts, v: readonly unknown[]): void {
  FORMATS.forEach((f, k) => {
    counts.dates[f] = Number(v[k])
  })
  counts.hasTime = Boolean(v[FORMATS.length])
}

/**
 * One query (`sql`) of counts per column over `table` (text cells and __line), and how to read its one row back into
 * ColumnCounts. columnCounts gives the same counts, faster, in two queries; this one stays for the projects whose
 * generate-dataset calls it (the template's did before columnCounts).
 *
 * Each cell is read once, in a subquery: trimmed, whether it is missing, its number. The dates are tried only on the
 * cells that are present and no number (no number reads as a date in any format: a date has two separators, a number
 * at most one '.' and a sign): trying the five formats on every cell made this query ~20 s on 100,000 rows of 21
 * columns; in a CASE, DuckDB evaluates them for those rows alone (a FILTER's AND does not skip its right side).
 */
export function countsQuery(columns: readonly string[], read: ReadOptions, table: string): { sql: string; parse: (row: readonly unknown[]) => ColumnCounts[] } {
  const all = columns.map((_, i) => i)
  const perColumn = BASE + FORMATS.length + 1
  const aggregates = all.flatMap((i) => [...baseAggregates(i), ...dateAggregates(i)]).join(',\n')
  const sql = `SELECT ${aggregates} FROM (SELECT __line, ${innerColumns(columns, read, all)} FROM ${table})`
  const parse = (row: readonly unknown[]): ColumnCounts[] =>
    columns.map((name, i) => {
      const v = row.slice(i * perColumn, (i + 1) * perColumn)
      const counts = parseBase(name, v)
      parseDates(counts, v.slice(BASE))
      return counts
    })
  return { sql, parse }
}

/** The date readings of dateAggregates, of the distinct values `v` of a column, each counted `c` times. */
function distinctDateReadings(v: string): string[] {
  return [...FORMATS.map((f) => `coalesce(sum(c) FILTER (WHERE (${dateIn(v, f)}) IS NOT NULL), 0)`), `coalesce(bool_or(${timeOfDay(v)}), false)`]
}

/**
 * The counts of countsQuery, for type inference, in two queries run by `rows` (which returns a query's rows): the
 * counts every column needs, then the date readings. Those are tried only on the columns that hold a present cell
 * that is no number (on all others every reading is none, as countsQuery counts it), and once per distinct value,
 * counted as often as it occurs, rather than once per cell. A table of numbers and a text target of a few labels
 * takes half the time of countsQuery: the readings of 100,000 labels cost ~1 s, and the six readings' aggregates of
 * every column ~0.4 s even where no cell was read (100,000 rows of 21 columns).
 */
export async function columnCounts(rows: (sql: string) => Promise<readonly (readonly unknown[])[]>, columns: readonly string[], read: ReadOptions, table: string): Promise<ColumnCounts[]> {
  const all = columns.map((_, i) => i)
  const [first] = await rows(`SELECT ${all.flatMap((i) => baseAggregates(i)).join(',\n')} FROM (SELECT __line, ${innerColumns(columns, read, all)} FROM ${table})`)
  const counts = columns.map((name, i) => parseBase(name, first!.slice(i * BASE, (i + 1) * BASE)))
  // a first present cell that is no number: that column may hold dates
  const dated = all.filter((i) => counts[i]!.example !== undefined)
  if (dated.length === 0) return counts
  const values = dated.map((i) => `SELECT ${i} AS col, __t${i} AS v, count(*) AS c FROM cells WHERE ${notNumber(i)} GROUP BY v`).join('\nUNION ALL\n')
  const readings = await rows(`WITH cells AS (SELECT __line, ${innerColumns(columns, read, dated)} FROM ${table}),\nvalues_ AS (${values})\nSELECT col, ${distinctDateReadings('v').join(', ')} FROM values_ GROUP BY col`)
  for (const [col, ...v] of readings) parseDates(counts[Number(col)]!, v)
  return counts
}

/**
 * A column's typed value for staging (NULL when missing or invalid): DOUBLE, BOOLEAN, TIMESTAMP or the trimmed
 * text (categorical and identifier columns).
 */
export function typedValue(column: string, type: ColumnType, read: ReadOptions, format?: DateFormat): string {
  const missing = isMissing(column, read)
  switch (type) {
    case 'numeric':
      return asNumber(column, read)
    case 'boolean':
      return asBoolean(column, true)
    case 'datetime':
      return asDatetime(column, format ?? 'iso')
    default:
      return `CASE WHEN ${missing} THEN NULL ELSE ${cell(column)} END`
  }
}

/** Whether a present cell cannot be read as its column's type (an invalid value). */
export function isInvalid(column: string, type: ColumnType, read: ReadOptions, format?: DateFormat): string {
  if (type !== 'numeric' && type !== 'boolean' && type !== 'datetime') return 'false'
  return `(NOT ${isMissing(column, read)} AND (${typedValue(column, type, read, format)}) IS NULL)`
}
