// Model kinds: what each kind brings (its hyper-parameters' schema, a trainer, a loader that rebuilds a predictor
// from its model.json) and the one registry that params.yaml validation, training and loading all read. mlskel's
// own kinds register here like a project's would (models/index.ts).
import { z } from 'zod'
import { didYouMean, MlskelError, quote, fieldPath } from '../../errors/index.js'
import type { Task } from '../../params/index.js'
import { PARAMS_FILE } from '../../project/files.js'
import type { Dataset, ModelManifest, Predictor, Signature } from './types.js'

export type ModelLoader = (json: unknown, manifest: ModelManifest) => Predictor

export interface TrainingProgress {
  done: number
  total: number
  unit: 'iterations' | 'trees'
  elapsedMs: number
}

export interface TrainInput<H = Record<string, unknown>> {
  task: Task
  /** Parsed by the kind's schema: defaults filled. */
  hyperParameters: H
  seed: number
  signature: Signature
  data: Dataset
  /** Called as training goes (after each tree or iteration). */
  onProgress?: (progress: TrainingProgress) => void
}

export interface ModelKind<S extends z.ZodObject = z.ZodObject> {
  /** `model.type` in params.yaml, and `kind` in a saved model's manifest. */
  name: string
  /** The hyper-parameters params.yaml's `model:` takes for this kind (`type` aside), with their defaults. */
  params?: S
  train?: (o: TrainInput<z.output<S>>) => Promise<Predictor>
  /** Rebuild a predictor from its model.json: plain data, never code. */
  load: ModelLoader
  /** In words, for a model's description: e.g. 'gradient boosting classifier'. */
  describe?: (task: Task) => string
  /**
   * A kind that loads files made elsewhere (xgboost, onnx): whether a saved model's model.json holds this file, as
   * it was imported. `mlskel runs verify` asks it of an imported model.
   */
  holdsFile?: (json: unknown, file: Uint8Array) => boolean
}

/** What params.yaml trains when `model:` says nothing else. */
export const DEFAULT_MODEL_TYPE = 'gradient_boosting'

const kinds = new Map<string, ModelKind>()

/**
 * Teach mlskel a model kind: its loader, and for a kind that trains, its hyper-parameters' schema and trainer
 * (params.yaml's `model: {type: <name>, ...}` then validates against it). Registering a name again replaces it.
 * `registerModelKind(name, load)` registers a kind that is only loaded and served.
 */
export function registerModelKind(kind: ModelKind): void
export function registerModelKind(name: string, load: ModelLoader): void
export function registerModelKind(kindOrName: ModelKind | string, load?: ModelLoader): void {
  const kind = typeof kindOrName === 'string' ? { name: kindOrName, load: load! } : kindOrName
  if (!kind.name) throw new TypeError('a model kind needs a name')
  if (typeof kind.load !== 'function') throw new TypeError(`model kind ${kind.name}: load must be a function`)
  if (kind.train && !kind.params) throw new TypeError(`model kind ${kind.name}: a kind that trains needs its params schema`)
  kinds.set(kind.name, kind as unknown as ModelKind)
}

export function modelKind(name: string): ModelKind | undefined {
  return kinds.get(name)
}

export function registeredModelKinds(): string[] {
  return [...kinds.keys()].sort()
}

/** The kinds params.yaml can train. */
export function trainableModelKinds(): string[] {
  return registeredModelKinds().filter((name) => kinds.get(name)!.train)
}

/**
 * The schema of params.yaml's `model:`: one object per trainable kind, told apart by `type` (absent: the default
 * kind). Built from the registry when called, so a project's own kind is in it once registered.
 */
export function modelParamsSchema(): z.ZodType<{ type: string } & Record<string, unknown>> {
  const names = trainableModelKinds()
  const options = names.map((name) => {
    // an absent `type` is the default kind's
    const type = name === DEFAULT_MODEL_TYPE ? z.literal(name).default(name) : z.literal(name)
    return kinds.get(name)!.params!.extend({ type: type.describe('the model kind') }).describe(`${name} hyper-parameters`)
  })
  if (options.length === 0) return z.looseObject({ type: z.string() }) as never
  return z.discriminatedUnion('type', options as unknown as [z.ZodObject<{ type: z.ZodLiteral<string> }>], {
    error: (issue) => (issue.code === 'invalid_union' ? `model.type must be one of ${names.join(', ')}` : undefined),
  }) as never
}

/** The schema of one kind's hyper-parameters (its params, `type` aside), or a coded error for an unknown kind. */
function trainableKind(type: unknown): ModelKind & { params: z.ZodObject; train: NonNullable<ModelKind['train']> } {
  const name = typeof type === 'string' ? type : DEFAULT_MODEL_TYPE
  const kind = kinds.get(name)
  if (!kind?.train || !kind.params) {
    const known = trainableModelKinds()
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `model.type ${quote(type)} is not a model kind mlskel can train (known: ${known.join(', ') || 'none'}).${didYouMean(String(type), known)}`, {
      where: { file: PARAMS_FILE, field: 'model.type' },
    })
  }
  return kind as never
}

/** Parse a kind's hyper-parameters: coded errors name the key, the value and what it allows. */
export function parseHyperParameters(model: { type?: unknown } & Record<string, unknown>): { kind: ModelKind; hyperParameters: Record<string, unknown> } {
  const kind = trainableKind(model.type)
  const { type: _type, ...rest } = model
  const parsed = kind.params.safeParse(rest)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = fieldPath(['model', ...issue.path])
    const value = issue.path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined), rest)
    const known = Object.keys(kind.params.shape)
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!
      const suggestion = didYouMean(key, known) || kindHint(kind.name, key)
      throw new MlskelError('MLSKEL_PARAMS_INVALID', `model.${key}: ${kind.name} has no hyper-parameter ${quote(key)}.${suggestion}`, { where: { file: PARAMS_FILE, field: `model.${key}` } })
    }
    // what the key takes, as its schema describes it
    const described = kind.params.shape[String(issue.path[0])]?.description
    throw new MlskelError('MLSKEL_PARAMS_INVALID', `${field}: ${issue.message} (got ${quote(value)})${described ? `; it takes ${described}` : ''}`, { where: { file: PARAMS_FILE, field } })
  }
  return { kind, hyperParameters: parsed.data as Record<string, unknown> }
}

/**
 * For a hyper-parameter `key` that kind `type` lacks but other kinds take (n_estimators under gradient_boosting):
 * " It is a hyper-parameter of random_forest, …", else ''.
 */
export function kindHint(type: string, key: string): string {
  const owners = trainableModelKinds().filter((name) => name !== type && Object.hasOwn(kinds.get(name)!.params!.shape, key))
  if (owners.length === 0) return ''
  return ` It is a hyper-parameter of ${owners.join(' and ')}, not of ${type}: set model.type: ${owners[0]} to train that kind, or remove it.`
}

/**
 * Train the kind `model.type` names (params.yaml's `model:`; absent type: the default kind) with the rest of
 * `model` as its hyper-parameters.
 */
export async function trainModel(o: Omit<TrainInput, 'hyperParameters'> & { model: { type?: string } & Record<string, unknown> }): Promise<Predictor> {
  const { kind, hyperParameters } = parseHyperParameters(o.model)
  return kind.train!({ task: o.task, hyperParameters, seed: o.seed, signature: o.signature, data: o.data, ...(o.onProgress ? { onProgress: o.onProgress } : {}) })
}

/** "gradient boosting classifier", or the kind's name when it does not say. */
export function describeKind(type: string | undefined, task: Task): string {
  const kind = kinds.get(type ?? DEFAULT_MODEL_TYPE)
  return kind?.describe?.(task) ?? `${type ?? DEFAULT_MODEL_TYPE} ${task === 'classification' ? 'classifier' : 'regressor'}`
}
