// `mlskel serve`: start the prediction API on the project's newest (or a pinned) model, and wait until it is
// shut down. The line saying where it listens goes to stderr: stdout is the server's JSON log stream.
import { MlskelError } from '../../errors/index.js'

export interface ServeCommandOptions {
  model?: string
  host?: string
  port?: string
}

export default async function serve(options: ServeCommandOptions): Promise<void> {
  const port = options.port === undefined ? undefined : parsePort(options.port)
  const { startServer } = await import('../../serve/index.js')
  let running
  try {
    running = await startServer({ ...(options.model === undefined ? {} : { modelId: options.model }), ...(options.host === undefined ? {} : { host: options.host }), ...(port === undefined ? {} : { port }) })
  } catch (error) {
    if (error instanceof MlskelError && error.code === 'MLSKEL_MODEL_NOT_FOUND' && options.model === undefined) {
      throw new MlskelError(error.code, `nothing to serve: ${error.message}`, {
        where: error.where,
        cause: error,
        fix: 'Train a model first: run the pipeline (`mlskel run`, or `npm run pipeline`), then `mlskel serve` again.',
      })
    }
    throw error
  }
  const { url, model } = running
  process.stderr.write(`mlskel serve: model ${model.id} (run ${model.runId}) at ${url}\n  POST ${url}/predict, ${url}/invocations; GET /health, /ready, /version, /metadata, /metrics, /docs\n  ${options.model === undefined ? 'newer trained models are served as they appear; ' : ''}SIGTERM or Ctrl-C stops it gracefully\n`)
  await running.closed
  // The server is closed; whatever still holds the event loop (a stray timer in a project's loader) must not keep
  // the process alive, and a graceful stop exits 0.
  setTimeout(() => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0), 1000).unref()
}

function parsePort(text: string): number {
  const port = Number(text)
  if (!/^\d+$/.test(text.trim()) || port > 65535) throw new MlskelError('MLSKEL_USAGE', `--port takes a port number from 0 to 65535 (0: any free port), got "${text}"`, { exitCode: 2 })
  return port
}
