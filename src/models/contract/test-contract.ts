// The contract every model kind keeps, as one suite each kind's own test calls (as Hono runs one router suite
// against each router): `runModelContract({ kind, train })`. Kinds of models trained elsewhere run it too, with a
// `train` that has the other library train on the suite's data (kinds/xgboost.test.ts).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MersenneTwister19937, integer, real } from 'random-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson } from '../../json/index.js'
import { clusters, linear, split } from '../test-data.js'
import type { Task } from '../../params/index.js'
import { asCheckedRows, checkedRowsPredictor } from './checked-rows.js'
import { loadSavedModel, saveModel } from './store.js'
import type { Dataset, Predictor, Signature } from './types.js'
import { errorOf } from '../../errors/test-errors.js'

export interface ContractTrainInput {
  task: Task
  signature: Signature
  data: Dataset
  seed: number
  /** Threads to train with: the model must be the same whatever it is. */
  nJobs: number
}

export interface ContractOptions {
  /** The kind's name, as its predictors and manifests say. */
  kind: string
  /** Train a small model of the kind (a few trees: the suite trains dozens). */
  train: (o: ContractTrainInput) => Promise<Predictor>
  /**
   * Damage a model.json (parsed) so that it must not load: default, for mlskel's tree kinds, a child that points
   * back up its tree.
   */
  damage?: (model: Record<string, unknown>) => void
  /**
   * Which categories the kind's models know. 'training' (default; mlskel's own kinds): those their training data
   * had, so a code of the signature that training never saw (3, 'violet', in the suite's data) goes where a missing
   * value goes. 'signature' (models trained elsewhere, whose files do not say what their training saw): the
   * signature's, so only a code outside them does; one inside is the model's to judge, as its own library would.
   */
  knownCategories?: 'training' | 'signature'
  /** The kind gives predict functions for rows checked already (withUncheckedRows), as mlskel's own kinds do. */
  uncheckedRows?: boolean
}

function pointBackUp(model: Record<string, unknown>): void {
  const trees = model.trees as Record<string, unknown>
  const right = Buffer.from(String(trees.right), 'base64')
  right.writeInt32LE(0, 0)
  trees.right = right.toString('base64')
}

/** Three classes, 4 numeric features, a categorical one (4 categories, the last never in training) and gaps. */
export function mixed(rows = 240, seed = 7): { data: Dataset; signature: Signature } {
  const engine = MersenneTwister19937.seed(seed)
  const X: number[][] = []
  const y: string[] = []
  for (let i = 0; i < rows; i++) {
    const label = i % 3
    const colour = integer(0, 2)(engine) // categories 0..2 in training; 3 ('violet') never
    const row = [label * 3 + real(-1.2, 1.2)(engine), real(0, 1)(engine), label === 2 ? real(2, 3)(engine) : real(0, 2.5)(engine), real(-1, 1)(engine), colour]
    // the colour carries the label for class 1 half the time
    if (label === 1 && i % 2 === 0) row[4] = 1
    // a tenth of the values missing in two features
    if (integer(0, 9)(engine) === 0) row[0] = Number.NaN
    if (integer(0, 9)(engine) === 0) row[4] = Number.NaN
    X.push(row)
    y.push(['a', 'b', 'c'][label]!)
  }
  const signature: Signature = {
    features: [
      { name: 'x0', type: 'number' },
      { name: 'x1', type: 'number' },
      { name: 'x2', type: 'number' },
      { name: 'x3', type: 'number' },
      { name: 'colour', type: 'category', categories: ['red', 'green', 'blue', 'violet'] },
    ],
    target: { name: 'label', type: 'category', classes: ['a', 'b', 'c'] },
  }
  return { data: { X, y }, signature }
}

function accuracyOf(predicted: readonly (string | number)[], actual: readonly (string | number)[]): number {
  return predicted.filter((p, i) => p === actual[i]).length / actual.length
}

/** The suite: train and predict, probabilities, save and load, determinism, missing values and categories, errors. */
export function runModelContract(o: ContractOptions): void {
  describe(`the model contract: ${o.kind}`, () => {
    const c = clusters(40)
    const cs = split(c.data)
    const l = linear(200)
    const ls = split(l.data)
    const m = mixed()
    const ms = split(m.data)
    let classifier: Predictor
    let regressor: Predictor
    let mixedModel: Predictor
    let dir: string
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), `mlskel-contract-${o.kind}-`))
      classifier = await o.train({ task: 'classification', signature: c.signature, data: cs.train, seed: 1, nJobs: 1 })
      regressor = await o.train({ task: 'regression', signature: l.signature, data: ls.train, seed: 1, nJobs: 1 })
      mixedModel = await o.train({ task: 'classification', signature: m.signature, data: ms.train, seed: 3, nJobs: 1 })
    })
    afterAll(() => rm(dir, { recursive: true, force: true }))

    it('classifies: one of the signature\'s classes per row, far above chance on held-out rows', () => {
      expect(classifier.kind).toBe(o.kind)
      const predicted = classifier.predict(cs.test.X)
      expect(predicted).toHaveLength(cs.test.X.length)
      for (const label of predicted) expect(['a', 'b', 'c']).toContain(label)
      expect(accuracyOf(predicted, cs.test.y)).toBeGreaterThan(0.9)
      expect(classifier.predict([])).toEqual([])
    })

    it('predicts a row alone as it predicts it in a batch (the prediction API sends one row at a time)', () => {
      for (const [model, X] of [
        [classifier, cs.test.X],
        [regressor, ls.test.X],
        [mixedModel, ms.test.X],
      ] as const) {
        expect(X.map((row) => model.predict([row])[0])).toEqual(model.predict(X))
        if (model.predictProba) expect(X.map((row) => model.predictProba!([row])[0])).toEqual(model.predictProba(X))
      }
    })

    it('predicts checked rows as predict does, to the bit, through the kind\'s unchecked functions when it gives them', async () => {
      const loaded = (await loadSavedModel(dir, (await saveModel(dir, mixedModel, { description: 'checked rows', inputExample: [] })).id)).predictor
      for (const [model, X] of [
        [classifier, cs.test.X],
        [regressor, ls.test.X],
        [mixedModel, ms.test.X],
        [loaded, ms.test.X],
      ] as const) {
        const checked = checkedRowsPredictor(model)
        if (o.uncheckedRows) expect(checked).not.toBe(model)
        expect(checked.predict(asCheckedRows(X))).toEqual(model.predict(X))
        expect(checked.predict(asCheckedRows(X.slice(0, 1)))).toEqual(model.predict(X.slice(0, 1)))
        expect(Boolean(checked.predictProba)).toBe(Boolean(model.predictProba))
        if (model.predictProba) expect(checked.predictProba!(asCheckedRows(X))).toEqual(model.predictProba(X))
      }
    })

    it('regresses: a finite number per row, close to the target on held-out rows', () => {
      const predicted = regressor.predict(ls.test.X).map(Number)
      for (const value of predicted) expect(Number.isFinite(value)).toBe(true)
      const mean = ls.test.y.reduce<number>((a, b) => a + Number(b), 0) / ls.test.y.length
      const ss = ls.test.y.reduce<number>((a, b) => a + (Number(b) - mean) ** 2, 0)
      const residual = ls.test.y.reduce<number>((a, b, i) => a + (Number(b) - predicted[i]!) ** 2, 0)
      expect(1 - residual / ss).toBeGreaterThan(0.8)
    })

    it('gives probabilities that are real distributions, in class order, whose largest is the prediction', () => {
      for (const model of [classifier, mixedModel]) {
        const X = model === classifier ? cs.test.X : ms.test.X
        const proba = model.predictProba!(X)
        const predicted = model.predict(X)
        const classes = (model.signature.target as { classes: (string | number)[] }).classes
        proba.forEach((row, i) => {
          expect(row).toHaveLength(classes.length)
          for (const p of row) expect(p).toBeGreaterThanOrEqual(0)
          expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12)
          expect(predicted[i]).toBe(classes[row.indexOf(Math.max(...row))])
        })
      }
    })

    it('saves and loads into a predictor that gives the same predictions and probabilities, to the bit', async () => {
      for (const [model, X] of [
        [classifier, cs.test.X],
        [regressor, ls.test.X],
        [mixedModel, ms.test.X],
      ] as const) {
        const saved = await saveModel(dir, model, { description: 'contract', inputExample: [] })
        const { predictor } = await loadSavedModel(dir, saved.id)
        expect(predictor.kind).toBe(o.kind)
        expect(predictor.signature).toEqual(model.signature)
        expect(predictor.predict(X)).toEqual(model.predict(X))
        if (model.predictProba) {
          const a = model.predictProba(X).flat()
          const b = predictor.predictProba!(X).flat()
          expect(b.every((v, i) => Object.is(v, a[i]))).toBe(true)
        }
        expect(canonicalJson(predictor.toJSON())).toBe(canonicalJson(model.toJSON()))
      }
    })

    it('is deterministic: the same data and seed give the same model, whatever the threads; another seed may differ', async () => {
      const again = await o.train({ task: 'classification', signature: m.signature, data: ms.train, seed: 3, nJobs: 1 })
      const threaded = await o.train({ task: 'classification', signature: m.signature, data: ms.train, seed: 3, nJobs: 2 })
      expect(canonicalJson(again.toJSON())).toBe(canonicalJson(mixedModel.toJSON()))
      expect(canonicalJson(threaded.toJSON())).toBe(canonicalJson(mixedModel.toJSON()))
      const regressionThreaded = await o.train({ task: 'regression', signature: l.signature, data: ls.train, seed: 1, nJobs: 2 })
      expect(canonicalJson(regressionThreaded.toJSON())).toBe(canonicalJson(regressor.toJSON()))
    })

    it('predicts a big batch on several threads as it predicts row by row, to the bit', async (ctx) => {
      if (!mixedModel.predictBatch) ctx.skip()
      const X = mixed(6000, 11).data.X
      const batch = await mixedModel.predictBatch!(X, { probabilities: true, threads: 2 })
      expect(batch.predictions).toEqual(mixedModel.predict(X))
      const expected = mixedModel.predictProba!(X).flat()
      expect(batch.probabilities!.flat().every((v, i) => Object.is(v, expected[i]))).toBe(true)
      const values = Array.from({ length: 6000 }, (_, i) => ls.test.X[i % ls.test.X.length]!.map((v) => v + (i % 7) * 0.01))
      const regression = await regressor.predictBatch!(values, { threads: 2 })
      expect(regression.predictions).toEqual(regressor.predict(values))
      expect(regression.probabilities).toBeUndefined()
    })

    it('takes missing values (NaN) in training and in prediction', () => {
      const X = ms.test.X.map((row) => row.map((v, j) => (j === 0 || j === 2 ? Number.NaN : v)))
      const predicted = mixedModel.predict(X)
      for (const label of predicted) expect(['a', 'b', 'c']).toContain(label)
      const allMissing = mixedModel.predict([[Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN]])
      expect(['a', 'b', 'c']).toContain(allMissing[0])
      // a feature that carries the label still does when another is missing
      expect(accuracyOf(mixedModel.predict(ms.test.X.map((row) => [...row.slice(0, 3), Number.NaN, row[4]!])), ms.test.y)).toBeGreaterThan(0.6)
    })

    const bySignature = o.knownCategories === 'signature'
    it(`sends a category ${bySignature ? 'outside its signature' : 'never seen in training'} (or no category at all) where it sends a missing value`, () => {
      const rows = ms.test.X.slice(0, 40)
      const asMissing = mixedModel.predictProba!(rows.map((row) => [...row.slice(0, 4), Number.NaN]))
      for (const unseen of [bySignature ? 4 : 3, 99, -1, 1.5]) {
        const proba = mixedModel.predictProba!(rows.map((row) => [...row.slice(0, 4), unseen]))
        expect(proba).toEqual(asMissing)
      }
    })

    it('refuses rows that do not fit the signature, naming the row and the feature', () => {
      const short = errorOf(() => classifier.predict([[1, 2, 3]]))
      expect(short.code).toBe('MLSKEL_DATA_MISSING_COLUMNS')
      expect(short.message).toContain('row 1')
      const text = errorOf(() => classifier.predict([[1, 2, 3, 4], [1, 2, 'x' as unknown as number, 4]]))
      expect(text.code).toBe('MLSKEL_DATA_INVALID_VALUE')
      expect(text.message).toContain('row 2')
      expect(text.message).toContain('"f2"')
    })

    it('refuses training data that does not fit the signature', async () => {
      const badLabel = { X: cs.train.X, y: cs.train.y.map((label, i) => (i === 5 ? 'z' : label)) }
      await expect(o.train({ task: 'classification', signature: c.signature, data: badLabel, seed: 1, nJobs: 1 })).rejects.toMatchObject({ code: 'MLSKEL_DATA_INVALID_VALUE', message: expect.stringContaining('row 6') })
      const badCode = { X: ms.train.X.map((row, i) => (i === 2 ? [...row.slice(0, 4), 7] : row)), y: ms.train.y }
      await expect(o.train({ task: 'classification', signature: m.signature, data: badCode, seed: 1, nJobs: 1 })).rejects.toMatchObject({ code: 'MLSKEL_DATA_INVALID_VALUE', message: expect.stringContaining('"colour"') })
      await expect(o.train({ task: 'regression', signature: c.signature, data: cs.train, seed: 1, nJobs: 1 })).rejects.toMatchObject({ code: 'MLSKEL_PARAMS_TASK_MISMATCH' })
    })

    it('gives its trained model as plain data, which a damaged copy of fails to load as corrupt', async () => {
      const json = mixedModel.toJSON()
      expect(JSON.parse(JSON.stringify(json))).toEqual(json)
      expect(structuredClone(json)).toEqual(json)
      const saved = await saveModel(dir, mixedModel, { description: 'to damage', inputExample: [] })
      const file = join(saved.dir, 'model.json')
      const model = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
      ;(o.damage ?? pointBackUp)(model)
      const text = JSON.stringify(model)
      await writeFile(file, text)
      const manifestFile = join(saved.dir, 'manifest.json')
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { files: { model: { sha256: string; size: number } } }
      const { hashBytes } = await import('../../hashing/index.js')
      manifest.files.model = { ...manifest.files.model, sha256: hashBytes(text), size: Buffer.byteLength(text) }
      await writeFile(manifestFile, JSON.stringify(manifest))
      await expect(loadSavedModel(dir, saved.id)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT' })
    })
  })
}
