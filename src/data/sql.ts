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

/**
 * One query's aggregates of counts per column (`SELECT <these> FROM <table with __line>`) and how to read its one
 * row back into ColumnCounts.
 */
export function countsQuery(columns: readonly string[], read: ReadOptions): { select: string; parse: (row: readonly unknown[]) => ColumnCounts[] } {
  const formats = ['iso', ...DATE_FORMATS] as const
  // per column: 8 counts, one per date format, then whether any value has a time of day
  const perColumn = 8 + formats.length + 1
  const select = columns
    .flatMap((c, i) => {
      const present = `NOT ${isMissing(c, read)}`
      const num = asNumber(c, read)
      const notNumber = `${present} AND (${num}) IS NULL`
      const dateCounts = formats.map((f, k) => `count(*) FILTER (WHERE ${present} AND (${f === 'iso' ? asDatetime(c, 'iso') : `try_strptime(${cell(c)}, ${list([`${f} %H:%M:%S`, `${f} %H:%M`, f])})`}) IS NOT NULL) AS d${i}_${k}`)
      return [
        `count(*) AS r${i}`,
        `count(*) FILTER (WHERE ${isMissing(c, read)}) AS m${i}`,
        `count(*) FILTER (WHERE (${num}) IS NOT NULL) AS n${i}`,
        `coalesce(bool_and((${num}) = trunc(${num})) FILTER (WHERE (${num}) IS NOT NULL), true) AS i${i}`,
        `count(*) FILTER (WHERE ${present} AND (${asBoolean(c, false)}) IS NOT NULL) AS b${i}`,
        `count(*) FILTER (WHERE ${present} AND list_contains(['0', '1'], ${cell(c)})) AS z${i}`,
        `count(DISTINCT ${cell(c)}) FILTER (WHERE ${present}) AS u${i}`,
        `arg_min(${cell(c)}, __line) FILTER (WHERE ${notNumber}) || chr(31) || CAST(min(__line) FILTER (WHERE ${notNumber}) AS VARCHAR) AS e${i}`,
        ...dateCounts,
        `coalesce(bool_or(${hasClock(asDatetime(c, 'iso'))}) FILTER (WHERE ${present}), false) OR coalesce(bool_or(regexp_matches(${cell(c)}, '\\d:\\d\\d')) FILTER (WHERE ${present}), false) AS h${i}`,
      ]
    })
    .join(',\n')
  const parse = (row: readonly unknown[]): ColumnCounts[] =>
    columns.map((name, i) => {
      const v = row.slice(i * perColumn, (i + 1) * perColumn)
      const dates: ColumnCounts['dates'] = {}
      formats.forEach((f, k) => {
        dates[f] = Number(v[8 + k])
      })
      const counts: ColumnCounts = {
        name,
        rows: Number(v[0]),
        missing: Number(v[1]),
        numeric: Number(v[2]),
        integral: Boolean(v[3]),
        booleanWords: Number(v[4]),
        zeroOne: Number(v[5]),
        distinct: Number(v[6]),
        dates,
        hasTime: Boolean(v[8 + formats.length]),
      }
      if (typeof v[7] === 'string') {
        const [value, line] = v[7].split('\u001f')
        counts.example = { value: value!, line: Number(line) }
      }
      return counts
    })
  return { select, parse }
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
