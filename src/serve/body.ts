// Request bodies of the prediction API, read within a bound on what they may cost. Fastify's own parsers take any
// body up to one fixed limit and hand it to JSON.parse whole: four 10 MiB bodies of tiny rows, each refused after
// parsing for having too many rows, took the server past 500 MiB (JSON.parse makes 20-odd bytes of heap per byte of
// `[{},{},...]`). Here, before a byte is kept:
//   - the limit follows the served model: API_MAX_ROWS rows of its inputs, generously sized (bodyLimitsOf);
//   - a Content-Length over it is refused without reading (with `Expect: 100-continue`, before 100 Continue);
//   - every body being read holds a share of one budget for the whole server (what it declared, or the limit when it
//     is chunked); a body that does not fit is refused with 503 and Retry-After, so N concurrent bodies cost at most
//     the budget, whatever N;
// and once read (one chunk as it came, or several joined once into a buffer of the Content-Length), a JSON body whose
// brackets and commas say it holds more values than API_MAX_ROWS rows could is refused before JSON.parse, so the
// parse makes at most a bounded number of values, whatever the body's shape.
import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import secureJson from 'secure-json-parse'
import type { InputSchema } from '../data/index.js'
import { ServeError } from './errors.js'

/** What one request body may be: its bytes, and (JSON) how many values it may hold. */
export interface BodyLimits {
  bytes: number
  values: number
  /** Non-empty lines a CSV body may have: a header and the rows. */
  lines: number
}

/** The largest body the server takes, whatever the model: 10 MiB. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
/** The smallest body limit a model gets, however few its inputs: a few rows always fit. */
export const MIN_BODY_LIMIT = 64 * 1024
/** Bytes of request bodies the server holds at once, all requests together (bodyBudget's default). */
export const DEFAULT_BODY_BUDGET = 32 * 1024 * 1024

/**
 * The body limits for a model's inputs: `maxRows` rows, each sized for its inputs written as JSON records with room
 * to spare (a number or date up to 40 characters, a category up to twice its longest known value or 64, keys,
 * quotes, indentation), between MIN_BODY_LIMIT and `ceiling`; and the most JSON values such rows make in any of
 * the accepted shapes (rows of arrays or records, MLflow's dataframe_split with its index, columns).
 */
export function bodyLimitsOf(schema: InputSchema, maxRows: number, ceiling = DEFAULT_BODY_LIMIT): BodyLimits {
  let rowBytes = 32
  for (const field of schema.fields) {
    const value = field.type === 'category' ? Math.max(64, 2 * Math.max(0, ...field.categories.map((c) => c.length)) + 8) : 40
    rowBytes += field.name.length + 12 + value
  }
  const width = schema.fields.length
  return {
    bytes: Math.min(ceiling, Math.max(MIN_BODY_LIMIT, maxRows * rowBytes)),
    values: maxRows * (width + 2) + 2 * width + 16,
    lines: maxRows + 1,
  }
}

/** The bytes every body being read holds, all requests together; a body that does not fit is refused (503). */
export class BodyBudget {
  private used = 0
  constructor(readonly total: number) {}

  get inUse(): number {
    return this.used
  }

  /** Take `bytes` for a body about to be read; false when they do not fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.total) return false
    this.used += bytes
    return true
  }

  give(bytes: number): void {
    this.used -= bytes
  }
}

/** Content-Length as a number, or undefined (chunked); Node's parser has already refused malformed ones. */
export function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length']
  return value === undefined ? undefined : Number(value)
}

export function tooLarge(bytes: number | undefined, limit: number): ServeError {
  return new ServeError('MLSKEL_SERVE_BODY_TOO_LARGE', `the request body${bytes === undefined ? '' : ` (${bytes} bytes)`} is larger than the ${limit} bytes the server takes for the served model (API_MAX_ROWS rows of its inputs)`)
}

export function busy(): ServeError {
  return new ServeError('MLSKEL_SERVE_BUSY', 'the server is reading as many request bodies as its memory budget allows; retry in a moment')
}

/**
 * Read a body of at most `limit` bytes, then call `done` once: with the body, or with MLSKEL_SERVE_BODY_TOO_LARGE as
 * soon as more arrives than the limit, or MLSKEL_SERVE_MALFORMED_REQUEST when the client stops half-way. A body that
 * comes in one chunk is that chunk (a copy of its own, made by Node's parser); one of several is joined once, into a
 * buffer of its Content-Length when it has one. A callback rather than a promise: this runs for every request.
 */
export function readBody(payload: Readable, declared: number | undefined, limit: number, done: (error: ServeError | undefined, body?: Buffer) => void): void {
  let first: Buffer | undefined
  let whole: Buffer | undefined
  let chunks: Buffer[] | undefined
  let received = 0
  const max = declared ?? limit
  const finish = (error: ServeError | undefined, body?: Buffer) => {
    payload.off('data', onData)
    payload.off('end', onEnd)
    payload.off('error', onError)
    done(error, body)
  }
  const onData = (chunk: Buffer) => {
    // more than the Content-Length (Node's parser stops that) or than the limit: stop reading now
    if (received + chunk.length > max) return finish(tooLarge(undefined, limit))
    if (received === 0) first = chunk
    else if (declared !== undefined) {
      if (!whole) {
        whole = Buffer.allocUnsafe(declared)
        first!.copy(whole, 0)
      }
      chunk.copy(whole, received)
    } else (chunks ??= [first!]).push(chunk)
    received += chunk.length
  }
  const onEnd = () => {
    if (declared !== undefined && received !== declared) return finish(new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `the body has ${received} bytes, but Content-Length says ${declared}`))
    finish(undefined, whole ?? (chunks ? Buffer.concat(chunks, received) : (first ?? Buffer.alloc(0))))
  }
  // a connection closed half-way destroys the request with an error ('aborted')
  const onError = () => finish(new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', 'the request body did not arrive whole: the client stopped sending'))
  payload.on('data', onData)
  payload.on('end', onEnd)
  payload.on('error', onError)
  payload.resume()
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_BRACKET = 0x5b
const OPEN_BRACE = 0x7b
const NEWLINE = 0x0a
const RETURN = 0x0d

/**
 * An upper bound on the values JSON.parse would make of `body`: every array or object element follows an opening
 * bracket or a comma, so the values are at most the commas and opening brackets outside strings, plus the root.
 * Counting stops once past `stopAt`. A byte loop: about 1 ns a byte, far less than JSON.parse.
 */
export function jsonValuesAtMost(body: Uint8Array, stopAt: number): number {
  let values = 1
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!
    if (inString) {
      if (byte === BACKSLASH) i++
      else if (byte === QUOTE) inString = false
    } else if (byte === QUOTE) inString = true
    else if (byte === COMMA || byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++values > stopAt) return values
    }
  }
  return values
}

/**
 * CSV lines with something on them (the header and the rows), each ended by \n, \r\n or \r outside a quoted field (a
 * quoted field's line breaks are its own): at least the records csv-parse finds in `body`. Counting stops once past
 * `stopAt`.
 */
export function nonEmptyLinesAtMost(body: Uint8Array, stopAt: number): number {
  let lines = 0
  let content = false
  let quoted = false
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!
    if (byte === QUOTE) {
      // "" within a quoted field turns quoting off and on again
      quoted = !quoted
      content = true
    } else if (quoted) continue
    else if (byte === NEWLINE || byte === RETURN) {
      if (content && ++lines > stopAt) return lines
      content = false
    } else if (byte > 0x20) content = true
  }
  return content ? lines + 1 : lines
}

/** A JSON body within the limits, parsed; `__proto__` and `constructor.prototype` keys refused, as Fastify does. */
export function parseJsonBody(body: Buffer, limits: BodyLimits, maxRows: number): unknown {
  if (body.length === 0) throw new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', 'the body is empty, but Content-Type says it is JSON')
  if (jsonValuesAtMost(body, limits.values) > limits.values) {
    throw new ServeError('MLSKEL_SERVE_TOO_MANY_ROWS', `the request holds more values than ${maxRows} rows of the model's inputs can; the server takes at most ${maxRows} rows per request`)
  }
  try {
    return secureJson.parse(body.toString('utf8'), null, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    throw new ServeError('MLSKEL_SERVE_MALFORMED_REQUEST', `the body is not valid JSON: ${(error as Error).message}`)
  }
}

/** A CSV body within the limits (counted before csv-parse reads it), as text. */
export function csvText(body: Buffer, limits: BodyLimits, maxRows: number): string {
  const lines = nonEmptyLinesAtMost(body, limits.lines)
  if (lines > limits.lines) throw new ServeError('MLSKEL_SERVE_TOO_MANY_ROWS', `the request has more than ${maxRows} rows; the server takes at most ${maxRows} per request`)
  return body.toString('utf8')
}
