// The prediction API as a Fastify app: buildServer() returns it ready to answer (tests use inject), and only
// start.ts listens. Routes: POST /predict (the ancestor's contract), POST /invocations (MLflow's scoring protocol),
// health, readiness, version and metadata, and observability.ts's /metrics, /openapi.json and /docs; every error is `{error: {code, message, fix, details?}}`.
// Schema first: each route's schema (openapi.ts) makes the document and serializes its answers; a prediction route's
// body is validated by the served model's compiled validators (validate.ts) in Fastify's validation step, which
// hands the handler rows checked once, and read with the model they were checked for.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Readable } from 'node:stream'
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { UnseenCategory } from '../data/index.js'
import { loadPino, type Logger } from '../logging/index.js'
import { portableCommand } from '../metadata/index.js'
import { checkedRowsPredictor, type CheckedRows, type CheckedRowsPredictor } from '../models/index.js'
import { BodyBudget, bodyLimitsOf, busy, csvText, declaredLength, DEFAULT_BODY_BUDGET, DEFAULT_BODY_LIMIT, parseJsonBody, readBody, tooLarge, type BodyLimits } from './body.js'
import { guardConnections, type Connections } from './connections.js'
import { createHttpServer } from './http-server.js'
import { clientErrorResponse, errorBody, ServeError, toServeError } from './errors.js'
import { createMetrics, type ServeMetrics } from './metrics.js'
import { createModelHolder, type ModelHolder, type ServedModel } from './model-holder.js'
import { observabilityRoutes } from './observability.js'
import { routeSchemas } from './openapi.js'
import { requestReader, type RequestReader } from './validate.js'
import { mlskelVersion } from '../package/index.js'

export interface ServeOptions {
  modelsDir: string
  metadataDir: string
  /** A model id or unique prefix: serve it (pinned). Absent: the newest recorded model, swapped when a newer one appears. */
  modelId?: string
  /** Most rows per prediction request; default 10,000 (more: 413). */
  maxRows?: number
  /**
   * Largest request body in bytes, whatever the model; default 10 MiB. Each model gets less: maxRows rows of its
   * inputs (body.ts), and more is refused (413) before it is read.
   */
  bodyLimit?: number
  /** Bytes of request bodies read at once, all requests together; a body that does not fit gets 503. Default 32 MiB. */
  bodyBudget?: number
  /** Most open connections; a new one past it closes the oldest one not being answered. Default 1,024. */
  maxConnections?: number
  /** A request (headers and body) must arrive whole within this; default 30 s (more: 408). */
  requestTimeoutMs?: number
  /** When set, /predict and /invocations need `Authorization: Bearer <token>`; health and the rest stay open. */
  apiToken?: string
  /** false hides `details` in error answers (production); default true. */
  errorDetails?: boolean
  /** The server's logger (one line per prediction request); false or absent: no logs. */
  logger?: Logger | false
  /** A model holder of the caller's (tests): the caller starts and closes it. Absent: the server makes, starts and closes its own. */
  holder?: ModelHolder
  /** With a holder of its own: fail when no model can be loaded (default false: answer 503 until one appears). */
  requireModel?: boolean
  /** The server's metrics; absent: a registry of its own. */
  metrics?: ServeMetrics
  /** The mlskel version /version reports; default this package's. */
  version?: string
  /** The API's name in /openapi.json and /docs (the project's package name); default "mlskel prediction API". */
  title?: string
  /** The project root: paths under it in a record's command are shown relative to it (others by file name only). */
  root?: string
}

export const DEFAULT_MAX_ROWS = 10_000
export { DEFAULT_BODY_BUDGET, DEFAULT_BODY_LIMIT }
/** Whole request (headers and body) must arrive within this; Node's default would wait 5 minutes. */
export const REQUEST_TIMEOUT_MS = 30_000
/** Open connections the server holds by default: well under the usual limit of 1,024 open files per process less what it opens itself. */
export const DEFAULT_MAX_CONNECTIONS = 1_000
/** Idle keep-alive connections are closed after this: longer than common load balancers' 60 s idle timeout. */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000
/** A socket with no activity at all is closed after this. */
export const CONNECTION_TIMEOUT_MS = 120_000

const PREDICTION_ROUTES = new Set(['/predict', '/invocations'])
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const

export async function buildServer(o: ServeOptions): Promise<FastifyInstance> {
  // 1. options: bad configuration fails here, not at the first request
  const maxRows = o.maxRows ?? DEFAULT_MAX_ROWS
  const bodyLimit = o.bodyLimit ?? DEFAULT_BODY_LIMIT
  const bodyBudget = o.bodyBudget ?? DEFAULT_BODY_BUDGET
  const maxConnections = o.maxConnections ?? DEFAULT_MAX_CONNECTIONS
  const requestTimeout = o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new TypeError(`maxRows must be a whole number of at least 1, got ${String(o.maxRows)}`)
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1) throw new TypeError(`bodyLimit must be a whole number of bytes, at least 1, got ${String(o.bodyLimit)}`)
  if (!Number.isInteger(bodyBudget) || bodyBudget < bodyLimit) throw new TypeError(`bodyBudget must be a whole number of bytes, at least bodyLimit (${bodyLimit}), got ${String(o.bodyBudget)}`)
  if (!Number.isInteger(requestTimeout) || requestTimeout < 1) throw new TypeError(`requestTimeoutMs must be a whole number of milliseconds, at least 1, got ${String(o.requestTimeoutMs)}`)
  const errorDetails = o.errorDetails ?? true
  const tokenDigest = o.apiToken ? digest(o.apiToken) : undefined
  const version = o.version ?? mlskelVersion()
  const metrics = o.metrics ?? createMetrics()
  // The server logs through this logger itself; Fastify gets none, since a logger there costs a child logger and
  // response listeners on every request (measured: about 2.5 µs of CPU per request, a tenth of a bare server's).
  const log = o.logger || silentLogger()

  // What the server reads and predicts a model's requests with: made once per model, when it swaps in (the holder's
  // onSwap, so that compiling its validators costs no request), or when first seen (a caller's holder).
  const states = new WeakMap<ServedModel, Served>()
  const prepare = (model: ServedModel): Served => {
    let state = states.get(model)
    if (!state) {
      state = { model, limits: bodyLimitsOf(model.schema, maxRows, bodyLimit), reader: requestReader(model.schema, maxRows), predictor: checkedRowsPredictor(model.predictor) }
      states.set(model, state)
    }
    return state
  }

  // 2. the model holder: the caller's, or one of our own that starts now
  const ownHolder = o.holder === undefined
  const holder =
    o.holder ??
    createModelHolder({
      modelsDir: o.modelsDir,
      metadataDir: o.metadataDir,
      ...(o.modelId === undefined ? {} : { modelId: o.modelId }),
      logger: log,
      requireModel: o.requireModel ?? false,
      onSwap: (model) => {
        metrics.setModel(model.id)
        prepare(model)
      },
    })
  if (ownHolder) await holder.start()
  let metricsModel: string | undefined
  let last: Served | undefined
  /** The served model and what it is read with; a request takes it once and keeps it to the end. */
  const current = (): Served | undefined => {
    const model = holder.current()
    if (model === undefined) return undefined
    if (model !== last?.model) {
      if (model.id !== metricsModel) {
        metricsModel = model.id
        metrics.setModel(model.id)
      }
      last = prepare(model)
    }
    return last
  }

  current()
  try {
    return await buildApp()
  } catch (error) {
    if (ownHolder) await holder.close()
    throw error
  }

  async function buildApp(): Promise<FastifyInstance> {
    // 3. the app: bounded timeouts and body; no logger of Fastify's (the log lines are ours, one per prediction)
    const app = fastify({
      bodyLimit,
      // the Node server: its timeouts, and its own answers (no Host, an unknown Expect, 100 Continue) in our shape
      serverFactory: (handler) =>
        createHttpServer(handler, {
          requestTimeoutMs: requestTimeout,
          keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
          connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
          errorDetails,
          refuseBeforeContinue: (request) => {
            const served = current()
            const declared = declaredLength(request.headers)
            return served && declared !== undefined && declared > served.limits.bytes ? tooLarge(declared, served.limits.bytes) : undefined
          },
          onAnswer: (method, status) => metrics.observeRequest('unmatched', method, status, 0),
        }),
      // While closing, a request that still arrives on an open keep-alive connection is answered (with Connection:
      // close) rather than refused with Fastify's own 503: clients of a draining server see no failures.
      return503OnClosing: false,
      forceCloseConnections: 'idle',
      logger: false,
      // errors of Node's HTTP parser, before a request exists: mlskel's error shape too, then the connection closed
      clientErrorHandler: (error, socket) => {
        if (socket.writable) socket.end(clientErrorResponse(error as { code?: string }, errorDetails))
        else socket.destroy()
      },
      frameworkErrors: (error, _request, reply) => {
        void (reply as FastifyReply).code(400).send(errorBody(new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `bad request: ${error.message}`), errorDetails))
      },
    })
    if (ownHolder) app.addHook('onClose', async () => holder.close())

    // Bodies are read by body.ts, within limits that follow the served model and one budget for the whole server
    // (Fastify's parsers would read any body up to one fixed limit and parse it whole). text/plain is not a
    // prediction input; CSV is read as text for /invocations.
    const connections = guardConnections(app.server, { maxConnections })
    connectionsOf.set(app, connections)
    const budget = new BodyBudget(bodyBudget)
    metrics.watchServer(() => ({ openConnections: connections.size, evictedConnections: connections.evicted, bodyBytesInFlight: budget.inUse }))
    const bodyParser =
      (decode: (body: Buffer, limits: BodyLimits, maxRows: number) => unknown) =>
      (request: FastifyRequest, payload: NodeJS.ReadableStream, done: (error: Error | null, body?: unknown) => void): void => {
        // A body sent to no route (a 404 or 405) is left unread: Node discards it after the answer. Every route that
        // takes a body is a prediction route. (is404, unlike routeOptions, allocates nothing: this runs per request.)
        if (request.is404) return done(null, undefined)
        const served = current()
        if (!served) return done(notReady())
        const { limits } = served
        const declared = declaredLength(request.headers)
        if (declared !== undefined && declared > limits.bytes) return done(tooLarge(declared, limits.bytes))
        const share = declared ?? limits.bytes
        if (!budget.take(share)) return done(busy())
        readBody(payload as Readable, declared, limits.bytes, (error, body) => {
          budget.give(share)
          if (error) return done(error)
          let decoded: unknown
          try {
            decoded = decode(body!, limits, maxRows)
          } catch (failure) {
            return done(failure as Error)
          }
          done(null, decoded)
        })
      }
    app.removeAllContentTypeParsers()
    app.addContentTypeParser('application/json', bodyParser(parseJsonBody))
    app.addContentTypeParser('text/csv', bodyParser(csvText))

    app.setErrorHandler((error, request, reply) => {
      const serveError = toServeError(error)
      const route = routeOf(request)
      if (serveError.statusCode >= 500) log.error({ err: error, route, req_id: request.id }, 'request failed')
      else if (PREDICTION_ROUTES.has(route)) log.info({ route, status: serveError.statusCode, code: serveError.code, req_id: request.id }, 'prediction request refused')
      if (serveError.code === 'MLSKEL_SERVE_UNAUTHORIZED') void reply.header('www-authenticate', 'Bearer')
      else if (serveError.code === 'MLSKEL_SERVE_BUSY') void reply.header('retry-after', '1')
      return reply.code(serveError.statusCode).send(errorBody(serveError, errorDetails))
    })
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!
      // a route that exists for other methods is a 405 naming them (RFC 9110), not a 404
      const allowed = HTTP_METHODS.filter((method) => app.hasRoute({ url: path, method }))
      if (allowed.length > 0) {
        const error = new ServeError('MLSKEL_SERVE_METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(' or ')}, not ${request.method}`)
        return reply.code(405).header('allow', allowed.join(', ')).send(errorBody(error, errorDetails))
      }
      const error = new ServeError('MLSKEL_SERVE_ROUTE_NOT_FOUND', `no route ${request.method} ${path}`)
      return reply.code(404).send(errorBody(error, errorDetails))
    })
    // a callback hook, not an async one: it runs on every request, and costs no promise this way
    app.addHook('onResponse', (request, reply, done) => {
      metrics.observeRequest(routeOf(request), request.method, reply.statusCode, reply.elapsedTime / 1000)
      done()
    })

    // 4. /metrics, /openapi.json and /docs
    await app.register(observabilityRoutes({ holder, metrics, version, maxRows, auth: tokenDigest !== undefined, ...(o.title ? { title: o.title } : {}) }))

    // 5. prediction routes
    const schemas = routeSchemas({ maxRows, auth: tokenDigest !== undefined })
    const authorize = async (request: FastifyRequest) => {
      if (!tokenDigest) return
      const header = request.headers.authorization
      const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null
      if (!match || !timingSafeEqual(digest(match[1]!), tokenDigest)) {
        throw new ServeError('MLSKEL_SERVE_UNAUTHORIZED', header ? 'the bearer token is not the server\'s API_TOKEN' : 'this route needs `Authorization: Bearer <token>`')
      }
    }

    const served = (): Served => {
      const state = current()
      if (!state) throw notReady()
      return state
    }

    const logPrediction = (request: FastifyRequest, model: ServedModel, rows: number[][], timing: number) => {
      if (!log.isLevelEnabled('info')) return
      const debug = log.isLevelEnabled('debug')
      log.info({ route: routeOf(request), model_id: model.id, rows: rows.length, timing, req_id: request.id, ...(debug ? { inputs: rows } : {}) }, 'prediction')
    }

    // Unseen categories of the body being read, kept with its rows (a refused request counts none). Reading is
    // synchronous, so one map made here serves every request, and the fast path (no unseen value) allocates nothing.
    const unseenInRequest = new Map<string, number>()
    const unseen: UnseenCategory = (feature) => void unseenInRequest.set(feature, (unseenInRequest.get(feature) ?? 0) + 1)
    const countUnseen = (counts: Map<string, number> | undefined) => {
      if (counts) for (const [feature, n] of counts) metrics.countUnseen(feature, n)
    }

    /**
     * A prediction route's body validator (Fastify's validatorCompiler for it): the served model's reader, run in
     * Fastify's validation step; its rows replace the body. A refused body is the reader's ServeError, as it is.
     */
    const validator =
      (read: (served: Served, body: unknown) => { rows: CheckedRows; probabilities?: boolean | undefined }) =>
      (body: unknown): ValidationResult => {
        const started = performance.now()
        const state = current()
        if (!state) return { error: notReady() }
        unseenInRequest.clear()
        try {
          const { rows, probabilities } = read(state, body)
          return { value: new Rows(state, rows, probabilities, started, unseenInRequest.size > 0 ? new Map(unseenInRequest) : undefined) }
        } catch (error) {
          if (error instanceof ServeError) return { error }
          throw error
        }
      }
    /** The validator of each part of a route: its body's, by Content-Type; the query's takes any (the route reads its flag). */
    const validators =
      (byType: Record<string, (body: unknown) => ValidationResult>) =>
      ({ httpPart, contentType }: { httpPart?: string; contentType?: string }) =>
        (httpPart === 'body' && contentType ? byType[contentType] : undefined) ?? anyValue
    /**
     * The body's rows, as the validator read them. A body no validator read (none, or CSV to /predict, whose schema
     * takes JSON only) is read here, to be refused in the same words.
     */
    const rowsOf = (request: FastifyRequest, read: (served: Served, body: unknown) => unknown): Rows => {
      if (request.body instanceof Rows) return request.body
      const state = served()
      if (request.mediaType === 'text/csv') throw new ServeError('MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE', '/predict reads JSON; send CSV to /invocations')
      read(state, request.body)
      throw new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', 'the body could not be read')
    }

    const readPredict = (state: Served, body: unknown) => state.reader.predict(body, unseen)
    const readInvocations = (state: Served, body: unknown) => ({ rows: state.reader.invocations(body, unseen) })
    const readCsv = (state: Served, body: unknown) => ({ rows: state.reader.csv(body as string, unseen) })

    // without a token the prediction routes have no hook at all
    const guard = tokenDigest ? { onRequest: authorize } : {}

    app.post<{ Querystring: Record<string, string | string[] | undefined> }>(
      '/predict',
      { ...guard, schema: schemas.predict, validatorCompiler: validators({ 'application/json': validator(readPredict) }) },
      async (request) => {
        // a request takes the model once (when its body is read) and keeps it to the end, so a swap never changes a request half-way
        const { served: state, rows, probabilities: inBody, started, unseen: unseenCounts } = rowsOf(request, readPredict)
        const { model, predictor } = state
        const wantProbabilities = flag(request.query.probabilities) ?? inBody ?? false
        if (wantProbabilities && (!predictor.predictProba || !model.classes)) {
          throw new ServeError('MLSKEL_SERVE_INVALID_INPUT', `model ${model.id} is a ${model.task} model: it has no class probabilities`, [{ row: null, field: 'probabilities', problem: 'only classification models give probabilities' }])
        }
        const result = predictor.predict(rows)
        const probabilities = wantProbabilities ? predictor.predictProba!(rows) : undefined
        const timing = (performance.now() - started) / 1000
        countUnseen(unseenCounts)
        metrics.observeRows(rows.length)
        metrics.countPredictions(model.task, result)
        logPrediction(request, model, rows, timing)
        return {
          release: { model_id: model.id, git_commit: model.gitCommit },
          result,
          timing,
          ...(probabilities ? { probabilities, classes: model.classes } : {}),
        }
      },
    )

    app.post('/invocations', { ...guard, schema: schemas.invocations, validatorCompiler: validators({ 'application/json': validator(readInvocations), 'text/csv': validator(readCsv) }) }, async (request) => {
      const { served: state, rows, started, unseen: unseenCounts } = rowsOf(request, readInvocations)
      const predictions = state.predictor.predict(rows)
      countUnseen(unseenCounts)
      metrics.observeRows(rows.length)
      metrics.countPredictions(state.model.task, predictions)
      logPrediction(request, state.model, rows, (performance.now() - started) / 1000)
      return { predictions }
    })

    // 6. operations routes: always open
    const health = async () => ({ status: 'ok' })
    for (const path of ['health', 'livez', 'ping'] as const) app.get(`/${path}`, { schema: schemas[path] }, health)
    const ready = async (_request: FastifyRequest, reply: FastifyReply) => {
      const model = holder.current()
      if (!model) return reply.code(503).send(errorBody(notReady(), errorDetails))
      return { status: 'ready', model_id: model.id, ...(model.skipped?.length ? { skipped_runs: model.skipped } : {}) }
    }
    for (const path of ['ready', 'readyz'] as const) app.get(`/${path}`, { schema: schemas[path] }, ready)
    app.get('/version', { schema: schemas.version }, async () => {
      const model = holder.current()
      return { mlskel: version, node: process.versions.node, model_id: model?.id ?? null, run_id: model?.runId ?? null, loaded_at: model?.loadedAt ?? null }
    })
    // records written before commands were made portable may hold the training machine's paths: never shown
    app.get('/metadata', { schema: schemas.metadata }, async () => {
      const { record } = served().model
      return { ...record, command: portableCommand(record.command, o.root) }
    })

    servedModels.set(app, () => current()?.model)
    return app
  }
}

/** A served model and what the server reads and predicts its requests with. */
interface Served {
  model: ServedModel
  /** Its body limits (body.ts). */
  limits: BodyLimits
  /** Its requests' readers, their validators compiled (validate.ts). */
  reader: RequestReader
  /** Its predictor, for rows checked already. */
  predictor: CheckedRowsPredictor
}

/** A prediction body as a route's validator read it: the model it was read for, its rows, and what came with them. */
class Rows {
  constructor(
    readonly served: Served,
    readonly rows: CheckedRows,
    readonly probabilities: boolean | undefined,
    /** When reading began (performance.now()): an answer's timing counts reading and predicting. */
    readonly started: number,
    /** Values of categories the model never saw, by input. */
    readonly unseen: Map<string, number> | undefined,
  ) {}
}

type ValidationResult = { value: Rows } | { error: ServeError }

const anyValue = () => true

function notReady(): ServeError {
  return new ServeError('MLSKEL_SERVE_NOT_READY', 'no model is loaded yet')
}

const servedModels = new WeakMap<FastifyInstance, () => ServedModel | undefined>()
const connectionsOf = new WeakMap<FastifyInstance, Connections>()

/** The connections of a server built by buildServer: their count, and the drain start.ts runs at shutdown. */
export function serverConnections(app: FastifyInstance): Connections {
  const connections = connectionsOf.get(app)
  if (!connections) throw new TypeError('not a server built by buildServer')
  return connections
}

/** The model a server built by buildServer serves now (undefined before one is loaded). */
export function servedModelOf(app: FastifyInstance): ServedModel | undefined {
  return servedModels.get(app)?.()
}

/** The route pattern of a request (bounded, for metrics and logs), or "unmatched". */
function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched'
}

/** A query flag: present without a value or true/1 → true; false/0 → false; absent → undefined. */
function flag(value: string | string[] | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const text = Array.isArray(value) ? value[value.length - 1] : value
  if (text === '' || text === 'true' || text === '1') return true
  if (text === 'false' || text === '0') return false
  throw new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `?probabilities takes true or false, got "${text}"`, [{ row: null, field: 'probabilities', problem: 'is not true or false' }])
}

/** Tokens are compared as SHA-256 digests: equal lengths, so timingSafeEqual leaks neither content nor length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}


function silentLogger(): Logger {
  return loadPino().pino({ level: 'silent' })
}
