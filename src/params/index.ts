// params.yaml: the one file a user edits to point a project at their data. Schema, loading and overrides; the
// checks that need the data's columns are src/data/plan.ts.
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { parse as parseYamlValue } from 'yaml'
import { validateYaml, type YamlSource } from '../config/index.js'
import { MlskelError, quote } from '../errors/index.js'
import { COLUMN_TYPES, DEFAULT_MISSING_VALUES } from '../data/index.js'
import { DEFAULT_MODEL_TYPE, kindHint, modelParamsSchema, trainableModelKinds } from '../models/index.js'

import { PARAMS_FILE, readParamsYaml } from '../project/index.js'

export { PARAMS_FILE }

/**
 * The schema of params.yaml. Its `model:` is one object per model kind registered (mlskel's random_forest and
 * gradient_boosting, and a project's own), told apart by `type`; so the schema is made when asked for.
 */
export function paramsSchema() {
  return z.strictObject({
    dataset: z.strictObject({
      // inside the raw folder unless mlskel.yaml declares it external: checked by loadParams, which reads both files
      raw: z.string().min(1).describe('a CSV or Parquet file in the raw data folder (a path inside it), or the absolute path of an external input declared in mlskel.yaml'),
      target: z.string().min(1).describe('the column to predict'),
      features: z.array(z.string().min(1)).default([]).describe('feature columns; empty means every column but the target'),
      invalid_rows: z.enum(['drop', 'error']).default('drop').describe('what to do with rows holding a value that cannot be read as its column\'s type: drop and count them, or stop'),
      columns: z
        .record(z.string().min(1), z.enum(COLUMN_TYPES))
        .default({})
        .describe(`column types, overriding what is inferred from the data: ${COLUMN_TYPES.join(', ')}`),
      missing_values: z
        .array(z.string())
        .default([...DEFAULT_MISSING_VALUES])
        .describe('cells (after trimming spaces) that are missing values; default: pandas\' (which include R\'s NA)'),
      decimal: z.enum(['.', ',']).default('.').describe('the decimal separator of numbers in the raw file'),
      delimiter: z
        .enum([',', ';', '\t', '|'])
        .optional()
        .describe('the field delimiter of a CSV raw file; absent: detected by DuckDB\'s sniffer'),
      min_category_count: z.int().min(1).max(1_000_000).default(5).describe('categories with fewer training rows are folded into one "other" category'),
      max_categories: z.int().min(2).max(255).default(255).describe('the most categories a categorical feature may have, after folding'),
      drop_duplicates: z.boolean().default(false).describe('drop rows that are exact copies of an earlier row (kept by default: they are observations)'),
    }),
    task: z.enum(['classification', 'regression']),
    split: z
      .strictObject({
        strategy: z
          .enum(SPLIT_STRATEGIES)
          .default('stratified')
          .describe('how test rows and folds are chosen: stratified (by class; regression: random), random, time (the latest rows by split.column held out), group (all rows of a split.column value on one side)'),
        column: z.string().min(1).optional().describe('strategy time: the datetime (or numeric) column ordering the rows; group: the column whose values are the groups'),
        test_size: z.number().gt(0).lt(1).default(0.2).describe('fraction of rows held out for testing'),
        cv_folds: z.int().min(2).max(100).default(5).describe('folds of the cross-validation on the training split'),
        seed: z.int().min(0).max(2 ** 31 - 1).default(42).describe('seed of the split, the folds and the model'),
      })
      .refine((split) => (split.strategy === 'time' || split.strategy === 'group') === (split.column !== undefined), {
        message: 'split.column names the column of strategy time (its datetime column) or group (its group column), and only of those',
        path: ['column'],
      })
      .prefault({}),
    model: modelParamsSchema().prefault({}).describe(`the model: its kind (type: ${trainableModelKinds().join(' or ')}; default ${DEFAULT_MODEL_TYPE}) and its hyper-parameters, named as scikit-learn names them`),
  })
  .describe('mlskel params.yaml: the data set, the task, the split and the model hyper-parameters')
}

/** How generate-dataset holds rows out and cross-validation makes its folds. */
export const SPLIT_STRATEGIES = ['stratified', 'random', 'time', 'group'] as const

export type Params = z.output<ReturnType<typeof paramsSchema>>
export type Task = 'classification' | 'regression'

export type Overrides = Record<string, unknown>

export interface LoadedParams {
  params: Params
  /** The overrides applied on top of the file, by dotted key. */
  overrides: Overrides
  source: YamlSource
}

/**
 * Load and validate params.yaml, with `overrides` applied (a stage's come from `mlskel run --set`, through
 * stageContext().overrides).
 */
export async function loadParams(root: string, options: { overrides?: Overrides } = {}): Promise<LoadedParams> {
  const overrides = options.overrides ?? {}
  const source = await readParamsYaml(root, overrides)
  let params: Params
  try {
    params = validateYaml(source, paramsSchema(), 'MLSKEL_PARAMS_INVALID')
  } catch (error) {
    throw withKindHint(error, source.data)
  }
  await checkRawInside(root, params.dataset.raw, source)
  return { params, overrides, source }
}

/**
 * dataset.raw must name a file the pipeline's hashes and the raw data manifest see: one inside the raw data folder
 * (a relative path without ..), or an external input mlskel.yaml declares (its absolute path), which the stage reading
 * it lists in its deps and `mlskel check` manifests.
 */
async function checkRawInside(root: string, raw: string, source: YamlSource): Promise<void> {
  const escapes = raw.split(/[\\/]/).includes('..')
  const drive = /^[A-Za-z]:/.test(raw) && process.platform !== 'win32'
  if (!isAbsolute(raw) && !escapes && !drive) return
  if (isAbsolute(raw) && !escapes) {
    const { normalizeExternal, readExternalInputs } = await import('../project/index.js')
    if ((await readExternalInputs(root)).includes(normalizeExternal(raw))) return
  }
  const why = isAbsolute(raw) || drive ? 'an absolute path that mlskel.yaml does not declare under `external:`' : 'a path that leaves the raw data folder (..)'
  throw new MlskelError('MLSKEL_PARAMS_RAW_OUTSIDE', `dataset.raw ${quote(raw)} must name a file inside the raw data folder (data/raw), or an external input declared in mlskel.yaml; it is ${why}, which neither the pipeline's hashes nor the raw data manifest would see`, {
    where: { file: PARAMS_FILE, line: source.lineOf(['dataset', 'raw']), field: 'dataset.raw' },
  })
}

/**
 * An unknown key under `model:` that another kind takes (n_estimators under gradient_boosting) is most likely meant
 * for it: say so, rather than only "unknown key".
 */
function withKindHint(error: unknown, data: unknown): unknown {
  if (!(error instanceof MlskelError) || !error.message.startsWith('unknown key')) return error
  const field = error.where?.field ?? ''
  if (!/^model\.[^.]+$/.test(field)) return error
  const hint = kindHint(String((getAt(data, 'model.type') as string | undefined) ?? DEFAULT_MODEL_TYPE), field.slice('model.'.length))
  if (!hint) return error
  const [first, ...rest] = error.message.split('\n')
  return new MlskelError(error.code, [`${first}${hint}`, ...rest].join('\n'), { ...(error.where ? { where: error.where } : {}), cause: error })
}

/** Parse `key.path=value` pairs; values are read as YAML scalars, so numbers and booleans keep their type. */
export function parseOverrides(pairs: readonly string[]): Overrides {
  const overrides: Overrides = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    const key = eq > 0 ? pair.slice(0, eq).trim() : ''
    if (!key || !/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/.test(key)) {
      throw new MlskelError('MLSKEL_SET_INVALID', `--set ${quote(pair)} is not of the form key.path=value`)
    }
    try {
      overrides[key] = parseYamlValue(pair.slice(eq + 1), { maxAliasCount: 0 })
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!
      throw new MlskelError('MLSKEL_SET_INVALID', `--set ${quote(pair)}: the value is not a YAML scalar (${reason})`, {
        where: { field: key },
        fix: "Quote a value that starts with a YAML special character: --set 'key=\"`value\"'.",
      })
    }
  }
  return overrides
}


/** The value at a dotted key of a plain object, or undefined. */
export function getAt(value: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), value)
}
