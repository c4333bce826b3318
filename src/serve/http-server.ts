// The Node HTTP server under the prediction API's Fastify app (Fastify's serverFactory): the timeouts enforced as
// documented, and the answers Node itself would give before Fastify sees a request given in mlskel's error shape.
// Node answers a request without Host, an Expect it does not know and a CONNECT on its own, with an empty body or
// none; here each gets `{error: {code, message, fix}}` like every other answer, and its connection is closed.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { errorBody, ServeError } from './errors.js'

export interface HttpServerOptions {
  /** A request (headers and body) must arrive whole within this (408 after). */
  requestTimeoutMs: number
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number
  /** A socket with no activity at all is closed after this. */
  connectionTimeoutMs: number
  /** Whether error answers carry `details`. */
  errorDetails: boolean
  /** With `Expect: 100-continue`: the error to answer instead of 100 Continue (a body too large), or undefined. */
  refuseBeforeContinue(request: IncomingMessage): ServeError | undefined
  /** An answer given here, outside Fastify (for the request metrics). */
  onAnswer?(method: string, status: number): void
}

/** Node's timeouts are checked every connectionsCheckingInterval (30 s by default: a 30 s timeout cut at up to 60 s). */
export function checkingInterval(requestTimeoutMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(requestTimeoutMs / 10)))
}

export function createHttpServer(handler: RequestListener, o: HttpServerOptions): Server {
  const server = createServer(
    {
      requestTimeout: o.requestTimeoutMs,
      headersTimeout: o.requestTimeoutMs,
      // checked often enough that each timeout is enforced within a tenth of it, or a second
      connectionsCheckingInterval: checkingInterval(o.requestTimeoutMs),
      keepAliveTimeout: o.keepAliveTimeoutMs,
      // checked below, to answer in mlskel's shape (Node's own 400 has no body)
      requireHostHeader: false,
    },
    (request, response) => {
      if (request.headers.host === undefined && request.httpVersionMajor === 1 && request.httpVersionMinor >= 1) {
        return answer(request, response, new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', 'an HTTP/1.1 request needs a Host header'))
      }
      handler(request, response)
    },
  )
  server.setTimeout(o.connectionTimeoutMs)
  // Expect: 100-continue: refuse a body too large before the client sends it
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const refusal = o.refuseBeforeContinue(request)
    if (refusal) return answer(request, response, refusal)
    response.writeContinue()
    server.emit('request', request, response)
  })
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    answer(request, response, new ServeError('MLSKEL_SERVE_EXPECTATION_FAILED', `the server meets no expectation but 100-continue, got Expect: ${String(request.headers.expect)}`))
  })
  // CONNECT is not something a prediction API does (Node would close the connection without a word)
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const error = new ServeError('MLSKEL_SERVE_METHOD_NOT_ALLOWED', 'the server is not a proxy: CONNECT is not taken')
    const body = JSON.stringify(errorBody(error, o.errorDetails))
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    o.onAnswer?.(request.method ?? 'CONNECT', 405)
  })

  function answer(request: IncomingMessage, response: ServerResponse, error: ServeError): void {
    const body = JSON.stringify(errorBody(error, o.errorDetails))
    response.writeHead(error.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' })
    response.end(body)
    o.onAnswer?.(request.method ?? 'GET', error.statusCode)
  }
  return server
}
