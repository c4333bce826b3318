// The prediction API's connections: a cap that keeps the server answering when clients open more than it can hold,
// and the drain at shutdown that answers every request already sent.
//
// The cap. Node's own `maxConnections` drops the newcomer: under a flood of connections that send nothing (or half a
// request), every new connection, a health probe's among them, would be dropped until the flood's time out. Here an
// older connection makes room instead, so a new connection always gets its turn and file descriptors stay bounded by
// the cap: the oldest never answered (a flood's), else the oldest idle one, never one whose answer is being made.
//
// The drain. Node's server.close() also closes the connections that are idle at that moment; a keep-alive client
// that sent its next request just then gets EOF for a request already on the wire. Here, as load balancers expect:
// the listener closes (no new connections), every answer from then on says `Connection: close` (the client opens
// its next connection elsewhere), and a connection is closed by us only once nothing is being answered on it and it
// has been quiet for `quietMs` (no byte received): a client still sending gets its answer first.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'

export interface ConnectionsOptions {
  /** Most open connections; past it the oldest one not being answered is closed. */
  maxConnections: number
  /** A connection was closed to make room for a new one. */
  onEvict?: () => void
}

export interface DrainOptions {
  /** A connection quiet this long, with nothing being answered on it, is closed. */
  quietMs: number
  /** After this, the connections still open are closed whatever they are doing. */
  boundMs: number
  /** Called when the bound is reached with connections still open (how many). */
  onForce?: (open: number) => void
}

export interface Connections {
  /** Open connections now. */
  readonly size: number
  /** Connections closed to make room for newer ones, since the server started. */
  readonly evicted: number
  /** Stop accepting, answer what arrives, then close quiet connections (see above); resolves when none is left. */
  drain(options: DrainOptions): Promise<void>
  /** The open connections' sockets (a second signal closes them at once). */
  sockets(): Socket[]
}

/** A response being written on the socket (Node sets `_httpMessage` from the request's headers to the response's end). */
interface HttpSocket extends Socket {
  _httpMessage?: (ServerResponse & { req?: IncomingMessage }) | null
}

/** A request on it has been read whole and its answer is not yet written: closing it would lose that answer. */
function answering(socket: HttpSocket): boolean {
  const response = socket._httpMessage
  return Boolean(response && !response.writableEnded && response.req?.complete)
}

export function guardConnections(server: Server, options: ConnectionsOptions): Connections {
  const { maxConnections } = options
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new TypeError(`maxConnections must be a whole number of at least 1, got ${String(maxConnections)}`)
  // insertion order is age order: the first not being answered is the one to close
  const open = new Set<HttpSocket>()
  let evicted = 0
  server.on('connection', (socket: HttpSocket) => {
    open.add(socket)
    socket.once('close', () => open.delete(socket))
    if (open.size <= maxConnections) return
    // The oldest connection that was never answered (a flood's, silent or half-sent) goes first; then the oldest
    // idle one (a keep-alive client's, which may be sending its next request just now); never one being answered.
    let idle: HttpSocket | undefined
    let victim: HttpSocket = socket
    for (const old of open) {
      if (old === socket) break
      if (answering(old)) continue
      if (old.bytesWritten === 0) {
        victim = old
        break
      }
      idle ??= old
    }
    if (victim === socket && idle) victim = idle
    // every other connection is being answered: the newcomer waits elsewhere
    victim.destroy()
    open.delete(victim)
    evicted++
    options.onEvict?.()
  })

  let draining: Promise<void> | undefined
  const drain = (o: DrainOptions): Promise<void> =>
    (draining ??= new Promise<void>((resolve) => {
      // 1. stop accepting: the net.Server's close, not http.Server's (which would also close idle connections now)
      if (server.listening) NetServer.prototype.close.call(server)
      // 2. every answer from now on closes its connection: the request listener added here runs before Fastify's
      const closeAfter = (_request: IncomingMessage, response: ServerResponse) => void response.setHeader('connection', 'close')
      server.prependListener('request', closeAfter)
      for (const socket of open) {
        const response = socket._httpMessage
        if (response && !response.headersSent) response.setHeader('connection', 'close')
      }
      // 3. close each connection once it is quiet and nothing is being answered on it
      const seen = new Map<HttpSocket, { bytes: number; since: number }>()
      const started = Date.now()
      const tick = setInterval(sweep, Math.max(5, Math.min(50, Math.floor(o.quietMs / 4))))
      sweep()
      function sweep(): void {
        const now = Date.now()
        if (now - started >= o.boundMs) {
          if (open.size > 0) o.onForce?.(open.size)
          for (const socket of open) socket.destroy()
          open.clear()
        }
        for (const socket of open) {
          const last = seen.get(socket)
          if (!last || last.bytes !== socket.bytesRead || answering(socket)) {
            seen.set(socket, { bytes: socket.bytesRead, since: now })
          } else if (now - last.since >= o.quietMs) {
            socket.destroy()
            open.delete(socket)
          }
        }
        if (open.size === 0) {
          clearInterval(tick)
          server.off('request', closeAfter)
          resolve()
        }
      }
    }))

  return {
    get size() {
      return open.size
    },
    get evicted() {
      return evicted
    },
    drain,
    sockets: () => [...open],
  }
}
