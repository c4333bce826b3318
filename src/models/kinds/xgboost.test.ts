// xgboost: models trained by XGBoost, predicted natively. Always: hand-written models prove the walk in XGBoost's
// arithmetic (float32 thresholds and sums, default directions, category sets, base scores) and every refusal. With
// XGBoost (/usr/bin/python3 with Debian's python3-xgboost): models that XGBoost trains in this run
// (scripts/fixtures/xgboost_models.py) predicted as XGBoost predicts them, and the model contract suite with
// XGBoost as the trainer. CI installs XGBoost (.ci/run), and there its absence fails this file; elsewhere those
// parts skip, saying what to install.
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashBytes } from '../../hashing/index.js'
import { canonicalJson } from '../../json/index.js'
import { runModelContract, type ContractTrainInput } from '../contract/test-contract.js'
import { loadSavedModel, readXgboostModel, saveModel, xgboostMargins, type Predictor } from '../index.js'
import { classesOf, featureKinds, toProblem } from './common.js'
import { xgbModel, type Node } from './test-xgboost.js'
import { errorOf } from '../../errors/test-errors.js'
import { PYTHON, PythonBatch } from '../../../bench/python-batch.js'

const SCRIPT = fileURLToPath(new URL('../../../scripts/fixtures/xgboost_models.py', import.meta.url))
const INSTALL = 'apt-get install python3-xgboost'
const run = promisify(execFile)

/** Why XGBoost cannot be run here (with what to install), or undefined. Finds the modules without importing them (~1 s). */
function probeXgboost(): string | undefined {
  const find = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('numpy') and u.find_spec('xgboost') else 1)"
  const result = spawnSync(PYTHON, ['-c', find], { encoding: 'utf8', timeout: 60_000 })
  if (result.status === 0) return undefined
  return `${result.error ? `${PYTHON} could not be run (${result.error.message})` : `${PYTHON} has no xgboost`}; install it with \`${INSTALL}\``
}

const missing = probeXgboost()
const onCi = Boolean(process.env.CI)
if (missing && !onCi) console.warn(`skipping the comparison with XGBoost and the xgboost contract suite: ${missing}`)

// ---------------------------------------------------------------------------------------------------------------
// Hand-written XGBoost models (./test-xgboost.ts)

/** The model's trees, to damage a copy. */
function treesIn(model: Record<string, unknown>): Record<string, unknown[]>[] {
  return ((model.learner as { gradient_booster: { model: { trees: Record<string, unknown[]>[] } } }).gradient_booster.model.trees)
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
/** A stump on feature f at threshold t: left and right leaves. */
const stump = (f: number, t: number, left: number, right: number, defaultLeft = false): Node => ({ f, t, left: { leaf: left }, right: { leaf: right }, defaultLeft })

describe('the xgboost kind, on hand-written models', () => {
  it('sends a value left when float32(x) < the float32 threshold, as XGBoost compares', () => {
    const t = Math.fround(0.1) // 0.100000001490116…, above the double 0.1
    const { predictor } = readXgboostModel(xgbModel({ trees: [stump(0, t, -1, 1)], baseScore: '0' }))
    // in doubles 0.1 < t, but float32(0.1) is t itself: XGBoost sends it right
    expect(0.1 < t).toBe(true)
    expect(predictor.predict([[0.1, 0, 0]])).toEqual([1])
    // a double just below t that rounds up to t: right; the next float32 below: left
    const below = Math.fround(t - 2 ** -28)
    expect(below).toBeLessThan(t)
    expect(predictor.predict([[t - 2 ** -30, 0, 0], [below, 0, 0]])).toEqual([1, -1])
  })

  it('sums each tree\'s leaf in float32, in tree order, from the base score', () => {
    // 0.5 + 2^24 rounds to 2^24 in float32, and 2^24 + 1 back to 2^24 (ties to even); in doubles it is 16777217.5
    const { predictor } = readXgboostModel(xgbModel({ trees: [{ leaf: 2 ** 24 }, { leaf: 1 }] }))
    expect(predictor.predict([[0, 0, 0]])).toEqual([2 ** 24])
    expect(Array.from(xgboostMargins(predictor, [[0, 0, 0]]))).toEqual([2 ** 24])
  })

  it('sends a missing value (NaN) to each node\'s default child', () => {
    const root: Node = { f: 0, t: 0, defaultLeft: true, left: stump(1, 0, 1, 2, false), right: stump(1, 0, 3, 4, true) }
    const { predictor } = readXgboostModel(xgbModel({ trees: [root], baseScore: '0' }))
    expect(predictor.predict([[Number.NaN, Number.NaN, 0], [1, Number.NaN, 0], [Number.NaN, -1, 0], [1, 1, 0]])).toEqual([2, 3, 1, 4])
  })

  it('sends the categories of a split\'s set right and the others left; a code outside the signature, or not whole, goes where a missing value goes', () => {
    const root: Node = { f: 1, cats: [1, 3], defaultLeft: false, left: { leaf: -1 }, right: { leaf: 1 } }
    const model = xgbModel({ trees: [root], baseScore: '0', types: ['q', 'c', 'q'] })
    const { predictor, signature } = readXgboostModel(model, { categories: { f1: ['a', 'b', 'c', 'd', 'e'] } })
    expect(signature.features[1]).toEqual({ name: 'f1', type: 'category', categories: ['a', 'b', 'c', 'd', 'e'] })
    expect(predictor.predict([0, 1, 2, 3, 4].map((c) => [0, c, 0]))).toEqual([-1, 1, -1, 1, -1])
    // missing: the default child (right); 5, -1 and 1.5 are no category of the signature: missing too
    expect(predictor.predict([[0, Number.NaN, 0], [0, 5, 0], [0, -1, 0], [0, 1.5, 0]])).toEqual([1, 1, 1, 1])
    // without categories given: codes 0 … the largest a split names
    expect(readXgboostModel(model).signature.features[1]).toEqual({ name: 'f1', type: 'category', categories: [0, 1, 2, 3] })
  })

  it('starts a logistic objective\'s margins at logit(base_score), in float32, and gives XGBoost\'s probabilities', () => {
    const { predictor, signature, task } = readXgboostModel(xgbModel({ objective: 'binary:logistic', trees: [stump(0, 0, -0.5, 0.25)], baseScore: '3E-1' }))
    expect(task).toBe('classification')
    expect(signature.target).toEqual({ name: 'target', type: 'category', classes: [0, 1] })
    const base = Math.fround(-Math.log(Math.fround(Math.fround(1 / Math.fround(0.3)) - 1)))
    const margins = [Math.fround(base - 0.5), Math.fround(base + 0.25)]
    expect(Array.from(xgboostMargins(predictor, [[-1, 0, 0], [1, 0, 0]]))).toEqual(margins)
    const proba = predictor.predictProba!([[-1, 0, 0], [1, 0, 0]])
    expect(proba).toEqual(margins.map((m) => [1 - sigmoid(m), sigmoid(m)]))
    // P(1) = sigmoid(logit(0.3) + 0.25) ≈ 0.356: class 0
    expect(predictor.predict([[-1, 0, 0], [1, 0, 0]])).toEqual([0, 0])
    // XGBoost 2 may write it as a list of one
    const listed = readXgboostModel(xgbModel({ objective: 'binary:logistic', trees: [stump(0, 0, -0.5, 0.25)], baseScore: '[3E-1]' }))
    expect(Array.from(xgboostMargins(listed.predictor, [[-1, 0, 0], [1, 0, 0]]))).toEqual(margins)
    const regression = readXgboostModel(xgbModel({ objective: 'reg:logistic', trees: [stump(0, 0, -0.5, 0.25)], baseScore: '3E-1' }))
    expect(regression.task).toBe('regression')
    expect(regression.predictor.predict([[1, 0, 0]])).toEqual([sigmoid(margins[1]!)])
  })

  it('adds each tree to the class tree_info names; softprob and softmax give the class of the largest margin', () => {
    const trees = [stump(0, 0, 1, -1), stump(0, 0, -1, 1), stump(1, 0, 0.5, 2), stump(0, 0, 0.5, 0)]
    for (const objective of ['multi:softprob', 'multi:softmax']) {
      const { predictor, signature } = readXgboostModel(xgbModel({ objective, trees, treeInfo: [0, 1, 2, 0], numClass: 3 }), { classes: ['a', 'b', 'c'] })
      expect(signature.target).toEqual({ name: 'target', type: 'category', classes: ['a', 'b', 'c'] })
      const X = [[-1, -1, 0], [1, -1, 0], [1, 1, 0]]
      // margins from 0.5: class 0 = tree 0 + tree 3, class 1 = tree 1, class 2 = tree 2
      expect(Array.from(xgboostMargins(predictor, X))).toEqual([2, -0.5, 1, -0.5, 1.5, 1, -0.5, 1.5, 2.5])
      expect(predictor.predict(X)).toEqual(['a', 'b', 'c'])
      for (const row of predictor.predictProba!(X)) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15)
    }
  })

  it('names features from the file, else f0 … fn-1, and types them: c a category, i a boolean, the rest numbers', () => {
    const withNames = readXgboostModel(xgbModel({ trees: [stump(2, 0.5, 0, 1)], names: ['age', 'member', 'city'], types: ['float', 'i', 'q'] }), { target: 'price' })
    expect(withNames.signature).toEqual({
      features: [
        { name: 'age', type: 'number' },
        { name: 'member', type: 'boolean' },
        { name: 'city', type: 'number' },
      ],
      target: { name: 'price', type: 'number' },
    })
    expect(withNames.producer).toEqual({ tool: 'xgboost', version: '1.7.4' })
    expect(withNames.objective).toBe('reg:squarederror')
    expect(readXgboostModel(xgbModel({ trees: [{ leaf: 0 }] })).signature.features.map((f) => f.name)).toEqual(['f0', 'f1', 'f2'])
    expect(readXgboostModel(xgbModel({ trees: [{ leaf: 0 }] }), { featureNames: ['a', 'b', 'c'] }).signature.features.map((f) => f.name)).toEqual(['a', 'b', 'c'])
  })

  it('refuses options that do not fit the file, naming what', () => {
    const model = xgbModel({ objective: 'multi:softprob', trees: [{ leaf: 0 }, { leaf: 0 }, { leaf: 0 }], treeInfo: [0, 1, 2], numClass: 3, names: ['a', 'b', 'c'] })
    const cases: [Parameters<typeof readXgboostModel>[1], string][] = [
      [{ featureNames: ['a', 'b'] }, '2 feature names given for the model\'s 3 features'],
      [{ featureNames: ['a', 'x', 'c'] }, 'feature 1 is "b" in the file, but "x" was given'],
      [{ classes: ['yes', 'no'] }, '2 classes given for the model\'s 3'],
      [{ classes: ['x', 'x', 'y'] }, 'class labels repeat'],
      [{ categories: { a: ['u', 'v'] } }, 'categories are given for "a", which the model takes as a number'],
      [{ categories: { z: ['u'] } }, 'categories are given for "z", which is not a feature'],
    ]
    for (const [options, message] of cases) {
      const error = errorOf(() => readXgboostModel(model, options))
      expect(error.code).toBe('MLSKEL_XGBOOST_SIGNATURE_MISMATCH')
      expect(error.message).toContain(message)
    }
    const regression = errorOf(() => readXgboostModel(xgbModel({ trees: [{ leaf: 0 }] }), { classes: [0, 1] }))
    expect(regression.message).toContain('regression')
    const fewCategories = errorOf(() => readXgboostModel(xgbModel({ trees: [{ f: 0, cats: [4], left: { leaf: 0 }, right: { leaf: 1 } }], types: ['c', 'q', 'q'] }), { categories: { f0: ['a', 'b'] } }))
    expect(fewCategories.message).toContain('a split names category 4')
  })

  it('refuses what it cannot predict with MLSKEL_XGBOOST_UNSUPPORTED, naming the field', () => {
    const cases: [(m: Record<string, unknown>) => void, string, string][] = [
      [(m) => ((m.learner as { gradient_booster: { name: string } }).gradient_booster.name = 'gblinear'), 'booster is "gblinear"', 'learner.gradient_booster.name'],
      [(m) => ((m.learner as { gradient_booster: { name: string } }).gradient_booster.name = 'dart'), 'booster is "dart"', 'learner.gradient_booster.name'],
      [(m) => ((m.learner as { objective: { name: string } }).objective.name = 'rank:pairwise'), 'objective is "rank:pairwise"', 'learner.objective.name'],
      [(m) => ((m.learner as { learner_model_param: Record<string, string> }).learner_model_param.num_target = '2'), 'it has 2 targets', 'learner.learner_model_param.num_target'],
      [(m) => ((treesIn(m)[0]!.tree_param as unknown as Record<string, string>).size_leaf_vector = '2'), 'vector leaves', 'learner.gradient_booster.model.trees.0.tree_param.size_leaf_vector'],
      [(m) => (m.version = [3, 0, 0]), 'saved by XGBoost 3.0.0', 'version'],
      [(m) => ((m.learner as { feature_types: string[] }).feature_types = ['q', 'x', 'q']), 'feature 1 has type "x"', 'learner.feature_types.1'],
      [(m) => ((m.learner as { learner_model_param: Record<string, string> }).learner_model_param.base_score = '[5E-1,2E-1]'), 'a base score per output', 'learner.learner_model_param.base_score'],
    ]
    for (const [damage, message, field] of cases) {
      const model = xgbModel({ trees: [stump(0, 0, 1, 2)] })
      damage(model)
      const error = errorOf(() => readXgboostModel(model))
      expect(error.code, message).toBe('MLSKEL_XGBOOST_UNSUPPORTED')
      expect(error.message).toContain(message)
      expect(error.where?.field).toBe(field)
    }
    const manyCategories = errorOf(() => readXgboostModel(xgbModel({ trees: [{ f: 0, cats: [300], left: { leaf: 0 }, right: { leaf: 1 } }], types: ['c', 'q', 'q'] })))
    expect(manyCategories.code).toBe('MLSKEL_XGBOOST_UNSUPPORTED')
    expect(manyCategories.message).toContain('at most 255 categories')
  })

  it('refuses a damaged file with MLSKEL_XGBOOST_MALFORMED, naming the field', () => {
    const root = (): Node => ({ f: 0, t: 0, left: stump(1, 0, 1, 2), right: { leaf: 3 } })
    const cases: [(m: Record<string, unknown>) => void, string, string][] = [
      [(m) => (treesIn(m)[0]!.right_children![0] = 99), 'node 0 of tree 0 has children 1 and 99, outside the tree\'s 5 nodes', 'learner.gradient_booster.model.trees[0].right_children'],
      [(m) => (treesIn(m)[0]!.left_children![1] = 0), 'node 0 of tree 0 is reached twice from the root', 'learner.gradient_booster.model.trees[0].left_children'],
      [(m) => (treesIn(m)[0]!.split_indices![1] = 3), 'splits on feature 3, but the model has 3 features', 'learner.gradient_booster.model.trees[0].split_indices'],
      [(m) => treesIn(m)[0]!.default_left!.pop(), 'tree 0 has 5 left children but 4 default_left', 'learner.gradient_booster.model.trees[0].default_left'],
      [(m) => (treesIn(m)[0]!.split_type![0] = 1), 'a categorical split without categories', 'learner.gradient_booster.model.trees[0].categories_nodes'],
      [(m) => (treesIn(m)[0]!.split_conditions![3] = null), 'node 3 of tree 0 has no finite leaf value', 'learner.gradient_booster.model.trees[0].split_conditions'],
      [(m) => ((m.learner as { gradient_booster: { model: { tree_info: number[] } } }).gradient_booster.model.tree_info = [1]), 'tree 0 adds to output 1, but the model has 1', 'learner.gradient_booster.model.tree_info[0]'],
      [(m) => ((m.learner as { gradient_booster: { model: { tree_info: number[] } } }).gradient_booster.model.tree_info = []), '0 tree_info entries for 1 trees', 'learner.gradient_booster.model.tree_info'],
      [(m) => (treesIn(m)[0]!.left_children = 'none' as unknown as unknown[]), 'not an XGBoost JSON model', 'learner.gradient_booster.model.trees[0].left_children'],
      [(m) => delete m.learner, 'not an XGBoost JSON model', 'learner'],
      [(m) => ((m.learner as { learner_model_param: Record<string, string> }).learner_model_param.num_feature = '0'), 'num_feature is 0', 'learner.learner_model_param.num_feature'],
    ]
    for (const [damage, message, field] of cases) {
      const model = xgbModel({ trees: [root()] })
      damage(model)
      const error = errorOf(() => readXgboostModel(model))
      expect(error.code, message).toBe('MLSKEL_XGBOOST_MALFORMED')
      expect(error.message).toContain(message)
      expect(error.where?.field).toBe(field)
    }
    const logistic = errorOf(() => readXgboostModel(xgbModel({ objective: 'binary:logistic', trees: [{ leaf: 0 }], baseScore: '1.5E0' })))
    expect([logistic.code, logistic.message]).toEqual(['MLSKEL_XGBOOST_MALFORMED', 'the XGBoost model: base_score "1.5E0" is not inside (0, 1), as a logistic objective needs'])
    expect(errorOf(() => readXgboostModel('{"learner": ')).message).toContain('not JSON')
    expect(errorOf(() => readXgboostModel('{"__proto__": {"x": 1}}')).code).toBe('MLSKEL_XGBOOST_MALFORMED')
  })

  it('reads XGBoost\'s text with its bare NaN (a categorical split\'s condition), keeping it as null', () => {
    const model = xgbModel({ trees: [{ f: 1, cats: [0], left: { leaf: -1 }, right: { leaf: 1 } }], types: ['q', 'c', 'q'], baseScore: '0' })
    const text = JSON.stringify(model).replace('"split_conditions":[null', '"split_conditions":[NaN')
    expect(text).toContain('[NaN,')
    const { predictor } = readXgboostModel(Buffer.from(text), { categories: { f1: ['x', 'y'] } })
    expect(predictor.predict([[0, 0, 0], [0, 1, 0]])).toEqual([1, -1])
    const kept = predictor.toJSON() as { xgboost: unknown }
    expect(JSON.stringify(kept)).not.toContain('NaN')
    expect(treesIn(kept.xgboost as Record<string, unknown>)[0]!.split_conditions![0]).toBeNull()
    // "NaN" inside a string stays as it is
    const named = JSON.stringify(xgbModel({ trees: [{ leaf: 0 }], names: ['NaN', 'Infinity', 'x'] }))
    expect(readXgboostModel(named).signature.features.map((f) => f.name)).toEqual(['NaN', 'Infinity', 'x'])
  })

  it('gives the loss changes of its splits as importances, normalized', () => {
    const root: Node = { f: 2, t: 0, gain: 6, left: { f: 0, t: 0, gain: 2, left: { leaf: 0 }, right: { leaf: 1 } }, right: { leaf: 2 } }
    const { predictor } = readXgboostModel(xgbModel({ trees: [root, { f: 2, t: 1, gain: 2, left: { leaf: 0 }, right: { leaf: 1 } }] }))
    expect(predictor.importances!()).toEqual([
      { feature: 'f0', gain: 0.2, splits: 1 },
      { feature: 'f1', gain: 0, splits: 0 },
      { feature: 'f2', gain: 0.8, splits: 2 },
    ])
  })

  it('warns that it predicts with every tree when the file says training stopped early', () => {
    const trees = [stump(0, 0, 1, 2), stump(0, 0, 1, 2), stump(0, 0, 1, 2)]
    expect(readXgboostModel(xgbModel({ trees, attributes: { best_iteration: '2' } })).predictor.warnings).toEqual([])
    const [warning] = readXgboostModel(xgbModel({ trees, attributes: { best_iteration: '0' } })).predictor.warnings!
    expect(warning).toContain('best_iteration is 0 of 3 iterations')
  })

  it('predicts a big batch on two threads as it predicts on one, to the bit, and refuses rows that do not fit', async () => {
    const trees = Array.from({ length: 40 }, (_, t) => ({ f: t % 3, t: (t % 7) / 7, defaultLeft: t % 2 === 0, left: stump((t + 1) % 3, 0.3, t / 10, -t / 20), right: { leaf: t / 30 } }) satisfies Node)
    const { predictor } = readXgboostModel(xgbModel({ trees }))
    const X = Array.from({ length: 6000 }, (_, r) => [Math.sin(r), (r % 11) / 10, r % 13 === 0 ? Number.NaN : Math.cos(r * 3)])
    const batch = await predictor.predictBatch!(X, { threads: 2 })
    expect(batch.predictions).toEqual(predictor.predict(X))
    expect(batch.predictions).toEqual(X.map((row) => predictor.predict([row])[0]))
    expect(errorOf(() => predictor.predict([[1, 2]])).code).toBe('MLSKEL_DATA_MISSING_COLUMNS')
    await expect(predictor.predictBatch!([[1, 2, 'x' as unknown as number]])).rejects.toMatchObject({ code: 'MLSKEL_DATA_INVALID_VALUE' })
  })

  it('saves and loads through the model store; a model.json whose signature or trees do not fit its XGBoost model is corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mlskel-xgboost-'))
    try {
      const { predictor } = readXgboostModel(xgbModel({ objective: 'binary:logistic', trees: [stump(0, 0.5, -1, 1, true)] }), { classes: ['no', 'yes'] })
      const saved = await saveModel(dir, predictor, { description: 'imported', inputExample: [] })
      expect(saved.manifest.kind).toBe('xgboost')
      const { predictor: loaded } = await loadSavedModel(dir, saved.id)
      const X = [[0, 0, 0], [1, 0, 0], [Number.NaN, 0, 0]]
      expect(loaded.predictProba!(X)).toEqual(predictor.predictProba!(X))
      expect(canonicalJson(loaded.toJSON())).toBe(canonicalJson(predictor.toJSON()))
      // model.json edited, and its manifest's hash with it (as a careless hand would): the loader still checks
      const damaged = async (damage: (json: { signature: { features: unknown[]; target: unknown } }) => void) => {
        const file = join(saved.dir, 'model.json')
        const original = await readFile(file, 'utf8')
        const json = JSON.parse(original)
        damage(json)
        const text = JSON.stringify(json)
        const manifestFile = join(saved.dir, 'manifest.json')
        const manifest = JSON.parse(await readFile(manifestFile, 'utf8'))
        const originalManifest = JSON.stringify(manifest)
        manifest.files.model = { ...manifest.files.model, sha256: hashBytes(text), size: Buffer.byteLength(text) }
        await writeFile(file, text)
        await writeFile(manifestFile, JSON.stringify(manifest))
        const error = await loadSavedModel(dir, saved.id).catch((e: unknown) => e)
        await writeFile(file, original)
        await writeFile(manifestFile, originalManifest)
        return error
      }
      expect(await damaged((json) => json.signature.features.pop())).toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT', message: expect.stringContaining('2 features for XGBoost\'s 3') })
      expect(await damaged((json) => (json.signature.target = { name: 'y', type: 'number' }))).toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT', message: expect.stringContaining('predicts 2 classes') })
      expect(await damaged((json) => ((json as unknown as { xgboost: Record<string, unknown> }).xgboost.version = 'x'))).toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT', message: expect.stringContaining('xgboost.version') })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('gives margins of xgboost predictors only', () => {
    expect(() => xgboostMargins({ kind: 'gradient_boosting' } as Predictor, [])).toThrow(/kind xgboost/)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// XGBoost's own models, made in this run

interface Expected {
  objective: string
  X: (number | null)[][]
  /** Booster.predict: probabilities (P(1) of a binary model), class indexes (softmax) or values. */
  predict: number[] | number[][]
  margin: number[] | number[][]
  /** XGBClassifier's, for the models it trained. */
  proba?: number[][]
  labels?: number[]
  feature_names?: string[]
  categories?: Record<string, number>
}

const FIXTURES = ['binary', 'binary-missing', 'softprob-missing', 'softmax', 'squarederror-missing', 'logistic-regression', 'forest', 'categorical', 'categorical-onehot']

/** The largest absolute difference of two lists of numbers of the same length. */
function maxDifference(a: readonly number[], b: readonly number[]): number {
  expect(a).toHaveLength(b.length)
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0)
}

describe.skipIf(missing !== undefined && !onCi)('the xgboost kind against XGBoost', () => {
  let dir = ''
  beforeAll(async () => {
    if (missing) throw new Error(`the comparison with XGBoost must run on CI: ${missing}`)
    dir = await mkdtemp(join(tmpdir(), 'mlskel-xgboost-fixtures-'))
    await run(PYTHON, [SCRIPT, dir], { env: { ...process.env, OMP_NUM_THREADS: '1' } })
  }, 120_000)
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined))

  async function fixture(name: string): Promise<{ predictor: Predictor; X: number[][]; expected: Expected }> {
    const expected = JSON.parse(await readFile(join(dir, `${name}.expected.json`), 'utf8')) as Expected
    const categories = Object.fromEntries(Object.entries(expected.categories ?? {}).map(([feature, count]) => [feature, Array.from({ length: count }, (_, k) => k)]))
    const { predictor, objective } = readXgboostModel(await readFile(join(dir, `${name}.model.json`)), { categories })
    expect(objective).toBe(expected.objective)
    return { predictor, X: expected.X.map((row) => row.map((v) => v ?? Number.NaN)), expected }
  }

  it('made every fixture', async () => {
    const files = await readdir(dir)
    for (const name of FIXTURES) expect(files).toContain(`${name}.model.json`)
    expect(JSON.parse(await readFile(join(dir, 'versions.json'), 'utf8'))).toMatchObject({ xgboost: expect.stringMatching(/^\d+\.\d+/) })
  })

  it.each(FIXTURES)('%s: margins equal XGBoost\'s output_margin to the bit, predictions XGBoost\'s within 1e-6', async (name) => {
    const { predictor, X, expected } = await fixture(name)
    const margins = Array.from(xgboostMargins(predictor, X))
    const theirs = expected.margin.flat()
    expect(margins).toHaveLength(theirs.length)
    const parted = margins.findIndex((m, i) => !Object.is(m, theirs[i]))
    expect(parted, `margin ${parted}: ${margins[parted]} where XGBoost has ${theirs[parted]}`).toBe(-1)
    const { objective } = expected
    if (objective === 'binary:logistic' || objective === 'multi:softprob') {
      const proba = predictor.predictProba!(X)
      const ours = objective === 'binary:logistic' ? proba.map((p) => p[1]!) : proba.flat()
      expect(maxDifference(ours, expected.predict.flat())).toBeLessThanOrEqual(1e-6)
      // the class of the largest probability, as XGBoost's argmax (or p > 0.5)
      const labels = objective === 'binary:logistic' ? (expected.predict as number[]).map((p) => (p > 0.5 ? 1 : 0)) : (expected.predict as number[][]).map((p) => p.indexOf(Math.max(...p)))
      expect(predictor.predict(X)).toEqual(labels)
    } else if (objective === 'multi:softmax') {
      expect(predictor.predict(X)).toEqual(expected.predict)
    } else {
      expect(maxDifference(predictor.predict(X).map(Number), expected.predict as number[])).toBeLessThanOrEqual(1e-6)
    }
    if (expected.proba) {
      expect(maxDifference(predictor.predictProba!(X).flat(), expected.proba.flat())).toBeLessThanOrEqual(1e-6)
      expect(predictor.predict(X)).toEqual(expected.labels)
    }
    // the same on worker threads
    const batch = await predictor.predictBatch!(X.concat(X, X, X, X, X), { threads: 2, probabilities: true })
    expect(batch.predictions.slice(0, X.length)).toEqual(predictor.predict(X))
  })

  it('reads feature names from the file, and the regression fixture holds rows on and next to its thresholds', async () => {
    const { predictor, expected } = await fixture('binary-missing')
    expect(predictor.signature.features.map((f) => f.name)).toEqual(expected.feature_names)
    const regression = await fixture('squarederror-missing')
    expect(regression.X.length).toBeGreaterThan(400 + 100)
  })

  it('refuses XGBoost\'s gblinear, dart and count:poisson models', async () => {
    for (const [name, message] of [
      ['gblinear', 'booster is "gblinear"'],
      ['dart', 'booster is "dart"'],
      ['poisson', 'objective is "count:poisson"'],
    ] as const) {
      const text = await readFile(join(dir, `${name}.model.json`), 'utf8')
      const refused = errorOf(() => readXgboostModel(text))
      expect(refused.code).toBe('MLSKEL_XGBOOST_UNSUPPORTED')
      expect(refused.message).toContain(message)
    }
  })

  it('saves a categorical model (its NaN conditions as null) and loads it back to the same predictions', async () => {
    const { predictor, X } = await fixture('categorical')
    const models = join(dir, 'models')
    const saved = await saveModel(models, predictor, { description: 'categorical', inputExample: [] })
    const { predictor: loaded } = await loadSavedModel(models, saved.id)
    expect(Array.from(xgboostMargins(loaded, X))).toEqual(Array.from(xgboostMargins(predictor, X)))
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The model contract, with XGBoost as the trainer

/** The fixture script in batch mode, started on first use: XGBoost imported once for the suite's trainings, not each. */
let batch: PythonBatch | undefined
const trainer = () => (batch ??= new PythonBatch(SCRIPT))
afterAll(() => batch?.close())

/**
 * Train XGBoost in Python on the suite's data (the fixture script's --train), and read the model as
 * `models import` will: names, classes and categories from the signature. The rows are checked against the
 * signature as mlskel's own kinds check them (toProblem), which also gives the labels as class indexes.
 */
async function trainWithXgboost(o: ContractTrainInput): Promise<Predictor> {
  const classes = classesOf(o.task, o.signature)
  const problem = toProblem(o.signature, o.data, classes, featureKinds(o.signature, 255), null)
  const work = await mkdtemp(join(tmpdir(), 'mlskel-xgboost-train-'))
  try {
    const multi = classes !== null && classes.length > 2
    const spec = {
      objective: classes === null ? 'reg:squarederror' : multi ? 'multi:softprob' : 'binary:logistic',
      ...(multi ? { num_class: classes.length } : {}),
      X: o.data.X.map((row) => row.map((v) => (Number.isNaN(v) ? null : v))),
      y: Array.from(problem.target),
      feature_types: o.signature.features.map((f) => (f.type === 'category' ? 'c' : 'q')),
      rounds: 30,
      max_depth: 4,
      seed: o.seed,
      nthread: o.nJobs,
    }
    await writeFile(join(work, 'spec.json'), JSON.stringify(spec))
    await trainer().run(['--train', join(work, 'spec.json'), join(work, 'model.json')])
    const categories = Object.fromEntries(o.signature.features.flatMap((f) => (f.type === 'category' ? [[f.name, f.categories]] : [])))
    const { predictor } = readXgboostModel(await readFile(join(work, 'model.json')), {
      featureNames: o.signature.features.map((f) => f.name),
      ...(classes ? { classes } : {}),
      target: o.signature.target.name,
      categories,
    })
    return predictor
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

if (!missing || onCi) {
  runModelContract({
    kind: 'xgboost',
    train: trainWithXgboost,
    // a child index outside its tree
    damage: (model) => (treesIn(model.xgboost as Record<string, unknown>)[0]!.right_children![0] = 10_000),
    knownCategories: 'signature',
    uncheckedRows: true,
  })
}
