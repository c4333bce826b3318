// Prometheus metrics of the prediction server, in a registry of its own (never prom-client's global one, so two
// servers in one process, or the tests, never share counts). The observe calls sit on every request's path: label
// children are looked up once and kept, since prom-client hashes the label values on every labels() call.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Task } from '../params/index.js'

export interface ServeMetrics {
  registry: Registry
  /** One finished HTTP request: its route pattern (not the raw URL, which would make labels unbounded), method, status and seconds. */
  observeRequest(route: string, method: string, status: number, seconds: number): void
  /** The answers of one prediction request: counted by class (classification) or as a number of values (regression). */
  countPredictions(task: Task, results: readonly (string | number)[]): void
  /** Rows in one prediction request. */
  observeRows(rows: number): void
  /** The served model: mlskel_model_info{model_id} is 1 for it alone. */
  setModel(id: string): void
}

export interface MetricsOptions {
  /** Also export Node's process metrics (CPU, memory, event loop lag, GC); default true. */
  defaultMetrics?: boolean
}

/** Seconds: a prediction takes well under a millisecond to a few, a 10,000-row batch up to about a second. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
/** Rows per request, up to the default maximum of 10,000. */
export const ROWS_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
/**
 * The `class` label of regression predictions: empty, which Prometheus reads as no label, so that
 * `mlskel_predictions_total` of a regressor is one plain count and can never clash with a real class name.
 */
export const REGRESSION_CLASS = ''

/**
 * The metrics: mlskel_http_requests_total{route,method,status}, mlskel_http_request_duration_seconds{route,method,status},
 * mlskel_predictions_total{class}, mlskel_prediction_rows, mlskel_model_info{model_id}, and Node's process metrics.
 */
export function createMetrics(o: MetricsOptions = {}): ServeMetrics {
  const registry = new Registry()
  if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: registry })
  const requests = new Counter({ name: 'mlskel_http_requests_total', help: 'HTTP requests answered, by route, method and status', labelNames: ['route', 'method', 'status'] as const, registers: [registry] })
  const durations = new Histogram({
    name: 'mlskel_http_request_duration_seconds',
    help: 'Time from receiving a request to answering it, in seconds, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  })
  const predictions = new Counter({ name: 'mlskel_predictions_total', help: `Predictions made (rows answered), by predicted class; regression models count under class="${REGRESSION_CLASS}"`, labelNames: ['class'] as const, registers: [registry] })
  const rows = new Histogram({ name: 'mlskel_prediction_rows', help: 'Rows per prediction request', buckets: ROWS_BUCKETS, registers: [registry] })
  const modelInfo = new Gauge({ name: 'mlskel_model_info', help: 'The served model: 1 for its id', labelNames: ['model_id'] as const, registers: [registry] })

  type Children = { count: Counter.Internal; time: Histogram.Internal<'route' | 'method' | 'status'> }
  const requestChildren = new Map<string, Children>()
  const classChildren = new Map<string | number, Counter.Internal>()
  const classChild = (label: string | number) => {
    let child = classChildren.get(label)
    if (!child) {
      child = predictions.labels(String(label))
      classChildren.set(label, child)
    }
    return child
  }

  return {
    registry,
    observeRequest(route, method, status, seconds) {
      const key = `${method} ${status} ${route}`
      let children = requestChildren.get(key)
      if (!children) {
        const labels = [route, method, String(status)] as const
        children = { count: requests.labels(...labels), time: durations.labels(...labels) }
        requestChildren.set(key, children)
      }
      children.count.inc()
      children.time.observe(seconds)
    },
    countPredictions(task, results) {
      if (results.length === 0) return
      if (task === 'regression') {
        classChild(REGRESSION_CLASS).inc(results.length)
        return
      }
      if (results.length === 1) {
        classChild(results[0]!).inc()
        return
      }
      const tally = new Map<string | number, number>()
      for (const label of results) tally.set(label, (tally.get(label) ?? 0) + 1)
      for (const [label, n] of tally) classChild(label).inc(n)
    },
    observeRows(n) {
      rows.observe(n)
    },
    setModel(id) {
      modelInfo.reset()
      modelInfo.set({ model_id: id }, 1)
    },
  }
}
