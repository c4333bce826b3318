// Prometheus metrics of the prediction server. The series the server updates on every request (requests, latency,
// predictions, rows) are plain numbers kept here and written in Prometheus's text format only when /metrics is read:
// prom-client's labelled metrics validate and hash their labels on every observation, which measured about 5 µs of
// server CPU per request in place (a fifth of what a bare node:http server spends on one). prom-client keeps what it
// does well: Node's process metrics, in a registry of this server's own (never its global one, so two servers in one
// process, or the tests, never share counts).
import { Registry, collectDefaultMetrics } from 'prom-client'
import type { Task } from '../params/index.js'

export interface ServeMetrics {
  /** Node's process metrics (CPU, memory, event loop lag, GC), or nothing when they are off. */
  registry: Registry
  /** The Content-Type of text(). */
  contentType: string
  /** Every metric in Prometheus's text exposition format. */
  text(): Promise<string>
  /** One finished HTTP request: its route pattern (not the raw URL, which would make labels unbounded), method, status and seconds. */
  observeRequest(route: string, method: string, status: number, seconds: number): void
  /** The answers of one prediction request: counted by class (classification) or as a number of values (regression). */
  countPredictions(task: Task, results: readonly (string | number)[]): void
  /** Rows in one prediction request. */
  observeRows(rows: number): void
  /** `n` values of a categorical input that training never saw (predicted as missing values). */
  countUnseen(feature: string, n: number): void
  /** The served model: mlskel_model_info{model_id} is 1 for it alone. */
  setModel(id: string): void
  /** Newer runs passed over because their model did not load or check: mlskel_model_skipped_runs. */
  setSkipped(count: number): void
  /** Where the server's connection and body gauges are read when /metrics is (the last call wins). */
  watchServer(read: () => ServerGauges): void
}

/** What the HTTP server holds: open connections, those closed to make room, and bytes of bodies being read. */
export interface ServerGauges {
  openConnections: number
  evictedConnections: number
  bodyBytesInFlight: number
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

/** One histogram series: per-bucket counts (the last is +Inf), their sum and count; observing allocates nothing. */
class Buckets {
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(value: number): void {
    let i = 0
    while (i < this.bounds.length && value > this.bounds[i]!) i++
    this.counts[i]! += 1
    this.sum += value
    this.count += 1
  }

  /** The series' lines: cumulative buckets, then _sum and _count; `labels` is the series' own, already formatted. */
  lines(name: string, labels: string): string[] {
    const out: string[] = []
    const sep = labels ? `,${labels}` : ''
    let cumulative = 0
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i]!
      out.push(`${name}_bucket{le="${i < this.bounds.length ? number(this.bounds[i]!) : '+Inf'}"${sep}} ${cumulative}`)
    }
    const braces = labels ? `{${labels}}` : ''
    out.push(`${name}_sum${braces} ${number(this.sum)}`, `${name}_count${braces} ${this.count}`)
    return out
  }
}

const REQUESTS = 'mlskel_http_requests_total'
const DURATIONS = 'mlskel_http_request_duration_seconds'
const PREDICTIONS = 'mlskel_predictions_total'
const ROWS = 'mlskel_prediction_rows'
const MODEL_INFO = 'mlskel_model_info'
const UNSEEN = 'mlskel_unseen_category_total'
const SKIPPED = 'mlskel_model_skipped_runs'
const OPEN_CONNECTIONS = 'mlskel_http_open_connections'
const EVICTED = 'mlskel_http_connections_evicted_total'
const BODY_BYTES = 'mlskel_http_body_bytes_in_flight'

/**
 * The metrics: mlskel_http_requests_total{route,method,status}, mlskel_http_request_duration_seconds{route,method,status},
 * mlskel_predictions_total{class}, mlskel_prediction_rows, mlskel_model_info{model_id}, mlskel_model_skipped_runs,
 * mlskel_unseen_category_total{feature}, the server's mlskel_http_open_connections, mlskel_http_connections_evicted_total and
 * mlskel_http_body_bytes_in_flight, and Node's process metrics.
 */
export function createMetrics(o: MetricsOptions = {}): ServeMetrics {
  const registry = new Registry()
  if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: registry })

  // route → method → status → latency; nested maps, so a lookup builds no key string
  const requests = new Map<string, Map<string, Map<number, Buckets>>>()
  const predictions = new Map<string | number, number>()
  const rows = new Buckets(ROWS_BUCKETS)
  // by input name: bounded by the served models' inputs (the unseen values themselves would make labels unbounded)
  const unseen = new Map<string, number>()
  let model: string | undefined
  let skipped = 0
  let server: (() => ServerGauges) | undefined

  const countClass = (label: string | number, n: number) => predictions.set(label, (predictions.get(label) ?? 0) + n)

  return {
    registry,
    contentType: registry.contentType,
    async text() {
      const requestLines: string[] = []
      const durationLines: string[] = []
      for (const [route, methods] of requests) {
        for (const [method, statuses] of methods) {
          for (const [status, buckets] of statuses) {
            const labels = `route="${label(route)}",method="${label(method)}",status="${status}"`
            requestLines.push(`${REQUESTS}{${labels}} ${buckets.count}`)
            durationLines.push(...buckets.lines(DURATIONS, labels))
          }
        }
      }
      // a class seen as both 2 and "2" is one label value
      const byClass = new Map<string, number>()
      for (const [name, n] of predictions) byClass.set(String(name), (byClass.get(String(name)) ?? 0) + n)
      const own = [
        ...header(REQUESTS, 'counter', 'HTTP requests answered, by route, method and status'),
        ...requestLines,
        ...header(DURATIONS, 'histogram', 'Time from receiving a request to answering it, in seconds, by route, method and status'),
        ...durationLines,
        ...header(PREDICTIONS, 'counter', `Predictions made (rows answered), by predicted class; regression models count under class="${REGRESSION_CLASS}"`),
        ...[...byClass].map(([name, n]) => `${PREDICTIONS}{class="${label(name)}"} ${n}`),
        ...header(ROWS, 'histogram', 'Rows per prediction request'),
        ...rows.lines(ROWS, ''),
        ...header(MODEL_INFO, 'gauge', 'The served model: 1 for its id'),
        ...(model === undefined ? [] : [`${MODEL_INFO}{model_id="${label(model)}"} 1`]),
        ...header(SKIPPED, 'gauge', 'Training runs newer than the served model whose model did not load or check (see /ready)'),
        `${SKIPPED} ${skipped}`,
        ...header(UNSEEN, 'counter', 'Values of categorical inputs that training never saw, by input; the model predicts them as missing values'),
        ...[...unseen].map(([feature, n]) => `${UNSEEN}{feature="${label(feature)}"} ${n}`),
        ...serverLines(server?.()),
      ].join('\n')
      const process = await registry.metrics()
      return process.trim() ? `${own}\n\n${process}` : `${own}\n`
    },
    observeRequest(route, method, status, seconds) {
      let methods = requests.get(route)
      if (!methods) requests.set(route, (methods = new Map()))
      let statuses = methods.get(method)
      if (!statuses) methods.set(method, (statuses = new Map()))
      let buckets = statuses.get(status)
      if (!buckets) statuses.set(status, (buckets = new Buckets(DURATION_BUCKETS)))
      buckets.observe(seconds)
    },
    countPredictions(task, results) {
      if (results.length === 0) return
      if (task === 'regression') return void countClass(REGRESSION_CLASS, results.length)
      if (results.length === 1) return void countClass(results[0]!, 1)
      for (const name of results) countClass(name, 1)
    },
    observeRows(n) {
      rows.observe(n)
    },
    countUnseen(feature, n) {
      unseen.set(feature, (unseen.get(feature) ?? 0) + n)
    },
    setModel(id) {
      model = id
    },
    setSkipped(count) {
      skipped = count
    },
    watchServer(read) {
      server = read
    },
  }
}

function serverLines(gauges: ServerGauges | undefined): string[] {
  if (!gauges) return []
  return [
    ...header(OPEN_CONNECTIONS, 'gauge', 'Open HTTP connections (at most the server\'s API_MAX_CONNECTIONS)'),
    `${OPEN_CONNECTIONS} ${gauges.openConnections}`,
    ...header(EVICTED, 'counter', 'Connections closed to make room for new ones once API_MAX_CONNECTIONS were open'),
    `${EVICTED} ${gauges.evictedConnections}`,
    ...header(BODY_BYTES, 'gauge', 'Bytes of request bodies being read now, all requests together (bounded by the server\'s body budget)'),
    `${BODY_BYTES} ${gauges.bodyBytesInFlight}`,
  ]
}

function header(name: string, type: string, help: string): string[] {
  return [`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`]
}

/** A label value in the exposition format: backslash, double quote and newline escaped. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}
