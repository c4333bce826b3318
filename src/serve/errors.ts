// The prediction API's errors: each answer is `{error: {code, message, details?}}` with a code from the one error
// registry (src/errors), whatever failed — our validation, Fastify's body parsing, an unknown route.
import { errorCatalog, type ErrorCode } from '../errors/index.js'

/** One thing wrong with the input: the row (0-based) and field it is in, when it is in one. */
export interface Problem {
  row: number | null
  field: string | null
  problem: string
}

export type ServeErrorCode = Extract<ErrorCode, `MLSKEL_SERVE_${string}`>

export const statusOfCode: Record<ServeErrorCode, number> = {
  MLSKEL_SERVE_INVALID_INPUT: 400,
  MLSKEL_SERVE_MALFORMED_REQUEST: 400,
  MLSKEL_SERVE_UNAUTHORIZED: 401,
  MLSKEL_SERVE_ROUTE_NOT_FOUND: 404,
  MLSKEL_SERVE_METHOD_NOT_ALLOWED: 405,
  MLSKEL_SERVE_TIMEOUT: 408,
  MLSKEL_SERVE_TOO_MANY_ROWS: 413,
  MLSKEL_SERVE_EXPECTATION_FAILED: 417,
  MLSKEL_SERVE_BODY_TOO_LARGE: 413,
  MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE: 415,
  MLSKEL_SERVE_HEADERS_TOO_LARGE: 431,
  MLSKEL_SERVE_INTERNAL: 500,
  MLSKEL_SERVE_BUSY: 503,
  MLSKEL_SERVE_NOT_READY: 503,
}

/** At most this many problems are listed in `details` (the message still gives the total). */
export const MAX_DETAILS = 100

export class ServeError extends Error {
  override readonly name = 'ServeError'
  readonly code: ServeErrorCode
  readonly statusCode: number
  readonly details: Problem[] | undefined

  constructor(code: ServeErrorCode, message: string, details?: Problem[]) {
    super(message)
    this.code = code
    this.statusCode = statusOfCode[code]
    this.details = details
  }
}

export interface ErrorBody {
  error: { code: ServeErrorCode; message: string; fix: string; details?: Problem[] }
}

/** The JSON answer for an error; `details` only when asked for (API_ERROR_DETAILS hides them in production). */
export function errorBody(error: ServeError, withDetails: boolean): ErrorBody {
  const body: ErrorBody = { error: { code: error.code, message: error.message, fix: errorCatalog[error.code] } }
  if (withDetails && error.details && error.details.length > 0) body.error.details = error.details
  return body
}

/** A ServeError for whatever a route, hook or Fastify itself threw: 4xx stay 4xx (bad input never yields a 5xx). */
export function toServeError(error: unknown): ServeError {
  if (error instanceof ServeError) return error
  const e = (error ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? e.code : ''
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServeError('MLSKEL_SERVE_BODY_TOO_LARGE', 'the request body is larger than the server accepts')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new ServeError('MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Type: ${String(e.message ?? '')}`.trim())
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', 'the body is empty, but Content-Type says it is JSON')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `the body is not valid JSON: ${String(e.message ?? '')}`)
  }
  if (status === 413) return new ServeError('MLSKEL_SERVE_BODY_TOO_LARGE', 'the request body is larger than the server accepts')
  if (status === 415) return new ServeError('MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE', 'unsupported Content-Type')
  if (error instanceof SyntaxError || (status >= 400 && status < 500)) {
    return new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `bad request: ${typeof e.message === 'string' ? e.message : 'the request could not be read'}`)
  }
  return new ServeError('MLSKEL_SERVE_INTERNAL', 'the server failed to answer this request; the error is in its log')
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/**
 * The raw HTTP answer for an error Node's parser raises before Fastify sees a request (bad framing, headers too
 * large, a request that did not arrive in time), in mlskel's error shape like every other answer; the connection
 * is closed after it, as the request cannot be trusted to end where the parser thinks.
 */
export function clientErrorResponse(error: { code?: string; message?: string }, withDetails: boolean): string {
  const serveError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ServeError('MLSKEL_SERVE_HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ServeError('MLSKEL_SERVE_TIMEOUT', 'the request did not arrive whole within the server\'s request timeout')
        : new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `the request is not valid HTTP${error.code ? ` (${error.code})` : ''}`)
  const body = JSON.stringify(errorBody(serveError, withDetails))
  return `HTTP/1.1 ${serveError.statusCode} ${REASONS[serveError.statusCode] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}
