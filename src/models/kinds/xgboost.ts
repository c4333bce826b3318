// The `xgboost` kind: models trained by XGBoost and saved in its JSON format (`save_model('m.json')`), predicted
// natively (engine/xgboost-trees.ts walks the trees in XGBoost's float32 arithmetic). A kind that loads, never
// trains. readXgboostModel makes one from a file alone, for `mlskel models import`; model.json keeps the file as
// XGBoost wrote it beside the signature, and the loader checks the two against each other.
import secureJson from 'secure-json-parse'
import { z } from 'zod'
import { MlskelError, quote, type ErrorCode, describeIssues } from '../../errors/index.js'
import { canonicalJson } from '../../json/index.js'
import type { Task } from '../../params/index.js'
import { withUncheckedRows } from '../contract/checked-rows.js'
import type { ModelKind } from '../contract/kinds.js'
import { signatureSchema } from '../contract/signature.js'
import type { FeatureImportance, FeatureSpec, ModelManifest, Predictor, Signature } from '../contract/types.js'
import { buildXgboostForest, XgboostWalker, type XgboostForest } from '../engine/xgboost-trees.js'
import { checkRows, threadsOf } from './common.js'

export const XGBOOST = 'xgboost'

/** The objectives mlskel predicts. */
export const XGBOOST_OBJECTIVES = ['binary:logistic', 'multi:softprob', 'multi:softmax', 'reg:squarederror', 'reg:logistic'] as const
export type XgboostObjective = (typeof XGBOOST_OBJECTIVES)[number]

/** A signature holds at most this many categories per feature (signatureSchema). */
const MAX_SIGNATURE_CATEGORIES = 255

// ---------------------------------------------------------------------------------------------------------------
// XGBoost's JSON, as far as prediction reads it (doc/model.schema in dmlc/xgboost). Objects are loose: fields that
// prediction does not need (sum_hessian, parents, base_weights, attributes …) pass through untouched.

/** XGBoost writes its parameters as strings ("3", "5E-1"). */
const intString = z.string().regex(/^\d+$/, 'a whole number, as a string')

const treeSchema = z.looseObject({
  tree_param: z.looseObject({ num_nodes: intString, size_leaf_vector: intString.optional() }),
  left_children: z.array(z.int()),
  right_children: z.array(z.int()),
  split_indices: z.array(z.int()),
  split_conditions: z.array(z.number().nullable()),
  default_left: z.array(z.union([z.int(), z.boolean()])),
  split_type: z.array(z.int()).optional(),
  loss_changes: z.array(z.number().nullable()).optional(),
  categories: z.array(z.int()).optional(),
  categories_nodes: z.array(z.int()).optional(),
  categories_segments: z.array(z.int()).optional(),
  categories_sizes: z.array(z.int()).optional(),
})

const gbtreeModelSchema = z.looseObject({
  gbtree_model_param: z.looseObject({ num_trees: intString, num_parallel_tree: intString.optional(), size_leaf_vector: intString.optional() }),
  trees: z.array(treeSchema),
  tree_info: z.array(z.int()),
})

/** The learner, before the booster's trees are read (a gblinear or dart model is refused by name first). */
const learnerSchema = z.looseObject({
  version: z.tuple([z.int(), z.int(), z.int()]),
  learner: z.looseObject({
    feature_names: z.array(z.string()).optional(),
    feature_types: z.array(z.string()).optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    gradient_booster: z.looseObject({ name: z.string(), model: z.unknown().optional() }),
    learner_model_param: z.looseObject({ base_score: z.string(), num_class: intString, num_feature: intString, num_target: intString.optional() }),
    objective: z.looseObject({ name: z.string() }),
  }),
})

type LearnerJson = z.output<typeof learnerSchema>
type GbtreeModel = z.output<typeof gbtreeModelSchema>

/** What model.json holds for this kind (besides the store's envelope): the signature, and XGBoost's file as it was. */
interface XgboostModelJson {
  signature: Signature
  xgboost: unknown
}

const modelJsonSchema = z.object({ signature: signatureSchema, xgboost: z.unknown() })

// ---------------------------------------------------------------------------------------------------------------
// Errors: the same checks serve an import (a file from elsewhere) and a load (a saved model.json); what differs is
// the code of a damaged structure (MLSKEL_XGBOOST_MALFORMED for a file, MLSKEL_MODEL_CORRUPT for a saved model).

interface Context {
  /** Code for a structure that cannot be read. */
  malformed: Extract<ErrorCode, 'MLSKEL_XGBOOST_MALFORMED' | 'MLSKEL_MODEL_CORRUPT'>
  /** "the XGBoost model" or "model 0123…". */
  what: string
  file: string
  /** Where the XGBoost JSON sits in the file ('' for a file of XGBoost's, 'xgboost.' in model.json). */
  prefix: string
}

function malformed(c: Context, why: string, field: string): MlskelError {
  return new MlskelError(c.malformed, `${c.what}: ${why}`, { where: { file: c.file, field: `${c.prefix}${field}` } })
}

function unsupported(c: Context, why: string, field: string, fix?: string): MlskelError {
  return new MlskelError('MLSKEL_XGBOOST_UNSUPPORTED', `${c.what}: ${why}`, { where: { file: c.file, field: `${c.prefix}${field}` }, ...(fix ? { fix } : {}) })
}

function zodProblem(c: Context, error: z.ZodError, where = ''): MlskelError {
  const problem = describeIssues(error)
  const field = [where, problem.field].filter(Boolean).join('.')
  return malformed(c, `not an XGBoost JSON model (${c.prefix}${where ? `${where}.` : ''}${problem.text})`, field)
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a model

/**
 * XGBoost's JSON as data. XGBoost writes a categorical split's condition as a bare NaN (and would write infinities
 * as Infinity), which JSON has not: they are read as null, as JSON.stringify would write them. Keys that would
 * reach an object's prototype (__proto__, constructor.prototype) are refused: no XGBoost file has them.
 */
function parseXgboostText(text: string, c: Context): unknown {
  const source = /NaN|Infinity/.test(text) ? nonFiniteToNull(text) : text
  try {
    return secureJson.parse(source, null, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    throw malformed(c, `not JSON (${(error as Error).message})`, '')
  }
}

/** `text` with NaN, Infinity and -Infinity outside strings replaced by null. */
function nonFiniteToNull(text: string): string {
  let out = ''
  let last = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c) i++ // a backslash: the next character is escaped
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) {
      inString = true
    } else if (ch === 0x4e && text.startsWith('NaN', i)) {
      out += `${text.slice(last, i)}null`
      last = i + 3
      i += 2
    } else if (ch === 0x49 && text.startsWith('Infinity', i)) {
      const start = text.charCodeAt(i - 1) === 0x2d ? i - 1 : i // -Infinity
      out += `${text.slice(last, start)}null`
      last = i + 8
      i += 7
    }
  }
  return out + text.slice(last)
}

/** What an XGBoost file says about itself, checked: objective, outputs, base margin, trees. */
interface XgboostModel {
  objective: XgboostObjective
  task: Task
  version: string
  /** Margins per row: the classes of a multi-class model, else 1. */
  groups: number
  features: number
  featureNames: string[] | null
  featureTypes: string[] | null
  forest: XgboostForest
  /** Per feature: summed loss change of its splits, and their number. */
  gain: number[]
  splits: number[]
  /** Per feature: the largest category a categorical split names (-1: none). */
  maxCategory: number[]
  warnings: string[]
}

function readLearner(json: unknown, c: Context): XgboostModel {
  const parsed = learnerSchema.safeParse(json)
  if (!parsed.success) throw zodProblem(c, parsed.error)
  const { version, learner } = parsed.data
  const versionText = version.join('.')
  // 1.x and 2.x write this format; 3.x writes a base score per output ("[…]"), which is not read here
  if (version[0] < 1 || version[0] > 2) throw unsupported(c, `it was saved by XGBoost ${versionText}; mlskel reads the JSON models of XGBoost 1.x and 2.x`, 'version', 'Save the model with XGBoost 1.x or 2.x (`booster.save_model("model.json")`).')
  const booster = learner.gradient_booster.name
  if (booster !== 'gbtree') {
    throw unsupported(c, `its booster is ${quote(booster)}; mlskel predicts gbtree boosters only`, 'learner.gradient_booster.name', 'Train with booster="gbtree" (the default), or serve the model with XGBoost itself.')
  }
  const objective = learner.objective.name
  if (!(XGBOOST_OBJECTIVES as readonly string[]).includes(objective)) {
    throw unsupported(c, `its objective is ${quote(objective)}; mlskel predicts ${XGBOOST_OBJECTIVES.join(', ')}`, 'learner.objective.name', `Train with one of ${XGBOOST_OBJECTIVES.join(', ')}, or serve the model with XGBoost itself.`)
  }
  const param = learner.learner_model_param
  if (param.num_target !== undefined && param.num_target !== '1') {
    throw unsupported(c, `it has ${param.num_target} targets; mlskel predicts models of one target`, 'learner.learner_model_param.num_target')
  }
  const model = gbtreeModelSchema.safeParse(learner.gradient_booster.model)
  if (!model.success) throw zodProblem(c, model.error, 'learner.gradient_booster.model')
  const gbtree = model.data
  const numClass = Number(param.num_class)
  const multi = objective.startsWith('multi:')
  if (multi && numClass < 2) throw malformed(c, `objective ${objective} with num_class ${numClass}`, 'learner.learner_model_param.num_class')
  if (!multi && numClass > 1) throw malformed(c, `objective ${objective} with num_class ${numClass}`, 'learner.learner_model_param.num_class')
  const groups = multi ? numClass : 1
  const features = Number(param.num_feature)
  if (features < 1) throw malformed(c, 'num_feature is 0', 'learner.learner_model_param.num_feature')
  const names = learner.feature_names?.length ? learner.feature_names : null
  const types = learner.feature_types?.length ? learner.feature_types : null
  if (names && names.length !== features) throw malformed(c, `${names.length} feature names for ${features} features`, 'learner.feature_names')
  if (types && types.length !== features) throw malformed(c, `${types.length} feature types for ${features} features`, 'learner.feature_types')
  for (const [i, type] of (types ?? []).entries()) {
    if (!['q', 'c', 'i', 'int', 'float'].includes(type)) throw unsupported(c, `feature ${i} has type ${quote(type)}; mlskel knows q, float, int, i and c`, `learner.feature_types.${i}`)
  }
  const trees = gbtree.trees
  const modelField = 'learner.gradient_booster.model'
  if (Number(gbtree.gbtree_model_param.num_trees) !== trees.length) throw malformed(c, `num_trees is ${gbtree.gbtree_model_param.num_trees} but it holds ${trees.length} trees`, `${modelField}.gbtree_model_param.num_trees`)
  if (gbtree.tree_info.length !== trees.length) throw malformed(c, `${gbtree.tree_info.length} tree_info entries for ${trees.length} trees`, `${modelField}.tree_info`)
  for (const [t, tree] of trees.entries()) {
    if (tree.tree_param.size_leaf_vector !== undefined && tree.tree_param.size_leaf_vector !== '0') {
      throw unsupported(c, `tree ${t} has vector leaves (size_leaf_vector ${tree.tree_param.size_leaf_vector}); mlskel predicts trees of one value per leaf`, `${modelField}.trees.${t}.tree_param.size_leaf_vector`)
    }
    if (Number(tree.tree_param.num_nodes) !== tree.left_children.length) throw malformed(c, `tree ${t} has num_nodes ${tree.tree_param.num_nodes} but ${tree.left_children.length} nodes`, `${modelField}.trees.${t}.tree_param.num_nodes`)
  }
  const base = baseMargin(objective as XgboostObjective, param.base_score, c)
  const forest = buildXgboostForest(trees, gbtree.tree_info, { features, groups, base: Array.from({ length: groups }, () => base) }, (why, field) => {
    throw malformed(c, why, `${modelField}.${field}`)
  })
  const { gain, splits, maxCategory } = splitStatistics(gbtree, features)
  return {
    objective: objective as XgboostObjective,
    task: objective.startsWith('reg:') ? 'regression' : 'classification',
    version: versionText,
    groups,
    features,
    featureNames: names,
    featureTypes: types,
    forest,
    gain,
    splits,
    maxCategory,
    warnings: iterationWarnings(learner, gbtree, groups),
  }
}

/**
 * The margin every row starts from. XGBoost 1.x keeps base_score as the user sees it ("5E-1"; XGBoost 2 may write
 * "[5E-1]"), as a float32, and starts a logistic objective's margins at its logit, computed in float32 as its
 * ProbToMargin does: -log(1 / p - 1).
 */
function baseMargin(objective: XgboostObjective, text: string, c: Context): number {
  const field = 'learner.learner_model_param.base_score'
  const inner = text.replace(/^\[(.*)\]$/, '$1')
  if (inner.includes(',')) throw unsupported(c, `base_score ${quote(text)} holds a base score per output; mlskel reads one`, field)
  const value = Number(inner)
  if (!Number.isFinite(value)) throw malformed(c, `base_score ${quote(text)} is not a number`, field)
  const p = Math.fround(value)
  if (objective === 'binary:logistic' || objective === 'reg:logistic') {
    if (!(p > 0 && p < 1)) throw malformed(c, `base_score ${quote(text)} is not inside (0, 1), as a logistic objective needs`, field)
    return Math.fround(-Math.log(Math.fround(Math.fround(1 / p) - 1)))
  }
  return p
}

/** Gain (loss_changes) and number of splits per feature, and the largest category of each feature's splits. */
function splitStatistics(gbtree: GbtreeModel, features: number): { gain: number[]; splits: number[]; maxCategory: number[] } {
  const gain = new Array<number>(features).fill(0)
  const splits = new Array<number>(features).fill(0)
  const maxCategory = new Array<number>(features).fill(-1)
  for (const tree of gbtree.trees) {
    // the nodes the root reaches (a pruned tree keeps its deleted nodes in the arrays)
    const stack = [0]
    while (stack.length > 0) {
      const i = stack.pop()!
      if (tree.left_children[i] === -1) continue
      const f = tree.split_indices[i]!
      gain[f]! += tree.loss_changes?.[i] ?? 0
      splits[f]!++
      stack.push(tree.left_children[i]!, tree.right_children[i]!)
    }
    const nodes = tree.categories_nodes ?? []
    nodes.forEach((node, k) => {
      const f = tree.split_indices[node]!
      const start = tree.categories_segments![k]!
      for (const category of tree.categories!.slice(start, start + tree.categories_sizes![k]!)) maxCategory[f] = Math.max(maxCategory[f]!, category)
    })
  }
  return { gain, splits, maxCategory }
}

/** The file says training stopped early at a best iteration before its last: prediction uses every tree, as Booster.predict does. */
function iterationWarnings(learner: LearnerJson['learner'], gbtree: GbtreeModel, groups: number): string[] {
  const best = learner.attributes?.best_iteration
  const perIteration = groups * Number(gbtree.gbtree_model_param.num_parallel_tree ?? '1')
  const iterations = perIteration > 0 ? Math.floor(gbtree.trees.length / perIteration) : 0
  if (best === undefined || !/^\d+$/.test(best) || Number(best) + 1 >= iterations) return []
  return [
    `the model's best_iteration is ${best} of ${iterations} iterations (early stopping): mlskel predicts with all ${iterations}, as XGBoost's Booster.predict does, where XGBClassifier/XGBRegressor.predict would stop at iteration ${Number(best) + 1}; save the model after training with only the best iterations to serve those`,
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// Signature

export interface ReadXgboostOptions {
  /** The features' names, in XGBoost's feature order, for a file without feature_names (default f0 … fn-1). */
  featureNames?: string[]
  /** A classifier's class labels, in XGBoost's class order (default 0 … k-1). */
  classes?: (string | number)[]
  /** The target's name (default "target"). */
  target?: string
  /** A categorical feature's categories in code order, by feature name (default its codes 0 … the largest a split names). */
  categories?: Record<string, (string | number)[]>
  /**
   * The whole signature instead (none of the options above with it): checked against the file as a saved model's is
   * (as many features, the file's names, categories for its categorical splits, the objective's target), then kept as
   * it is, with what it adds (datetime parts, folded categories, how text is read). `mlskel models import` gives the
   * project's, when the file fits it.
   */
  signature?: Signature
}

export interface ReadXgboostResult {
  predictor: Predictor
  signature: Signature
  objective: XgboostObjective
  task: Task
  /** The producing tool and version, as the file states them. */
  producer: { tool: 'xgboost'; version: string }
  /** Whether the file names its features (feature_names); if not, the names are given or f0 … fn-1. */
  named: boolean
  /** Whether the file names its classes: never, for XGBoost (its classes are 0 … k-1). */
  labelled: false
}

function mismatch(why: string, field: string): MlskelError {
  return new MlskelError('MLSKEL_XGBOOST_SIGNATURE_MISMATCH', `the XGBoost model: ${why}`, { where: { field } })
}

/** The signature of a file of XGBoost's: its feature names and types, the target the objective implies. */
function signatureOf(m: XgboostModel, o: ReadXgboostOptions, c: Context): Signature {
  if (o.signature) {
    const others = (['featureNames', 'classes', 'target', 'categories'] as const).filter((key) => o[key] !== undefined)
    if (others.length > 0) throw mismatch(`a signature was given, and ${others.join(', ')} beside it; the signature says them`, others[0]!)
    const parsed = signatureSchema.safeParse(o.signature)
    if (!parsed.success) throw mismatch(`the signature given is not one (${describeIssues(parsed.error).text})`, 'signature')
    const signature = structuredClone(parsed.data) as Signature
    checkSignature(m, signature, c)
    return signature
  }
  if (o.featureNames && o.featureNames.length !== m.features) throw mismatch(`${o.featureNames.length} feature names given for the model's ${m.features} features`, 'featureNames')
  if (o.featureNames && m.featureNames) {
    const at = o.featureNames.findIndex((name, i) => name !== m.featureNames![i])
    if (at >= 0) throw mismatch(`feature ${at} is ${quote(m.featureNames[at])} in the file, but ${quote(o.featureNames[at])} was given; the file's names are the model's`, 'featureNames')
  }
  const names = m.featureNames ?? o.featureNames ?? Array.from({ length: m.features }, (_, i) => `f${i}`)
  if (new Set(names).size !== names.length) throw mismatch(`feature names repeat (${names.join(', ')})`, 'featureNames')
  for (const name of Object.keys(o.categories ?? {})) if (!names.includes(name)) throw mismatch(`categories are given for ${quote(name)}, which is not a feature`, `categories.${name}`)
  const features: FeatureSpec[] = names.map((name, i) => {
    const type = m.featureTypes?.[i]
    const given = o.categories?.[name]
    if (type === 'c' || m.maxCategory[i]! >= 0) {
      const codes = m.maxCategory[i]! + 1
      if (given) {
        if (given.length < codes) throw mismatch(`feature ${quote(name)} has ${given.length} categories given, but a split names category ${codes - 1}`, `categories.${name}`)
        if (given.length > MAX_SIGNATURE_CATEGORIES) throw mismatch(`feature ${quote(name)} has ${given.length} categories; a signature holds at most ${MAX_SIGNATURE_CATEGORIES}`, `categories.${name}`)
        return { name, type: 'category', categories: [...given] }
      }
      if (codes > MAX_SIGNATURE_CATEGORIES) {
        throw new MlskelError('MLSKEL_XGBOOST_UNSUPPORTED', `the XGBoost model: a split of feature ${quote(name)} names category ${codes - 1}; mlskel's signatures hold at most ${MAX_SIGNATURE_CATEGORIES} categories`, { where: { field: 'learner.gradient_booster.model.trees' } })
      }
      return { name, type: 'category', categories: Array.from({ length: Math.max(1, codes) }, (_, k) => k) }
    }
    if (given) throw mismatch(`categories are given for ${quote(name)}, which the model takes as a number`, `categories.${name}`)
    return type === 'i' ? { name, type: 'boolean' } : { name, type: 'number' }
  })
  const target = o.target ?? 'target'
  if (m.task === 'regression') {
    if (o.classes) throw mismatch(`classes are given, but its objective ${m.objective} is a regression`, 'classes')
    return { features, target: { name: target, type: 'number' } }
  }
  const k = m.groups === 1 ? 2 : m.groups
  const classes = o.classes ?? Array.from({ length: k }, (_, i) => i)
  if (classes.length !== k) throw mismatch(`${classes.length} classes given for the model's ${k}`, 'classes')
  if (new Set(classes).size !== k) throw mismatch(`class labels repeat (${classes.join(', ')})`, 'classes')
  return { features, target: { name: target, type: 'category', classes: [...classes] } }
}

/** A saved model's signature must describe its XGBoost file: the features in XGBoost's order, the target its objective's. */
function checkSignature(m: XgboostModel, signature: Signature, c: Context): void {
  // a saved model's signature that does not fit is a damaged model; a signature given for a file, a mismatch
  const code = c.malformed === 'MLSKEL_MODEL_CORRUPT' ? c.malformed : 'MLSKEL_XGBOOST_SIGNATURE_MISMATCH'
  const fail = (why: string, field: string) => new MlskelError(code, `${c.what}: ${code === 'MLSKEL_MODEL_CORRUPT' ? 'its signature' : 'the signature given'} does not fit its XGBoost model (${why})`, { where: { ...(c.file ? { file: c.file } : {}), field } })
  if (signature.features.length !== m.features) throw fail(`${signature.features.length} features for XGBoost's ${m.features}`, 'signature.features')
  signature.features.forEach((f, i) => {
    if (m.featureNames && m.featureNames[i] !== f.name) throw fail(`feature ${i} is ${quote(f.name)}, XGBoost's is ${quote(m.featureNames[i])}`, `signature.features.${i}.name`)
    if (m.maxCategory[i]! >= 0 && (f.type !== 'category' || f.categories.length <= m.maxCategory[i]!)) {
      throw fail(`feature ${quote(f.name)} has categorical splits up to category ${m.maxCategory[i]}, but the signature has ${f.type === 'category' ? `${f.categories.length} categories` : `it as a ${f.type}`}`, `signature.features.${i}`)
    }
  })
  const k = m.groups === 1 ? 2 : m.groups
  if (m.task === 'regression' ? signature.target.type !== 'number' : signature.target.type !== 'category' || signature.target.classes.length !== k) {
    throw fail(`objective ${m.objective} predicts ${m.task === 'regression' ? 'a number' : `${k} classes`}`, 'signature.target')
  }
}

/**
 * A predictor of the `xgboost` kind from an XGBoost JSON model alone (the file's text or bytes, or its parsed
 * content): feature names from the file (or `featureNames`, or f0 … fn-1), the task from its objective, classes
 * 0 … k-1 unless given. A model mlskel cannot predict is refused with MLSKEL_XGBOOST_UNSUPPORTED, a damaged one with
 * MLSKEL_XGBOOST_MALFORMED, options that do not fit the file with MLSKEL_XGBOOST_SIGNATURE_MISMATCH.
 */
export function readXgboostModel(file: string | Uint8Array | object, o: ReadXgboostOptions = {}): ReadXgboostResult {
  const c: Context = { malformed: 'MLSKEL_XGBOOST_MALFORMED', what: 'the XGBoost model', file: '', prefix: '' }
  // as model.json will hold it: plain JSON (a NaN that was parsed elsewhere becomes null, as in parseXgboostText)
  const json = typeof file === 'string' ? parseXgboostText(file, c) : file instanceof Uint8Array ? parseXgboostText(Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString('utf8'), c) : (JSON.parse(JSON.stringify(file)) as unknown)
  const m = readLearner(json, c)
  const signature = signatureOf(m, o, c)
  const predictor = makePredictor({ signature, xgboost: json }, m)
  return { predictor, signature, objective: m.objective, task: m.task, producer: { tool: 'xgboost', version: m.version }, named: m.featureNames !== null, labelled: false }
}

/**
 * Whether a saved xgboost model.json holds this file of XGBoost's: the same JSON, value for value (model.json keeps
 * it parsed, so its bytes differ from the file's). For `mlskel runs verify` of an imported model.
 */
function holdsXgboostFile(json: unknown, file: Uint8Array): boolean {
  const saved = (json as { xgboost?: unknown } | null)?.xgboost
  if (saved === undefined) return false
  const c: Context = { malformed: 'MLSKEL_XGBOOST_MALFORMED', what: 'the XGBoost model', file: '', prefix: '' }
  let parsed: unknown
  try {
    parsed = parseXgboostText(Buffer.from(file.buffer, file.byteOffset, file.byteLength).toString('utf8'), c)
  } catch {
    return false
  }
  return canonicalJson(parsed) === canonicalJson(saved)
}

export function loadXgboost(json: unknown, manifest: ModelManifest): Predictor {
  const c: Context = { malformed: 'MLSKEL_MODEL_CORRUPT', what: `model ${manifest.id}`, file: 'model.json', prefix: 'xgboost.' }
  const parsed = modelJsonSchema.safeParse(json)
  if (!parsed.success) {
    const { field, text } = describeIssues(parsed.error)
    throw new MlskelError('MLSKEL_MODEL_CORRUPT', `model ${manifest.id}: model.json is not an ${XGBOOST} model (${text})`, { where: { file: 'model.json', field } })
  }
  // a copy of its own, so that nothing the caller still holds can change it
  const data = structuredClone(parsed.data) as XgboostModelJson
  const m = readLearner(data.xgboost, c)
  checkSignature(m, data.signature, c)
  return makePredictor(data, m)
}

// ---------------------------------------------------------------------------------------------------------------
// The predictor

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))

/** Each xgboost predictor's margin function (the Predictor contract has no place for margins). */
const marginsOf = new WeakMap<Predictor, (X: readonly (readonly number[])[]) => Float32Array>()

/**
 * The margins of rows, [r * k + class] (k: a multi-class model's classes, else 1), before the objective's transform:
 * XGBoost's `predict(..., output_margin=True)`, to the bit. For an `xgboost` predictor only.
 */
export function xgboostMargins(predictor: Predictor, X: readonly (readonly number[])[]): Float32Array {
  const margins = marginsOf.get(predictor)
  if (!margins) throw new TypeError(`xgboostMargins takes a predictor of kind ${XGBOOST}, not ${predictor.kind}`)
  return margins(X)
}

/** The predictor of a checked model; `frozen` is its own from here on (toJSON gives copies). */
function makePredictor(frozen: XgboostModelJson, m: XgboostModel): Predictor {
  const { signature } = frozen
  const { forest, objective } = m
  const K = m.groups
  const F = m.features
  const classes = signature.target.type === 'category' ? signature.target.classes : null
  // per feature: its number of categories (a code outside them is missing), 0 for other features
  const categoryCounts = Int32Array.from(signature.features, (f) => (f.type === 'category' ? f.categories.length : 0))
  const hasCategories = categoryCounts.some((k) => k > 0)

  const walker = new XgboostWalker(forest)
  /** Rows as float32, row-major (XGBoost's input type), a category code the signature does not hold made missing. */
  const rowsOf = (X: readonly (readonly number[])[]) => (rows: Float32Array): void => {
    for (let r = 0; r < X.length; r++) {
      const row = X[r]!
      const at = r * F
      for (let f = 0; f < F; f++) rows[at + f] = row[f]!
      if (hasCategories) {
        for (let f = 0; f < F; f++) {
          const k = categoryCounts[f]!
          const v = row[f]!
          if (k > 0 && !(Number.isInteger(v) && v >= 0 && v < k)) rows[at + f] = Number.NaN
        }
      }
    }
  }
  /** Margins of rows, [r * K + k]: float32, XGBoost's to the bit. */
  const margins = (X: readonly (readonly number[])[]): Float32Array => {
    checkRows(signature, X)
    return checkedMargins(X)
  }
  /** The same, for rows checked against the signature already (CheckedRows). */
  const checkedMargins = (X: readonly (readonly number[])[]): Float32Array => walker.sums(X.length, rowsOf(X))
  const classIndex = (raw: Float32Array, r: number): number => {
    if (K === 1) return sigmoid(raw[r]!) > 0.5 ? 1 : 0
    let best = 0
    for (let k = 1; k < K; k++) if (raw[r * K + k]! > raw[r * K + best]!) best = k
    return best
  }
  const probabilities = (raw: Float32Array, r: number): number[] => {
    if (K === 1) {
      const p = sigmoid(raw[r]!)
      return [1 - p, p]
    }
    let max = -Infinity
    for (let k = 0; k < K; k++) max = Math.max(max, raw[r * K + k]!)
    const out = new Array<number>(K)
    let sum = 0
    for (let k = 0; k < K; k++) sum += out[k] = Math.exp(raw[r * K + k]! - max)
    for (let k = 0; k < K; k++) out[k]! /= sum
    return out
  }
  const values = (raw: Float32Array, n: number): (string | number)[] => {
    const out = new Array<string | number>(n)
    if (classes) for (let r = 0; r < n; r++) out[r] = classes[classIndex(raw, r)]!
    else if (objective === 'reg:logistic') for (let r = 0; r < n; r++) out[r] = sigmoid(raw[r]!)
    else for (let r = 0; r < n; r++) out[r] = raw[r]!
    return out
  }
  const importances: FeatureImportance[] = (() => {
    const total = m.gain.reduce((a, b) => a + b, 0)
    return signature.features.map((f, i) => ({ feature: f.name, gain: total > 0 ? m.gain[i]! / total : 0, splits: m.splits[i]! }))
  })()
  const predictor: Predictor = {
    kind: XGBOOST,
    signature,
    warnings: m.warnings,
    toJSON: () => structuredClone(frozen),
    importances: () => structuredClone(importances),
    predict: (X) => values(margins(X), X.length),
    ...(classes
      ? {
          predictProba(X: number[][]) {
            const raw = margins(X)
            return Array.from({ length: X.length }, (_, r) => probabilities(raw, r))
          },
        }
      : {}),
    async predictBatch(X, o = {}) {
      checkRows(signature, X)
      const n = X.length
      const raw = await walker.sumsInParallel(n, rowsOf(X), threadsOf(o.threads ?? null, true))
      const predictions = values(raw, n)
      if (!classes || !o.probabilities) return { predictions }
      return { predictions, probabilities: Array.from({ length: n }, (_, r) => probabilities(raw, r)) }
    },
  }
  marginsOf.set(predictor, margins)
  return withUncheckedRows(predictor, {
    predict: (X) => values(checkedMargins(X), X.length),
    ...(classes
      ? {
          predictProba(X) {
            const raw = checkedMargins(X)
            return Array.from({ length: X.length }, (_, r) => probabilities(raw, r))
          },
        }
      : {}),
  })
}

export const xgboostKind: ModelKind = {
  name: XGBOOST,
  load: loadXgboost,
  holdsFile: holdsXgboostFile,
  describe: (task) => (task === 'classification' ? 'XGBoost classifier' : 'XGBoost regressor'),
}
