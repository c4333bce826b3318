// params.yaml: the one file a user edits to point a project at their data. Schema, loading, overrides, and the
// checks that need the data's columns.
import { join } from 'node:path'
import { z } from 'zod'
import { parse as parseYamlValue } from 'yaml'
import { readYaml, validateYaml, fieldName, type YamlSource } from '../config/index.js'
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import { DEFAULT_MODEL_TYPE, kindHint, modelParamsSchema, trainableModelKinds } from '../models/index.js'

import { PARAMS_FILE } from '../settings/root.js'

export { PARAMS_FILE }
/** Environment variable through which `mlskel run --set` hands overrides to a stage's process (JSON object). */
export const OVERRIDES_ENV = 'MLSKEL_SET'

/**
 * The schema of params.yaml. Its `model:` is one object per model kind registered (mlskel's random_forest and
 * gradient_boosting, and a project's own), told apart by `type`; so the schema is made when asked for.
 */
export function paramsSchema() {
  return z.strictObject({
    dataset: z.strictObject({
      raw: z.string().min(1).describe('a CSV file in the raw data folder'),
      target: z.string().min(1).describe('the column to predict'),
      features: z.array(z.string().min(1)).default([]).describe('feature columns; empty means every column but the target'),
      invalid_rows: z.enum(['drop', 'error']).default('drop').describe('what to do with rows holding a value that does not parse: drop and count them, or stop'),
    }),
    task: z.enum(['classification', 'regression']),
    split: z
      .strictObject({
        test_size: z.number().gt(0).lt(1).default(0.2).describe('fraction of rows held out for testing'),
        cv_folds: z.int().min(2).max(100).default(5).describe('folds of the cross-validation on the training split'),
        seed: z.int().min(0).max(2 ** 31 - 1).default(42).describe('seed of the split, the folds and the model'),
      })
      .prefault({}),
    model: modelParamsSchema().prefault({}).describe(`the model: its kind (type: ${trainableModelKinds().join(' or ')}; default ${DEFAULT_MODEL_TYPE}) and its hyper-parameters, named as scikit-learn names them`),
  })
  .describe('mlskel params.yaml: the data set, the task, the split and the model hyper-parameters')
}

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
 * Load and validate params.yaml, with overrides (from `mlskel run --set`, handed over in MLSKEL_SET) applied.
 */
export async function loadParams(root: string, options: { overrides?: Overrides; env?: NodeJS.ProcessEnv } = {}): Promise<LoadedParams> {
  const source = await readYaml(join(root, PARAMS_FILE), PARAMS_FILE)
  const overrides = options.overrides ?? overridesFromEnv(options.env ?? process.env)
  for (const [key, value] of Object.entries(overrides)) {
    const path = key.split('.')
    if (!source.doc.hasIn(path.slice(0, -1)) && path.length > 1) {
      throw new MlskelError('MLSKEL_SET_INVALID', `--set ${key}: params.yaml has no ${quote(path.slice(0, -1).join('.'))}`, { where: { file: PARAMS_FILE, field: key } })
    }
    source.doc.setIn(path, value)
  }
  let params: Params
  try {
    params = validateYaml(source, paramsSchema(), 'MLSKEL_PARAMS_INVALID')
  } catch (error) {
    throw withKindHint(error, source.data)
  }
  return { params, overrides, source }
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
    overrides[key] = parseYamlValue(pair.slice(eq + 1))
  }
  return overrides
}

export function overridesFromEnv(env: NodeJS.ProcessEnv): Overrides {
  const raw = env[OVERRIDES_ENV]
  if (!raw) return {}
  try {
    const parsed: unknown = JSON.parse(raw)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Overrides
  } catch {
    // fall through
  }
  throw new MlskelError('MLSKEL_SET_INVALID', `${OVERRIDES_ENV} must hold a JSON object of overrides, got ${quote(raw)}`)
}

/** The value at a dotted key of a plain object, or undefined. */
export function getAt(value: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), value)
}

/** What the data says about a column, as far as params checks need it. */
export interface ColumnProfile {
  name: string
  /** Non-missing values that parse as numbers, and those that do not. */
  numeric: number
  text: number
  distinct: number
  /** Whether every numeric value is a whole number. */
  integral: boolean
  /** A non-numeric value and its 1-based line in the file, when there is one. */
  example?: { value: string; line: number }
}

export interface DatasetPlan {
  target: string
  features: string[]
}

/**
 * Check params against the data's columns: the target and features exist, features are numeric, and the task
 * fits the target. Errors name the params.yaml key and line. Returns the resolved target and feature list.
 */
export function planDataset(loaded: LoadedParams, columns: readonly ColumnProfile[], dataFile: string): DatasetPlan {
  const { params, source } = loaded
  const names = columns.map((c) => c.name)
  const byName = new Map(columns.map((c) => [c.name, c]))
  const at = (path: (string | number)[]) => ({ file: PARAMS_FILE, line: source.lineOf(path), field: fieldName(path) })

  const target = byName.get(params.dataset.target)
  if (!target) {
    throw new MlskelError('MLSKEL_PARAMS_TARGET_NOT_COLUMN', `target ${quote(params.dataset.target)} is not a column of ${dataFile} (columns: ${names.join(', ')}).${didYouMean(params.dataset.target, names)}`, { where: at(['dataset', 'target']) })
  }

  const requested = params.dataset.features
  requested.forEach((feature, i) => {
    if (!byName.has(feature)) {
      throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `feature ${quote(feature)} is not a column of ${dataFile}.${didYouMean(feature, names)}`, { where: at(['dataset', 'features', i]) })
    }
    if (feature === target.name) {
      throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `feature ${quote(feature)} is the target; a model cannot take its target as input`, { where: at(['dataset', 'features', i]), fix: 'Remove the target from dataset.features.' })
    }
  })
  const features = requested.length > 0 ? requested : names.filter((n) => n !== target.name)
  if (features.length === 0) {
    throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_COLUMN', `${dataFile} has no column besides the target ${quote(target.name)}`, { where: at(['dataset', 'features']) })
  }

  for (const name of features) {
    const column = byName.get(name)!
    if (column.numeric === 0 && column.text > 0) {
      const i = requested.indexOf(name)
      const example = column.example ? `: line ${column.example.line} has ${quote(column.example.value)}` : ''
      throw new MlskelError('MLSKEL_PARAMS_FEATURE_NOT_NUMERIC', `feature ${quote(name)} of ${dataFile} is text, not numbers${example}`, {
        where: at(i >= 0 ? ['dataset', 'features', i] : ['dataset', 'features']),
        fix: requested.length > 0 ? undefined : `List the numeric columns under dataset.features in params.yaml, leaving ${quote(name)} out.`,
      })
    }
  }

  if (params.task === 'regression' && target.text > 0 && target.numeric === 0) {
    const example = target.example ? ` (line ${target.example.line}: ${quote(target.example.value)})` : ''
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is regression but target ${quote(target.name)} holds text labels${example}; regression needs a numeric target`, { where: at(['task']), fix: 'Set task: classification, or choose a numeric target.' })
  }
  if (params.task === 'classification' && target.text === 0 && !target.integral && target.distinct > 20) {
    throw new MlskelError('MLSKEL_PARAMS_TASK_MISMATCH', `task is classification but target ${quote(target.name)} holds ${target.distinct} distinct fractional numbers; it looks continuous`, { where: at(['task']), fix: 'Set task: regression, or choose a target with a few labels.' })
  }
  return { target: target.name, features }
}
