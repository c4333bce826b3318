// The prediction API's entry: reads the project's settings, builds the server, listens, and shuts down gracefully
// on SIGTERM/SIGINT (stop accepting, let requests in flight finish within a bound, then close what is left).
// The only place in mlskel that listens.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { loadPino, logFormatFor, textStream, type Logger } from '../logging/index.js'
import { findProjectRoot, loadSettings, projectPaths, settingsSchema } from '../settings/index.js'
import type { ServedModel } from './model-holder.js'
import { buildServer, servedModelOf, serverConnections } from './server.js'
import { watchWrapper } from './wrapper.js'

export interface StartServerOptions {
  /** The project root; found from the current folder when absent. */
  root?: string
  /** A model id or unique prefix to pin; absent: the newest recorded model, swapped for newer ones. */
  modelId?: string
  /** Default: API_HOST (0.0.0.0). */
  host?: string
  /** Default: API_PORT (5000); 0 picks a free port. */
  port?: number
  /** Handle SIGTERM and SIGINT by closing gracefully; default true. */
  signals?: boolean
  /** How long requests in flight get to finish once shutdown starts; then the remaining connections are closed. Default 10 s. */
  drainMs?: number
  /** During the drain, a connection with nothing being answered is closed once quiet this long. Default 500 ms. */
  quietMs?: number
  /** Settings from here instead of process.env (tests). */
  env?: NodeJS.ProcessEnv
  /** Default: pino JSON lines on stdout at LOG_LEVEL. */
  logger?: Logger
}

export interface RunningServer {
  app: FastifyInstance
  /** e.g. http://127.0.0.1:5000 */
  url: string
  /** The model served when it started. */
  model: ServedModel
  /** Close gracefully (what SIGTERM does); resolves when closed. Calling it again returns the same promise. */
  close(): Promise<void>
  /** Resolves when the server has closed, whatever closed it. */
  closed: Promise<void>
}

export const DEFAULT_DRAIN_MS = 10_000
/** A connection with nothing being answered is closed during the drain once no byte has come on it for this long. */
export const DEFAULT_QUIET_MS = 500

export async function startServer(o: StartServerOptions = {}): Promise<RunningServer> {
  // 1. settings and folders of the project
  const root = o.root ?? findProjectRoot()
  const settings = loadSettings(settingsSchema, { root, ...(o.env ? { env: o.env } : {}) })
  const paths = projectPaths(root, settings)
  const env = o.env ?? process.env
  const { pino } = loadPino()
  const out = pino.destination({ fd: 1, sync: true })
  const logger = o.logger ?? pino({ name: 'mlskel-serve', level: settings.LOG_LEVEL, base: { name: 'mlskel-serve' }, timestamp: pino.stdTimeFunctions.isoTime }, logFormatFor(settings.LOG_FORMAT, Boolean(process.stdout.isTTY)) === 'json' ? out : textStream(out))
  const drainMs = o.drainMs ?? DEFAULT_DRAIN_MS

  // 2. the server, with its model loaded (no model: MLSKEL_MODEL_NOT_FOUND, before anything listens)
  const app = await buildServer({
    modelsDir: paths.models,
    metadataDir: paths.metadata,
    ...(o.modelId === undefined ? {} : { modelId: o.modelId }),
    maxRows: settings.API_MAX_ROWS,
    maxConnections: settings.API_MAX_CONNECTIONS,
    requestTimeoutMs: settings.API_REQUEST_TIMEOUT_MS,
    ...projectTitle(root),
    root,
    ...(settings.API_TOKEN ? { apiToken: settings.API_TOKEN } : {}),
    errorDetails: settings.API_ERROR_DETAILS ?? env.NODE_ENV !== 'production',
    logger,
    requireModel: true,
  })

  // 3. listen
  let url: string
  try {
    url = await app.listen({ host: o.host ?? settings.API_HOST, port: o.port ?? settings.API_PORT })
  } catch (error) {
    await app.close()
    throw error
  }
  // 4. graceful shutdown (connections.ts): the listener closes, every answer says Connection: close, a connection is
  // closed once it is quiet with nothing being answered, and after drainMs whatever is left; then the app closes.
  let closing: Promise<void> | undefined
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve))
  const connections = serverConnections(app)
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await connections.drain({
          quietMs: o.quietMs ?? DEFAULT_QUIET_MS,
          boundMs: drainMs,
          onForce: (open) => logger.warn({ drain_ms: drainMs, connections: open }, 'requests still in flight after the drain bound: closing their connections'),
        })
        await app.close()
      } finally {
        stopWatch()
        process.off('SIGTERM', onSignal)
        process.off('SIGINT', onSignal)
        logger.info('closed')
        resolveClosed()
      }
    })()
    return closing
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // a second signal: stop waiting for requests in flight
      app.server.closeAllConnections()
      for (const socket of connections.sockets()) socket.destroy()
      return
    }
    logger.info({ signal }, 'shutting down: draining requests in flight')
    void close()
  }
  // Started through a wrapper that does not pass signals on (`sh -c` under npx, npm run, make: the shell dies of the
  // SIGTERM it is sent, and we would be left serving), the server shuts down as if signalled when that wrapper is gone.
  const stopWatch =
    (o.signals ?? true)
      ? watchWrapper((pid) => {
          if (closing) return
          logger.info({ wrapper_pid: pid }, 'shutting down: the shell that started the server is gone (it was signalled)')
          void close()
        })
      : () => undefined
  if (o.signals ?? true) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }
  return { app, url, model: servedModelOf(app)!, close, closed }
}

/** The API's title: the project's package name ("churn-model API"), when its package.json names it. */
function projectTitle(root: string): { title?: string } {
  try {
    const name = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown }).name
    return typeof name === 'string' && name ? { title: `${name} API` } : {}
  } catch {
    return {}
  }
}
