import { Agent, createServer, request, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { guardConnections, type Connections } from './connections.js'

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A server whose answers take `delayMs` (a path of /slow takes 300 ms more), guarded by guardConnections. */
async function serve(maxConnections: number, delayMs = 0): Promise<{ server: Server; port: number; connections: Connections }> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => setTimeout(() => res.end('ok'), delayMs + (req.url === '/slow' ? 300 : 0)))
  })
  const connections = guardConnections(server, { maxConnections })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port, connections }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until `condition` holds, up to `ms`: what a client sees (its socket connected, closed) reaches the server's
 * side (accepted, evicted) a moment later, longer on a loaded machine. The assertion after it says what was expected.
 */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !condition() && Date.now() < deadline; ) await sleep(10)
}

function get(port: number, path = '/', agent?: Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ...(agent ? { agent } : {}) }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }))
    })
    req.on('error', reject)
    req.end('x')
  })
}

/** Silent connections: connected, nothing sent. */
async function flood(port: number, n: number): Promise<Socket[]> {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<Socket>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    socket.on('error', () => undefined)
  })))
  await sleep(50)
  return sockets
}

describe('the connection cap', () => {
  it('holds at most maxConnections, closing the oldest idle ones, so a new request is still answered', async () => {
    const { port, connections } = await serve(5)
    const sockets = await flood(port, 40)
    // every socket the clients opened accepted (the last ones may still wait in the listen backlog)
    await until(() => connections.evicted + connections.size >= 40)
    expect(connections.size).toBeLessThanOrEqual(5)
    expect(connections.evicted).toBeGreaterThanOrEqual(35)
    const stillOpen = () => sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length
    await until(() => stillOpen() <= 5, 2_000)
    expect(stillOpen()).toBeLessThanOrEqual(5)
    expect((await get(port)).status).toBe(200)
    for (const socket of sockets) socket.destroy()
  })

  it('never closes a connection whose request is being answered', async () => {
    const { port } = await serve(3)
    const slow = get(port, '/slow')
    await sleep(50)
    const sockets = await flood(port, 20)
    expect(await slow).toMatchObject({ status: 200 })
    for (const socket of sockets) socket.destroy()
  })
})

describe('the drain', () => {
  it('answers every request keep-alive clients send during it, with Connection: close, then closes the quiet connections', async () => {
    const { server, port, connections } = await serve(100, 1)
    let draining = false
    let stop = false
    const failures: string[] = []
    let closedAnswers = 0
    let answeredDuring = 0
    const client = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      while (!stop) {
        try {
          const { connection } = await get(port, '/', agent)
          if (draining) answeredDuring++
          if (connection === 'close') closedAnswers++
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code
          // a new connection refused after the listener closed was never sent: a client sends it elsewhere
          if (code === 'ECONNREFUSED') await sleep(5)
          else failures.push(code ?? String(error))
        }
      }
      agent.destroy()
    }
    const clients = Array.from({ length: 8 }, client)
    // and an idle keep-alive connection, which only the quiet rule closes
    const idle = await flood(port, 1)
    await sleep(200)
    draining = true
    const started = Date.now()
    await connections.drain({ quietMs: 100, boundMs: 5_000 })
    expect(Date.now() - started).toBeLessThan(5_000)
    stop = true
    await Promise.all(clients)
    expect(failures).toEqual([])
    expect(answeredDuring).toBeGreaterThan(0)
    expect(closedAnswers).toBeGreaterThanOrEqual(8)
    // the server closed it in the drain; the client's socket sees the end when its event comes
    await until(() => idle[0]!.readableEnded || idle[0]!.destroyed, 2_000)
    expect(idle[0]!.readableEnded || idle[0]!.destroyed).toBe(true)
    expect(server.listening).toBe(false)
    expect(connections.size).toBe(0)
  })

  it('closes what is still open at its bound', async () => {
    const { port, connections } = await serve(10)
    const stalled = new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'content-length': 100 } })
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      req.on('response', () => resolve('answered'))
      req.write('{')
      // it keeps sending a byte now and then: never quiet
      const drip = setInterval(() => req.write(' '), 20)
      req.on('close', () => clearInterval(drip))
    })
    await until(() => connections.size === 1)
    let forced = 0
    await connections.drain({ quietMs: 100, boundMs: 300, onForce: (open) => (forced = open) })
    expect(forced).toBe(1)
    expect(await stalled).toMatch(/ECONNRESET|socket hang up|EPIPE/)
  })
})
