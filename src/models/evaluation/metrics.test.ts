// Tests of the scores: hand-checked cases with their arithmetic, and agreement with scikit-learn itself on seeded data.
import { spawnSync } from 'node:child_process'
import { MersenneTwister19937, integer, real } from 'random-js'
import { describe, expect, it } from 'vitest'
import { PYTHON, requireTool } from '../../../tests/require-tool.js'
import { errorOf } from '../../errors/test-errors.js'
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  classReport,
  combineScores,
  f1Macro,
  logLoss,
  meanAbsoluteError,
  meanSquaredError,
  r2,
  rocAuc,
  validateScores,
  type ClassReportRow,
} from './metrics.js'

describe('metrics', () => {
  const yTrue = ['a', 'a', 'b', 'b', 'c']
  const yPred = ['a', 'b', 'b', 'b', 'a']

  it('computes accuracy as the share of right predictions', () => {
    expect(accuracy(yTrue, yPred)).toBeCloseTo(0.6, 12)
  })

  it('computes f1_macro as scikit-learn does, a class never predicted right scoring 0', () => {
    // a: tp 1, fp 1, fn 1 → 0.5; b: tp 2, fp 1, fn 0 → 0.8; c: tp 0 → 0
    expect(f1Macro(yTrue, yPred)).toBeCloseTo((0.5 + 0.8 + 0) / 3, 12)
    expect(f1Macro(['x', 'y'], ['x', 'y'])).toBe(1)
  })

  it('counts a label that is only predicted among the classes of f1_macro', () => {
    // a: tp 1, fp 0, fn 1 → 2/3; z (only predicted): tp 0, fp 1 → 0
    expect(f1Macro(['a', 'a'], ['a', 'z'])).toBeCloseTo(1 / 3, 12)
  })

  it('computes log_loss from the probability of the true class', () => {
    const value = logLoss(['a', 'b'], [[0.8, 0.2], [0.4, 0.6]], ['a', 'b'])
    expect(value).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12)
  })

  it('clips probabilities at 1e-15 so a confident mistake costs a finite loss', () => {
    expect(logLoss(['a'], [[0, 1]], ['a', 'b'])).toBeCloseTo(-Math.log(1e-15), 9)
    expect(logLoss(['b'], [[0, 1]], ['a', 'b'])).toBeCloseTo(-Math.log(1 - 1e-15), 12)
  })

  it('computes r2, mean squared and absolute error for a known case', () => {
    // scikit-learn's documented example: r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) == 0.948...
    const t = [3, -0.5, 2, 7]
    const p = [2.5, 0, 2, 8]
    expect(r2(t, p)).toBeCloseTo(0.9486081370449679, 12)
    expect(meanSquaredError(t, p)).toBeCloseTo(0.375, 12)
    expect(meanAbsoluteError(t, p)).toBeCloseTo(0.5, 12)
  })

  it('gives r2 of a constant target 1 when fitted exactly and 0 otherwise', () => {
    expect(r2([2, 2], [2, 2])).toBe(1)
    expect(r2([2, 2], [1, 3])).toBe(0)
  })
})

describe('balancedAccuracy', () => {
  it('averages the recall of each class present in yTrue', () => {
    // a: 1 of 2 right → 0.5; b: 2 of 2 → 1; c (never predicted): 0 of 1 → 0; mean (0.5 + 1 + 0) / 3 = 0.5
    expect(balancedAccuracy(['a', 'a', 'b', 'b', 'c'], ['a', 'b', 'b', 'b', 'a'])).toBeCloseTo(0.5, 12)
    // the imbalance accuracy hides: always 'a' is 3/4 accurate, but recalls are a 1, b 0 → 0.5
    expect(accuracy(['a', 'a', 'a', 'b'], ['a', 'a', 'a', 'a'])).toBe(0.75)
    expect(balancedAccuracy(['a', 'a', 'a', 'b'], ['a', 'a', 'a', 'a'])).toBe(0.5)
  })

  it('adds no class for a label that is only predicted, but counts its predictions as misses', () => {
    // a: 1 of 2 (one went to z) → 0.5; b: 0 of 1 → 0; z is not in yTrue → (0.5 + 0) / 2 = 0.25
    expect(balancedAccuracy(['a', 'a', 'b'], ['a', 'z', 'z'])).toBe(0.25)
  })

  it('is NaN for no rows, as accuracy is', () => {
    expect(balancedAccuracy([], [])).toBeNaN()
    expect(accuracy([], [])).toBeNaN()
  })
})

describe('rocAuc', () => {
  // Scores of the positive class 1: negatives 0.1, 0.5; positives 0.5, 0.9.
  const binaryTruth = [0, 0, 1, 1]
  const binaryProba = [[0.9, 0.1], [0.5, 0.5], [0.5, 0.5], [0.1, 0.9]]

  it('counts a tie between a positive and a negative as one half', () => {
    // (positive, negative) pairs ranked right: 0.5>0.1, 0.9>0.1, 0.9>0.5 → 3, the tie 0.5=0.5 → 1/2: 3.5 / 4.
    // The same as the trapezoids of the curve (0,0) (0,.5) (.5,1) (1,1): 0 + .5·(.5+1)/2 + .5·1 = 0.875.
    expect(rocAuc(binaryTruth, binaryProba, [0, 1])).toBe(0.875)
    // all scores tied: one trapezoid from (0,0) to (1,1) → 0.5
    expect(rocAuc(['n', 'y', 'y'], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], ['n', 'y'])).toBe(0.5)
  })

  it('takes classes[1] as the positive class and proba[:, 1] as its score', () => {
    // With the classes swapped, 'a' is positive scored by column 1: a's scores 0.2, 0.4 against b's 0.7 → 0.
    expect(rocAuc(['a', 'a', 'b'], [[0.8, 0.2], [0.6, 0.4], [0.3, 0.7]], ['b', 'a'])).toBe(0)
    expect(rocAuc(['a', 'a', 'b'], [[0.2, 0.8], [0.4, 0.6], [0.7, 0.3]], ['b', 'a'])).toBe(1)
  })

  it('averages one-vs-rest over more than two classes, ties included', () => {
    // a: positives .6, .2 vs negatives .2, .2 → (1 + 1 + 1/2 + 1/2) / 4 = 3/4
    // b: positive .5 vs .3, .2, .2 → 1;  c: positive .6 vs .1, .3, .6 → (1 + 1 + 1/2) / 3 = 5/6
    // macro (3/4 + 1 + 5/6) / 3 = 31/36
    expect(rocAuc(threeTruth, threeProba, ['a', 'b', 'c'])).toBeCloseTo(31 / 36, 15)
  })

  it('counts a label not among the classes as a negative of every class, as label_binarize does', () => {
    // add a row 'z' scored [.1, .1, .8]. a: positives .6, .2 vs negatives .2, .2, .1: .6 beats all 3, .2 ties
    // twice (1/2 each) and beats .1 → (3 + 1 + 1) / 6 = 5/6; b: .5 beats .3, .2, .2, .1 → 1;
    // c: .6 beats .1, .3, ties .6, loses to z's .8 → (2 + 1/2) / 4 = 5/8
    const value = rocAuc([...threeTruth, 'z'], [...threeProba, [0.1, 0.1, 0.8]], ['a', 'b', 'c'])
    expect(value).toBeCloseTo((5 / 6 + 1 + 5 / 8) / 3, 15)
  })

  it('is NaN when undefined: a class without positive or negative rows, no rows, fewer than 2 classes', () => {
    expect(rocAuc([1, 1], [[0.3, 0.7], [0.4, 0.6]], [0, 1])).toBeNaN() // no negative
    expect(rocAuc([0, 0], [[0.3, 0.7], [0.4, 0.6]], [0, 1])).toBeNaN() // no positive
    expect(rocAuc(['a', 'b', 'a'], [[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.4, 0.4, 0.2]], ['a', 'b', 'c'])).toBeNaN() // c absent
    expect(rocAuc([], [], [0, 1])).toBeNaN()
    expect(rocAuc(['a'], [[1]], ['a'])).toBeNaN()
  })

  it('refuses probabilities of the wrong shape or not finite', () => {
    expect(() => rocAuc([0, 1], [[0.5, 0.5]], [0, 1])).toThrow(RangeError)
    expect(() => rocAuc([0, 1], [[0.5, 0.5], [1]], [0, 1])).toThrow(/row 1/)
    expect(() => rocAuc([0, 1], [[0.5, 0.5], [Number.NaN, 1]], [0, 1])).toThrow(/finite/)
  })
})

describe('averagePrecision', () => {
  it('weighs the precision at each distinct score by the recall it adds, tied rows entering together', () => {
    // positives 0.9, 0.5; negatives 0.5, 0.1. At 0.9: 1 of 1 right, recall 1/2; at 0.5 the tied positive and
    // negative enter together: precision 2/3, recall 1 → 1/2·1 + 1/2·2/3 = 5/6 (ranking the tied positive
    // above the negative would give 1/2·1 + 1/2·1 = 1)
    expect(averagePrecision([0, 0, 1, 1], [[0.9, 0.1], [0.5, 0.5], [0.5, 0.5], [0.1, 0.9]], [0, 1])).toBeCloseTo(5 / 6, 15)
    // all tied: one step to recall 1 at precision = the share of positives, 2/3
    expect(averagePrecision(['n', 'y', 'y'], [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], ['n', 'y'])).toBeCloseTo(2 / 3, 15)
  })

  it('averages over the classes of a label-binarized yTrue beyond two classes', () => {
    // a: at .6 precision 1 (recall 1/2), at .2 the other three rows enter, 2 of 4 right → 1/2·1 + 1/2·1/2 = 3/4
    // b: its one positive has the top score → 1;  c: at .6 a positive and a negative tie → 1/2
    // macro (3/4 + 1 + 1/2) / 3 = 3/4
    expect(averagePrecision(threeTruth, threeProba, ['a', 'b', 'c'])).toBeCloseTo(0.75, 15)
  })

  it('scores 0 for a class without positive rows, as scikit-learn 1.2 does, and 1 for one without negatives', () => {
    expect(averagePrecision([0, 0], [[0.3, 0.7], [0.4, 0.6]], [0, 1])).toBe(0)
    expect(averagePrecision([1, 1], [[0.3, 0.7], [0.4, 0.6]], [0, 1])).toBe(1)
    // c absent: a's positive has the top score → 1, b's too → 1, c → 0: (1 + 1 + 0) / 3
    expect(averagePrecision(['a', 'b', 'a'], [[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.4, 0.4, 0.2]], ['a', 'b', 'c'])).toBeCloseTo(2 / 3, 15)
  })

  it('is NaN for no rows or fewer than 2 classes', () => {
    expect(averagePrecision([], [], [0, 1])).toBeNaN()
    expect(averagePrecision(['a'], [[1]], ['a'])).toBeNaN()
  })
})

describe('classReport', () => {
  it('reports each class, one never predicted and one never seen, then the other labels sorted', () => {
    // a: 2 true (rows 0, 1), 2 predicted (0, 5), 1 right → P 1/2, R 1/2, F 1/2
    // b: 2 true, 3 predicted (1, 2, 3), 2 right → P 2/3, R 1, F 2·2/(3 + 2) = 0.8
    // c: 1 true, never predicted → P 0 (0/0), R 0, F 0;  d: neither → all 0, support 0
    // x, only predicted, and y, only true, follow sorted (x first though y is met first in yTrue): all 0
    const report = classReport(['a', 'a', 'b', 'b', 'c', 'y'], ['a', 'b', 'b', 'b', 'x', 'a'], ['a', 'b', 'c', 'd'])
    expect(report).toEqual<ClassReportRow[]>([
      { label: 'a', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
      { label: 'b', precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
      { label: 'c', precision: 0, recall: 0, f1: 0, support: 1 },
      { label: 'd', precision: 0, recall: 0, f1: 0, support: 0 },
      { label: 'x', precision: 0, recall: 0, f1: 0, support: 0 },
      { label: 'y', precision: 0, recall: 0, f1: 0, support: 1 },
    ])
  })

  it('sorts extra numeric labels as numbers and keeps the order of classes as given', () => {
    const labels = classReport([3, 10, 9], [3, 3, 3], [3, 1]).map((row) => row.label)
    expect(labels).toEqual([3, 1, 9, 10])
  })

  it('agrees with f1Macro over the labels seen', () => {
    const t = ['a', 'a', 'b', 'b', 'c']
    const p = ['a', 'b', 'b', 'b', 'a']
    const f1 = classReport(t, p, ['a', 'b', 'c']).map((row) => row.f1)
    expect(f1Macro(t, p)).toBeCloseTo((f1[0]! + f1[1]! + f1[2]!) / 3, 15)
  })
})

describe('scores on a 200,000-row hold-out set', () => {
  // The default timeout of 30 s is what an O(n²) loop would exceed; this takes well under a second.
  it('are computed in O(n log n)', { timeout: 10_000 }, () => {
    const engine = MersenneTwister19937.seed(7)
    const classes = ['a', 'b', 'c']
    const yTrue = Array.from({ length: 200_000 }, () => classes[integer(0, 2)(engine)]!)
    const proba = yTrue.map(() => normalize([real(0, 1)(engine), real(0, 1)(engine), real(0, 1)(engine)]))
    const yPred = proba.map((row) => classes[argmax(row)]!)
    // scores independent of the truth: chance level, 1/2 for ROC AUC and the share of the class (1/3) for AP
    expect(rocAuc(yTrue, proba, classes)).toBeCloseTo(0.5, 2)
    expect(averagePrecision(yTrue, proba, classes)).toBeCloseTo(1 / 3, 2)
    expect(balancedAccuracy(yTrue, yPred)).toBeCloseTo(1 / 3, 2)
    expect(classReport(yTrue, yPred, classes).reduce((sum, row) => sum + row.support, 0)).toBe(200_000)
  })
})

// scikit-learn 1.2 at /usr/bin/python3 (Debian's python3-sklearn); the `python3` on PATH may be another interpreter.
const sklearn = requireTool('sklearn')

describe('agreement with scikit-learn', () => {
  it.skipIf(sklearn.skip)('gives scikit-learn\'s values to 1e-12 on seeded data: binary with ties, 3 classes, 4 with a rare one', () => {
    sklearn.assert()
    const cases = [binaryWithTies(11), threeClasses(12), fourImbalanced(13)]
    const result = spawnSync(PYTHON, ['-c', SKLEARN_SCRIPT], { input: JSON.stringify(cases), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 })
    expect(result.status, result.stderr).toBe(0)
    const answer = JSON.parse(result.stdout) as { version: string; cases: SklearnScores[] }
    expect(answer.cases).toHaveLength(cases.length)
    cases.forEach((c, k) => {
      const expected = answer.cases[k]!
      const where = (metric: string): string => `${c.name}, ${metric} (scikit-learn ${answer.version})`
      expectClose(accuracy(c.y_true, c.y_pred), expected.accuracy, where('accuracy'))
      expectClose(balancedAccuracy(c.y_true, c.y_pred), expected.balanced_accuracy, where('balanced_accuracy'))
      expectClose(f1Macro(c.y_true, c.y_pred), expected.f1_macro, where('f1_macro'))
      expectClose(rocAuc(c.y_true, c.proba, c.classes), expected.roc_auc, where('roc_auc'))
      if (expected.roc_auc_binarized !== undefined) expectClose(rocAuc(c.y_true, c.proba, c.classes), expected.roc_auc_binarized, where('roc_auc of label_binarize'))
      expectClose(averagePrecision(c.y_true, c.proba, c.classes), expected.average_precision, where('average_precision'))
      const report = classReport(c.y_true, c.y_pred, c.classes)
      expect(report.map((row) => row.label), where('report labels')).toEqual(expected.report.map((row) => row.label))
      report.forEach((row, i) => {
        const theirs = expected.report[i]!
        expect(row.support, where(`support of ${row.label}`)).toBe(theirs.support)
        expectClose(row.precision, theirs.precision, where(`precision of ${row.label}`))
        expectClose(row.recall, theirs.recall, where(`recall of ${row.label}`))
        expectClose(row.f1, theirs.f1, where(`f1 of ${row.label}`))
      })
    })
  })
})

describe('scores', () => {
  it('combines per-split metrics into metric → split', () => {
    expect(combineScores({ cv: { accuracy: 0.9, f1_macro: 0.8 }, hold_out: { accuracy: 0.7 } })).toEqual({ accuracy: { cv: 0.9, hold_out: 0.7 }, f1_macro: { cv: 0.8 } })
  })

  it('accepts known metrics, custom metrics and custom splits', () => {
    expect(() => validateScores({ accuracy: { cv: 1, hold_out: 0.9 }, custom_lift: { custom_2024: 3 }, r2: { cv: -0.5 } })).not.toThrow()
  })

  it('knows balanced_accuracy, roc_auc and average_precision', () => {
    expect(() => validateScores({ balanced_accuracy: { cv: 0.7 }, roc_auc: { hold_out: 0.8 }, average_precision: { cv: 0.6 } })).not.toThrow()
  })

  it('rejects an unknown metric, quoting it and suggesting the closest name', () => {
    const error = errorOf(() => validateScores({ acuracy: { cv: 1 } }))
    expect(error.code).toBe('MLSKEL_METRIC_UNKNOWN')
    expect(error.message).toContain('"acuracy"')
    expect(error.message).toContain('Did you mean "accuracy"?')
    expect(error.where?.field).toBe('scores.acuracy')
  })

  it('rejects an unknown split and a value that is not a finite number', () => {
    expect(errorOf(() => validateScores({ accuracy: { test: 1 } })).message).toContain('"test"')
    expect(errorOf(() => validateScores({ accuracy: { cv: Number.NaN } })).code).toBe('MLSKEL_METRIC_UNKNOWN')
  })
})

// The 3-class case of the hand-checked tests; rows are [a, b, c] probabilities.
const threeTruth = ['a', 'b', 'c', 'a']
const threeProba = [
  [0.6, 0.3, 0.1],
  [0.2, 0.5, 0.3],
  [0.2, 0.2, 0.6],
  [0.2, 0.2, 0.6],
]

function expectClose(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ours ${actual}, scikit-learn's ${expected}`).toBeLessThanOrEqual(1e-12)
}

function normalize(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0)
  return weights.map((w) => w / total)
}

function argmax(row: readonly number[]): number {
  let best = 0
  row.forEach((p, i) => {
    if (p > row[best]!) best = i
  })
  return best
}

interface SklearnCase {
  name: string
  y_true: (string | number)[]
  y_pred: (string | number)[]
  proba: number[][]
  classes: (string | number)[]
}

interface SklearnScores {
  accuracy: number
  balanced_accuracy: number
  f1_macro: number
  roc_auc: number
  roc_auc_binarized?: number
  average_precision: number
  report: ClassReportRow[]
}

/** 400 rows, 30% 'yes', scores on a grid of 0.05 (many ties), a few predictions of a third label 'maybe'. */
function binaryWithTies(seed: number): SklearnCase {
  const engine = MersenneTwister19937.seed(seed)
  const y_true: string[] = []
  const y_pred: string[] = []
  const proba: number[][] = []
  for (let i = 0; i < 400; i++) {
    const yes = real(0, 1)(engine) < 0.3
    const score = Math.round(20 * Math.min(1, Math.max(0, (yes ? 0.6 : 0.4) + real(-0.4, 0.4)(engine)))) / 20
    y_true.push(yes ? 'yes' : 'no')
    proba.push([1 - score, score])
    y_pred.push(real(0, 1)(engine) < 0.02 ? 'maybe' : score >= 0.5 ? 'yes' : 'no')
  }
  return { name: 'binary with ties', y_true, y_pred, proba, classes: ['no', 'yes'] }
}

/** 600 rows of 'a', 'b', 'c'; probabilities from small integer weights, so each column has many ties. */
function threeClasses(seed: number): SklearnCase {
  const engine = MersenneTwister19937.seed(seed)
  const classes = ['a', 'b', 'c']
  const y_true: string[] = []
  const proba: number[][] = []
  for (let i = 0; i < 600; i++) {
    const truth = integer(0, 2)(engine)
    y_true.push(classes[truth]!)
    proba.push(normalize(classes.map((_, k) => integer(1, 4)(engine) + (k === truth ? integer(0, 3)(engine) : 0))))
  }
  return { name: '3 classes', y_true, y_pred: proba.map((row) => classes[argmax(row)]!), proba, classes }
}

/** 1,500 rows of numeric labels 10, 20, 30 and a rare 40 (3%); continuous probabilities. */
function fourImbalanced(seed: number): SklearnCase {
  const engine = MersenneTwister19937.seed(seed)
  const classes = [10, 20, 30, 40]
  const y_true: number[] = []
  const proba: number[][] = []
  for (let i = 0; i < 1500; i++) {
    const u = real(0, 1)(engine)
    const truth = u < 0.45 ? 0 : u < 0.75 ? 1 : u < 0.97 ? 2 : 3
    y_true.push(classes[truth]!)
    proba.push(normalize(classes.map((_, k) => real(0, 1)(engine) + (k === truth ? real(0, 1.5)(engine) : 0))))
  }
  return { name: '4 classes, one rare', y_true, y_pred: proba.map((row) => classes[argmax(row)]!), proba, classes }
}

// Reads the cases as JSON on stdin, writes scikit-learn's scores as JSON on stdout. The extra labels of the
// report are sorted here independently of the TypeScript side, so their order is checked too.
const SKLEARN_SCRIPT = `
import json, sys, warnings
import numpy as np
import sklearn
from sklearn import metrics as m
from sklearn.preprocessing import label_binarize
warnings.simplefilter('ignore')
out = {'version': sklearn.__version__, 'cases': []}
for case in json.load(sys.stdin):
    y_true, y_pred, classes = case['y_true'], case['y_pred'], case['classes']
    proba = np.array(case['proba'], dtype=float)
    labels = list(classes) + sorted((set(y_true) | set(y_pred)) - set(classes))
    p, r, f, s = m.precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    scores = {
        'accuracy': m.accuracy_score(y_true, y_pred),
        'balanced_accuracy': m.balanced_accuracy_score(y_true, y_pred),
        'f1_macro': m.f1_score(y_true, y_pred, average='macro'),
        'report': [{'label': l, 'precision': float(p[i]), 'recall': float(r[i]), 'f1': float(f[i]), 'support': int(s[i])} for i, l in enumerate(labels)],
    }
    if len(classes) == 2:
        positive = np.asarray(y_true) == classes[1]
        scores['roc_auc'] = m.roc_auc_score(positive, proba[:, 1])
        scores['average_precision'] = m.average_precision_score(positive, proba[:, 1])
    else:
        binarized = label_binarize(y_true, classes=classes)
        scores['roc_auc'] = m.roc_auc_score(y_true, proba, multi_class='ovr', average='macro', labels=classes)
        scores['roc_auc_binarized'] = m.roc_auc_score(binarized, proba, average='macro')
        scores['average_precision'] = m.average_precision_score(binarized, proba, average='macro')
    out['cases'].append({k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in scores.items()})
json.dump(out, sys.stdout)
`
