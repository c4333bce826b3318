// The delivery report's charts as Vega-Lite specs, data inline: built from a training record and, when they are
// at hand, the rows the model was trained and scored on. Each function returns a spec; delivery.ts renders them.
import type { MetadataRecord } from '../metadata/index.js'
import type { ChartSpec } from './charts.js'

/** The colour of the reported run wherever runs are compared. */
const HIGHLIGHT = '#dc2626'

/** One score of one run: a point of the scores-across-runs chart. */
export interface ScorePoint {
  run: string
  /** When the run trained, as the axis shows it (unique per run). */
  label: string
  metric: string
  split: string
  value: number
  reported: boolean
}

/** Every score of the reported run's metrics, over all runs, oldest first. */
export function scorePoints(records: readonly MetadataRecord[], reported: MetadataRecord): ScorePoint[] {
  const metrics = new Set(Object.keys(reported.scores))
  const runs = [...records].sort((a, b) => (a.run_id < b.run_id ? -1 : 1))
  const labels = runLabels(runs)
  return runs.flatMap((r, i) =>
    Object.entries(r.scores)
      .filter(([metric]) => metrics.has(metric))
      .flatMap(([metric, splits]) => Object.entries(splits).map(([split, value]) => ({ run: r.run_id, label: labels[i]!, metric, split, value, reported: r.run_id === reported.run_id }))),
  )
}

/** Runs by their training time to the second; runs within one second also get their id's random suffix. */
function runLabels(runs: readonly MetadataRecord[]): string[] {
  const times = runs.map((r) => r.timestamp.slice(0, 19).replace('T', ' '))
  return times.map((t, i) => (times.indexOf(t) !== times.lastIndexOf(t) ? `${t} ${runs[i]!.run_id.slice(-6)}` : t))
}

/**
 * (a) Each metric over the runs, one panel per metric, a line per split. Runs are evenly spaced in time order (a
 * time axis would bunch runs made minutes apart); the reported run is marked by a red rule and larger points.
 */
export function scoresAcrossRunsSpec(points: readonly ScorePoint[]): ChartSpec {
  const x = { field: 'label', type: 'ordinal' as const, sort: null, title: 'run (trained, UTC)', axis: { labelAngle: -40, labelOverlap: true } }
  const runs = new Set(points.map((p) => p.run)).size
  return {
    data: { values: [...points] },
    facet: { row: { field: 'metric', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: Math.min(900, Math.max(240, runs * 40)),
      height: 120,
      layer: [
        { transform: [{ filter: 'datum.reported' }], mark: { type: 'rule', color: HIGHLIGHT, strokeDash: [3, 3] }, encoding: { x } },
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y: { field: 'value', type: 'quantitative', scale: { zero: false }, title: 'score' }, color: { field: 'split', type: 'nominal', title: 'split' } } },
        {
          mark: { type: 'point', filled: true },
          encoding: {
            x,
            y: { field: 'value', type: 'quantitative' },
            color: { field: 'split', type: 'nominal' },
            size: { condition: { test: 'datum.reported', value: 130 }, value: 35 },
          },
        },
      ],
    },
  }
}

/** (b) classification: actual × predicted counts on the hold-out split, each cell labelled with its count. */
export function confusionMatrixSpec(labels: readonly (string | number)[], matrix: readonly (readonly number[])[]): ChartSpec {
  const names = labels.map(String)
  const cells = matrix.flatMap((row, i) => row.map((count, j) => ({ actual: names[i]!, predicted: names[j]!, count })))
  const max = Math.max(1, ...cells.map((c) => c.count))
  const side = Math.min(420, Math.max(160, names.length * 60))
  return {
    data: { values: cells },
    width: side,
    height: side,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: names, axis: { labelAngle: 0 } },
      y: { field: 'actual', type: 'nominal', sort: names },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', domain: [0, max] }, legend: null } } },
      { mark: { type: 'text', fontSize: 13 }, encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: '#111827' } } },
    ],
  }
}

/** One hold-out row of a regression: what it was, and what the model said. */
export interface Prediction {
  actual: number
  predicted: number
}

/** (b) regression: predicted against actual, with the y = x line a perfect model would sit on. */
export function predictedVsActualSpec(rows: readonly Prediction[]): ChartSpec {
  const all = rows.flatMap((r) => [r.actual, r.predicted])
  const [lo, hi] = [Math.min(...all), Math.max(...all)]
  const scale = { domain: [lo, hi], nice: true, zero: false }
  return {
    width: 320,
    height: 320,
    layer: [
      { data: { values: [{ v: lo }, { v: hi }] }, mark: { type: 'line', color: '#9ca3af', strokeDash: [4, 4] }, encoding: { x: { field: 'v', type: 'quantitative', scale }, y: { field: 'v', type: 'quantitative', scale } } },
      {
        data: { values: [...rows] },
        mark: { type: 'point', filled: true, opacity: 0.7 },
        encoding: { x: { field: 'actual', type: 'quantitative', scale, title: 'actual' }, y: { field: 'predicted', type: 'quantitative', scale, title: 'predicted' } },
      },
    ],
  }
}

/** (b) regression: how far off the hold-out predictions are (actual − predicted). */
export function residualHistogramSpec(rows: readonly Prediction[]): ChartSpec {
  return {
    data: { values: rows.map((r) => ({ residual: r.actual - r.predicted })) },
    width: 320,
    height: 200,
    mark: 'bar',
    encoding: { x: { field: 'residual', type: 'quantitative', bin: { maxbins: 20 }, title: 'residual (actual − predicted)' }, y: { aggregate: 'count', type: 'quantitative', title: 'rows' } },
  }
}

/** (b) regression without the rows: the recorded residual statistics as a box (p05–p95), whiskers (min–max) and median. */
export function residualSummarySpec(r: { min: number; max: number; p05: number; p50: number; p95: number; mean: number }): ChartSpec {
  const x = (field: string) => ({ field, type: 'quantitative' as const, title: 'residual (actual − predicted)' })
  return {
    data: { values: [{ ...r, label: 'hold-out' }] },
    width: 420,
    height: 60,
    encoding: { y: { field: 'label', type: 'nominal', title: null } },
    layer: [
      { mark: { type: 'rule', color: '#6b7280' }, encoding: { x: x('min'), x2: { field: 'max' } } },
      { mark: { type: 'bar', size: 18, color: '#93c5fd' }, encoding: { x: x('p05'), x2: { field: 'p95' } } },
      { mark: { type: 'tick', color: '#1d4ed8', thickness: 2, size: 24 }, encoding: { x: x('p50') } },
      { mark: { type: 'point', shape: 'diamond', filled: true, color: HIGHLIGHT }, encoding: { x: x('mean') } },
    ],
  }
}

/** (c) Feature importance: each feature's share of the model's split gain, with its split count in the tooltip. */
export function importanceSpec(rows: readonly { feature: string; gain: number; splits: number }[]): ChartSpec {
  return {
    data: { values: [...rows] },
    width: 420,
    height: { step: 22 },
    mark: 'bar',
    encoding: {
      y: { field: 'feature', type: 'nominal', sort: '-x', title: null },
      x: { field: 'gain', type: 'quantitative', title: 'share of the total split gain', axis: { format: '.0%' } },
      tooltip: [{ field: 'feature' }, { field: 'gain', format: '.1%' }, { field: 'splits', title: 'splits' }],
    },
  }
}

/** (d) Histograms of each feature in the training split (by class for classification), one small chart per feature. */
export function featureHistogramsSpec(X: readonly (readonly number[])[], features: readonly string[], target: { name: string; values: readonly (string | number)[] } | undefined): ChartSpec {
  // Fields get fixed names (f0, f1, …, target) and the columns' names go in titles: Vega reads a field name as an
  // access path, so a name with a dot, a bracket or a quote (all valid column names) would chart nothing, or fail.
  const values = X.map((row, i) => ({ ...Object.fromEntries(features.map((_, j) => [`f${j}`, row[j]!])), ...(target ? { target: String(target.values[i]) } : {}) }))
  return {
    data: { values },
    columns: 2,
    concat: features.map((name, j) => ({
      width: 260,
      height: 140,
      mark: 'bar',
      encoding: {
        x: { field: `f${j}`, type: 'quantitative', bin: { maxbins: 20 }, title: name },
        y: { aggregate: 'count', type: 'quantitative', title: 'rows' },
        ...(target ? { color: { field: 'target', type: 'nominal', title: target.name } } : {}),
      },
    })),
  } as ChartSpec
}

/** (d) Without the training rows: each feature's recorded min–max range, one row per feature (own scale each). */
export function featureRangesSpec(schema: readonly { name: string; min: number; max: number }[]): ChartSpec {
  return {
    data: { values: schema.map((f) => ({ feature: f.name, min: f.min, max: f.max })) },
    facet: { row: { field: 'feature', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 420,
      height: 20,
      layer: [
        { mark: { type: 'rule', strokeWidth: 3, color: '#2563eb' }, encoding: { x: { field: 'min', type: 'quantitative', title: null, scale: { zero: false } }, x2: { field: 'max' } } },
        { mark: { type: 'tick', color: '#1d4ed8' }, encoding: { x: { field: 'min', type: 'quantitative' } } },
        { mark: { type: 'tick', color: '#1d4ed8' }, encoding: { x: { field: 'max', type: 'quantitative' } } },
      ],
    },
  }
}

/** (e) classification: training rows per class. */
export function classCountsSpec(counts: Readonly<Record<string, number>>, classes: readonly (string | number)[]): ChartSpec {
  const names = classes.map(String)
  return {
    data: { values: names.map((name) => ({ class: name, rows: counts[name] ?? 0 })) },
    width: 420,
    height: { step: 24 },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'class', type: 'nominal', sort: names, title: null }, x: { field: 'rows', type: 'quantitative', title: 'training rows' } } },
      { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { y: { field: 'class', type: 'nominal', sort: names }, x: { field: 'rows', type: 'quantitative' }, text: { field: 'rows', type: 'quantitative' } } },
    ],
  }
}

/** (e) regression: the target's histogram in the training split. */
export function targetHistogramSpec(values: readonly number[], name: string): ChartSpec {
  return {
    data: { values: values.map((v) => ({ value: v })) },
    width: 420,
    height: 180,
    mark: 'bar',
    encoding: { x: { field: 'value', type: 'quantitative', bin: { maxbins: 25 }, title: name }, y: { aggregate: 'count', type: 'quantitative', title: 'training rows' } },
  }
}

/** (e) regression without the rows: the recorded range with the mean marked. */
export function targetRangeSpec(t: { name: string; min: number; max: number; mean: number }): ChartSpec {
  const x = { field: 'min', type: 'quantitative' as const, title: t.name, scale: { zero: false } }
  return {
    data: { values: [{ min: t.min, max: t.max, mean: t.mean }] },
    width: 420,
    height: 40,
    layer: [
      { mark: { type: 'rule', strokeWidth: 3, color: '#2563eb' }, encoding: { x, x2: { field: 'max' } } },
      { mark: { type: 'point', shape: 'diamond', filled: true, size: 80, color: HIGHLIGHT }, encoding: { x: { field: 'mean', type: 'quantitative' } } },
    ],
  }
}
