// What generate-dataset makes of a raw table, from params.yaml and the counts over its columns: each column's type
// (declared or inferred), the target, the features, the identifiers that travel beside predictions. Errors name the
// params.yaml key and line.
import { fieldName } from '../config/index.js'
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import type { LoadedParams } from '../params/index.js'
import { PARAMS_FILE } from '../project/files.js'
import type { ColumnType, DateFormat } from './columns.js'
import { inferColumnType, type ColumnCounts } from './infer.js'

export interface PlannedColumn {
  name: string
  type: ColumnType
  /** Datetime columns: the format their values are written in. */
  format?: DateFormat
  /** Why it has this type (inferred), or "declared in params.yaml". */
  reason: string
  declared: boolean
  counts: ColumnCounts
}

export interface DatasetPlan {
  /** The target: a label (classification) or a number (regression). */
  target: PlannedColumn
  /** The columns learnt from, in file order (or in dataset.features' order when it lists them). */
  features: PlannedColumn[]
  /** Columns written beside each prediction, not learnt from. */
  identifiers: PlannedColumn[]
  /** Columns left out, with the reason (declared `ignore`, every value missing). */
  ignored: PlannedColumn[]
  /** split.strategy time or group: the column that orders or groups the rows (it may also be one of the above). */
  split?: PlannedColumn
}

const LEARNABLE: ReadonlySet<ColumnType> = new Set(['numeric', 'boolean', 'categorical', 'datetime'])

/**
 * Check params against the data's columns (target, features and declared columns exist; the task fits the target)
 * and type every column. Returns the plan generate-dataset follows.
 */
export function planDataset(loaded: LoadedParams, columns: readonly ColumnCounts[], dataFile: string): DatasetPlan {
  const { params, source } = loaded
  const names = columns.map((c) => c.name)
  const byName = new Map(columns.map((c) => [c.name, c]))
  const at = (path: (string | number)[]) => ({ file: PARAMS_FILE, line: source.lineOf(path), field: fieldName(path) })
  const declared = params.dataset.columns

  for (const name of Object.keys(declared)) {
    if (!byName.has(name)) {
      throw new MlskelError('MLSKEL_PARAMS_COLUMN_NOT_FOUND', `dataset.columns names ${quote(name)}, which is not a column of ${dataFile} (columns: ${names.join(', ')}).${didYouMean(name, names)}`, {
        where: { file: PARAMS_FILE, line: source.lineOfKey(['dataset', 'columns'], name), field: `dataset.columns.${name}` },
      })
    }
  }

  const targetCounts = byName.get(params.dataset.target)
  if (!targetCounts) {
    throw new MlskelError('MLSKEL_PARAMS_TARGET_NOT_COLUMN', `target ${quote(params.dataset.target)} is not a column of ${dataFile} (columns: ${names.join(', ')}).${didYouMean(params.dataset.target, names)}`, { where: at(['dataset', 'target']) })
  }
  const target = planTarget(loaded, targetCounts, at)

  const requested = params.dataset.features
  requested.forEach((feature, i) => {
    if (!byName.has(feature)) {
      throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `feature ${quote(feature)} is not a column of ${dataFile}.${didYouMean(feature, names)}`, { where: at(['dataset', 'features', i]) })
    }
    if (feature === target.name) {
      throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `feature ${quote(feature)} is the target; a model cannot take its target as input`, { where: at(['dataset', 'features', i]), fix: 'Remove the target from dataset.features.' })
    }
    const type = declared[feature]
    if (type === 'ignore' || type === 'identifier') {
      throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `feature ${quote(feature)} is declared ${type} in dataset.columns, so it cannot be learnt from`, {
        where: at(['dataset', 'features', i]),
        fix: `Remove ${quote(feature)} from dataset.features, or declare it numeric, boolean, categorical or datetime in dataset.columns.`,
      })
    }
  })

  const planned = columns.filter((c) => c.name !== target.name).map((c) => plan(c, declared[c.name]))
  const features: PlannedColumn[] = []
  const identifiers: PlannedColumn[] = []
  const ignored: PlannedColumn[] = []
  if (requested.length > 0) {
    const byPlan = new Map(planned.map((p) => [p.name, p]))
    for (const name of requested) {
      const p = byPlan.get(name)!
      // a column listed as a feature is learnt from, even if it looks like an identifier
      features.push(p.type === 'identifier' && !p.declared ? { ...p, type: 'categorical', reason: 'listed in dataset.features (it looks like an identifier)' } : p)
    }
    for (const p of planned) if (!requested.includes(p.name)) (p.type === 'identifier' ? identifiers : ignored).push(p.type === 'identifier' ? p : { ...p, reason: p.type === 'ignore' ? p.reason : 'not listed in dataset.features' })
  } else {
    for (const p of planned) (LEARNABLE.has(p.type) ? features : p.type === 'identifier' ? identifiers : ignored).push(p)
  }
  if (features.length === 0) {
    throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `${dataFile} has no column to learn from besides the target ${quote(target.name)}${ignored.length + identifiers.length > 0 ? ` (left out: ${[...identifiers, ...ignored].map((p) => `${p.name}, ${p.reason}`).join('; ')})` : ''}`, {
      where: at(['dataset', 'features']),
      fix: 'Give the file feature columns, or declare a column\'s type in dataset.columns to learn from it.',
    })
  }
  const split = splitColumn(loaded, [...features, ...identifiers, ...ignored], names, dataFile)
  return { target, features, identifiers, ignored, ...(split ? { split } : {}) }
}

/** The column split.strategy time or group names: a column of the file, not the target; time: dates or numbers. */
function splitColumn(loaded: LoadedParams, planned: readonly PlannedColumn[], names: readonly string[], dataFile: string): PlannedColumn | undefined {
  const { split, dataset } = loaded.params
  if (split.column === undefined) return undefined
  const where = { file: PARAMS_FILE, line: loaded.source.lineOf(['split', 'column']), field: 'split.column' }
  const column = planned.find((c) => c.name === split.column)
  if (!column) {
    const why = split.column === dataset.target ? `it is the target, which cannot ${split.strategy === 'time' ? 'order' : 'group'} the rows` : `it is not a column of ${dataFile} (columns: ${names.join(', ')}).${didYouMean(split.column, names)}`
    throw new MlskelError('MLSKEL_PARAMS_COLUMN_NOT_FOUND', `split.column ${quote(split.column)} cannot ${split.strategy === 'time' ? 'order' : 'group'} the rows: ${why}`, { where })
  }
  if (split.strategy === 'time' && column.type !== 'datetime' && column.type !== 'numeric') {
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `split.column ${quote(column.name)} is ${column.type}; strategy time orders the rows by a datetime or numeric column`, {
      where,
      fix: `Name a date column under split.column (declare it datetime in dataset.columns if it is not inferred so), or use strategy group or random.`,
    })
  }
  return column
}

function plan(c: ColumnCounts, declared: ColumnType | undefined): PlannedColumn {
  const inferred = inferColumnType(c, declared)
  return { name: c.name, type: inferred.type, ...(inferred.format ? { format: inferred.format } : {}), reason: inferred.reason, declared: inferred.declared, counts: c }
}

function planTarget(loaded: LoadedParams, c: ColumnCounts, at: (path: (string | number)[]) => { file: string; line: number | undefined; field: string }): PlannedColumn {
  const { params } = loaded
  const declared = params.dataset.columns[c.name]
  if (declared === 'ignore' || declared === 'identifier' || declared === 'datetime') {
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `target ${quote(c.name)} is declared ${declared} in dataset.columns; a target is a label (classification) or a number (regression)`, {
      where: { file: PARAMS_FILE, line: loaded.source.lineOfKey(['dataset', 'columns'], c.name), field: `dataset.columns.${c.name}` },
      fix: `Remove ${quote(c.name)} from dataset.columns, or choose another target.`,
    })
  }
  const present = c.rows - c.missing
  if (params.task === 'regression') {
    if (c.numeric === 0 && present > 0) {
      const example = c.example ? ` (line ${c.example.line}: ${quote(c.example.value)})` : ''
      throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is regression but target ${quote(c.name)} holds text labels${example}; regression needs a numeric target`, { where: at(['task']), fix: 'Set task: classification, or choose a numeric target.' })
    }
    return { name: c.name, type: 'numeric', reason: 'the target of a regression', declared: declared !== undefined, counts: c }
  }
  if (declared === undefined && c.numeric === present && present > 0 && !c.integral && c.distinct > 20) {
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is classification but target ${quote(c.name)} holds ${c.distinct} distinct fractional numbers; it looks continuous`, { where: at(['task']), fix: 'Set task: regression, or choose a target with a few labels.' })
  }
  return { name: c.name, type: 'categorical', reason: 'the labels of a classification', declared: declared !== undefined, counts: c }
}
