// scoreHoldOut and cross-validation's scores: what evaluate and summarizeHoldOut give, from one prediction of the rows.
import { describe, expect, it, vi } from 'vitest'
import type { Predictor } from '../contract/types.js'
import { trainGradientBoosting, trainRandomForest } from '../index.js'
import { clusters, linear, split } from '../test-data.js'
import { crossValidate } from './cross-validation.js'
import { evaluate, scoreHoldOut } from './evaluate.js'
import { summarizeHoldOut } from './summary.js'

/** The predictor with every prediction method counted. */
function counted(predictor: Predictor) {
  const calls = { predict: 0, predictProba: 0, predictBatch: [] as unknown[] }
  const wrapped: Predictor = {
    ...predictor,
    predict: (X) => (calls.predict++, predictor.predict(X)),
    ...(predictor.predictProba ? { predictProba: (X: number[][]) => (calls.predictProba++, predictor.predictProba!(X)) } : {}),
    ...(predictor.predictBatch ? { predictBatch: (X: number[][], o?: { probabilities?: boolean; threads?: number }) => (calls.predictBatch.push(o), predictor.predictBatch!(X, o)) } : {}),
  }
  return { wrapped, calls }
}

const c = clusters(30)
const cs = split(c.data)
const l = linear(120)
const ls = split(l.data)

describe('scoreHoldOut', () => {
  it('gives what evaluate and summarizeHoldOut give, from one predictBatch on one thread', async () => {
    const models = [
      ['classification', await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed: 1, signature: c.signature, data: cs.train }), cs.test],
      ['classification', await trainGradientBoosting({ task: 'classification', hyperParameters: { max_iter: 10 }, seed: 1, signature: c.signature, data: cs.train }), cs.test],
      ['regression', await trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 5 }, seed: 1, signature: l.signature, data: ls.train }), ls.test],
      ['regression', await trainGradientBoosting({ task: 'regression', hyperParameters: { max_iter: 10 }, seed: 1, signature: l.signature, data: ls.train }), ls.test],
    ] as const
    for (const [task, predictor, test] of models) {
      const { wrapped, calls } = counted(predictor)
      const assessed = await scoreHoldOut(task, wrapped, test)
      expect(calls).toEqual({ predict: 0, predictProba: 0, predictBatch: [{ probabilities: task === 'classification', threads: 1 }] })
      expect(assessed).toEqual({ scores: evaluate(task, predictor, test), summary: summarizeHoldOut(task, predictor, test) })
      expect(Object.keys(assessed.scores)).toEqual(task === 'classification' ? ['accuracy', 'balanced_accuracy', 'f1_macro', 'log_loss', 'roc_auc', 'average_precision'] : ['r2', 'mean_squared_error', 'mean_absolute_error'])
    }
  })

  it('asks predict and predictProba once each of a predictor without predictBatch', async () => {
    const forest = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed: 1, signature: c.signature, data: cs.train })
    const { predictBatch: _, ...plain } = forest
    const { wrapped, calls } = counted(plain)
    const assessed = await scoreHoldOut('classification', wrapped, cs.test)
    expect(calls).toEqual({ predict: 1, predictProba: 1, predictBatch: [] })
    expect(assessed).toEqual({ scores: evaluate('classification', forest, cs.test), summary: summarizeHoldOut('classification', forest, cs.test) })
  })

  it('asks predictProba for the probabilities a kind leaves out of its batch', async () => {
    const forest = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed: 1, signature: c.signature, data: cs.train })
    const { wrapped, calls } = counted({ ...forest, predictBatch: async (X) => ({ predictions: forest.predict(X) }) })
    const assessed = await scoreHoldOut('classification', wrapped, cs.test)
    expect(calls).toEqual({ predict: 0, predictProba: 1, predictBatch: [{ probabilities: true, threads: 1 }] })
    expect(assessed.scores).toEqual(evaluate('classification', forest, cs.test))
  })

  it('refuses an empty hold-out before predicting', async () => {
    const forest = await trainRandomForest({ task: 'regression', hyperParameters: { n_estimators: 2 }, seed: 1, signature: l.signature, data: ls.train })
    const predictBatch = vi.spyOn(forest, 'predictBatch')
    await expect(scoreHoldOut('regression', forest, { X: [], y: [] })).rejects.toMatchObject({ code: 'MLSKEL_DATA_TOO_FEW_ROWS' })
    expect(predictBatch).not.toHaveBeenCalled()
  })
})

describe('crossValidate', () => {
  it('scores each fold from one predictBatch of its rows, on one thread, as evaluate scores it', async () => {
    const folds: { calls: ReturnType<typeof counted>['calls']; predictor: Predictor }[] = []
    const train = async (data: typeof cs.train) => {
      const predictor = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: 5 }, seed: 1, signature: c.signature, data })
      const { wrapped, calls } = counted(predictor)
      folds.push({ calls, predictor })
      return wrapped
    }
    const scores = await crossValidate({ task: 'classification', folds: 3, seed: 7, data: c.data, train })
    expect(folds.map((f) => f.calls)).toEqual(folds.map(() => ({ predict: 0, predictProba: 0, predictBatch: [{ probabilities: true, threads: 1 }] })))
    // the same means as evaluate's scores of the same folds' models
    const again = await crossValidate({ task: 'classification', folds: 3, seed: 7, data: c.data, train: (_, fold) => ({ ...folds[fold - 1]!.predictor, predictBatch: undefined }) as unknown as Predictor })
    expect(again).toEqual(scores)
  })
})
