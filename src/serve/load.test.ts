// The prediction server as it runs: the built CLI (`mlskel serve`), listening on 127.0.0.1, under concurrent load
// and attack, each test bounded in time. What it guarantees (README, "Serving"): memory bounded whatever the bodies
// sent, no request already sent dropped on SIGTERM (however the server was started), timeouts enforced as set, and
// /health answering through a flood of connections.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI } from '../cli/test-cli.js'
import { inputSchemaOf } from '../data/encode.js'
import { bodyLimitsOf } from './body.js'
import { irisProject, readIris, type IrisProject } from './test-models.js'

const setosa = [5.1, 3.5, 1.4, 0.2]
/** The bound stated in the README for the iris server under any number of concurrent maximal bodies. */
const RSS_BOUND_MIB = 256

let project: IrisProject

beforeAll(async () => {
  project = await irisProject()
  await writeFile(join(project.root, 'mlskel.yaml'), 'stages: {}\n')
  await project.train(7)
})
afterAll(async () => {
  await project.remove()
})

interface Served {
  child: ChildProcess
  /** The server's own pid (the wrapper's child when started through `sh -c`). */
  pid: () => number
  url: URL
  stdout: () => string
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `mlskel serve` from dist, on a free port; through `sh -c` (as npx, npm run and make start it) when asked. */
async function serve(env: Record<string, string> = {}, o: { shell?: boolean } = {}): Promise<Served> {
  const command = [process.execPath, CLI, 'serve', '--host', '127.0.0.1', '--port', '0']
  const child = o.shell ? spawn('/bin/sh', ['-c', command.join(' ')], { cwd: project.root, env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(command[0]!, command.slice(1), { cwd: project.root, env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const deadline = Date.now() + 20_000
  let url: string | undefined
  while (!(url = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1])) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`mlskel serve did not start:\n${err}`)
    await sleep(25)
  }
  const serverPid = o.shell ? Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]) : child.pid!
  return { child, pid: () => serverPid, url: new URL(url), stdout: () => out, exit }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function rssMib(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

interface Answer {
  status: number
  body: string
}

/** One POST of `body` on a connection of its own; chunked (no Content-Length) when asked. */
function post(url: URL, path: string, body: string | Buffer, o: { chunked?: boolean; agent?: Agent; type?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': o.type ?? 'application/json' }
    if (!o.chunked) headers['content-length'] = Buffer.byteLength(body)
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers, agent: o.agent ?? false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The raw bytes the server answers to `bytes`, until it closes the connection; and when it did. */
function raw(url: URL, bytes: string, o: { drip?: string; everyMs?: number } = {}): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now()
    let answer = ''
    let drip: NodeJS.Timeout | undefined
    const socket = connect(Number(url.port), '127.0.0.1', () => {
      socket.write(bytes)
      if (o.drip) drip = setInterval(() => socket.write(o.drip!), o.everyMs ?? 100)
    })
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    const done = () => {
      clearInterval(drip)
      resolve({ answer, ms: Date.now() - started })
    }
    socket.on('close', done)
    socket.on('error', () => undefined)
  })
}

function expectMlskelError(answer: Answer | string, status: number, code: string): void {
  const text = typeof answer === 'string' ? answer : `HTTP/1.1 ${answer.status} \r\n\r\n${answer.body}`
  expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
  expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code, message: expect.any(String), fix: expect.any(String) } })
}

describe('memory under large bodies (issue 14, item 1)', () => {
  it(`stays under ${RSS_BOUND_MIB} MiB with 48 concurrent maximal bodies of every shape, each answered or refused in mlskel's shape`, { timeout: 120_000 }, async () => {
    const server = await serve()
    try {
      const limit = bodyLimitsOf(inputSchemaOf(readIris().signature), 10_000).bytes
      const fill = (head: string, unit: string, tail: string, size: number) => head + unit.repeat(Math.floor((size - head.length - tail.length) / unit.length)) + tail
      const bodies: { name: string; body: string; chunked?: boolean; statuses: number[] }[] = [
        // the shapes that cost the most heap per byte once parsed, each just under the model's limit
        { name: 'rows of numbers', body: fill('{"features":[', '[5.1,3.5,1.4,0.2],', '[1,2,3,4]]}', limit - 10), statuses: [413, 503] },
        { name: 'empty objects', body: fill('{"features":[', '{},', '{}]}', limit - 10), statuses: [413, 503] },
        { name: 'one long string', body: fill('{"features":["', 'a', '"]}', limit - 10), statuses: [400, 503] },
        { name: 'chunked rows', body: fill('{"records":[', '{},', '{}]}', limit - 10), chunked: true, statuses: [413, 503] },
        // what the server took before: 10 MiB, refused now on its Content-Length
        { name: '10 MiB', body: fill('{"features":[', '[5.1,3.5,1.4,0.2],', '[1,2,3,4]]}', 10 * 1024 * 1024 - 10), statuses: [413] },
        // and the largest request it takes: 10,000 records
        { name: 'API_MAX_ROWS records', body: JSON.stringify({ records: Array.from({ length: 10_000 }, () => ({ sepal_length: 5.123456789, sepal_width: 3.512345678, petal_length: 1.412345678, petal_width: 0.212345678 })) }), statuses: [200, 503] },
      ]
      let peak = rssMib(server.pid())
      const sampler = setInterval(() => (peak = Math.max(peak, rssMib(server.pid()))), 5)
      const sent = Array.from({ length: 48 }, (_, i) => bodies[i % bodies.length]!)
      const answers = await Promise.all(sent.map((b) => post(server.url, '/predict', b.body, { chunked: b.chunked ?? false }).catch((error: NodeJS.ErrnoException) => ({ status: 0, body: error.code ?? '' }))))
      await sleep(200)
      clearInterval(sampler)
      sent.forEach((b, i) => {
        const answer = answers[i]!
        // a client still writing a body refused on its Content-Length may see the connection close first
        if (answer.status === 0 && b.statuses.includes(413)) return void expect(answer.body, b.name).toMatch(/EPIPE|ECONNRESET/)
        expect(b.statuses, `${b.name}: ${answer.status} ${answer.body.slice(0, 200)}`).toContain(answer.status)
        if (answer.status !== 200) expect(JSON.parse(answer.body), b.name).toMatchObject({ error: { code: expect.stringMatching(/^MLSKEL_SERVE_/), fix: expect.any(String) } })
      })
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0)
      expect(peak).toBeLessThan(RSS_BOUND_MIB)
      // and it goes on answering, its body budget whole again, also after clients that left half-way
      expect((await post(server.url, '/predict', JSON.stringify({ features: setosa }))).status).toBe(200)
      for (const framing of ['Content-Length: 100000\r\n\r\n{"features', 'Transfer-Encoding: chunked\r\n\r\n5\r\n{"fea\r\n']) {
        const socket = connect(Number(server.url.port), '127.0.0.1', () => socket.write(`POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${framing}`))
        await sleep(100)
        socket.destroy()
      }
      await sleep(100)
      expect(await (await fetch(`${server.url.origin}/metrics`)).text()).toMatch(/^mlskel_http_body_bytes_in_flight 0$/m)
    } finally {
      server.child.kill('SIGKILL')
    }
  })
})

/** Keep-alive clients sending predictions back to back until stopped: what was answered, and what failed once sent. */
function keepAliveLoad(url: URL, clients: number): { stop(): Promise<void>; answered: () => number; failures: string[] } {
  let stopped = false
  let answered = 0
  const failures: string[] = []
  const body = JSON.stringify({ features: setosa })
  const loops = Array.from({ length: clients }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    while (!stopped) {
      try {
        const answer = await post(url, '/predict', body, { agent })
        if (answer.status === 200) answered++
        else failures.push(`${answer.status} ${answer.body}`)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        // a new connection refused once the listener is closed was never sent: a client or balancer sends it elsewhere
        if (code === 'ECONNREFUSED') await sleep(10)
        else failures.push(code ?? String(error))
      }
    }
    agent.destroy()
  })
  return {
    stop: async () => {
      stopped = true
      await Promise.all(loops)
    },
    answered: () => answered,
    failures,
  }
}

describe('SIGTERM under keep-alive load (issue 14, items 5 and 18)', () => {
  for (const shell of [false, true]) {
    it(`answers every request already sent, and exits 0${shell ? ', started through sh -c and signalled there, as npx and npm run do' : ''}`, { timeout: 60_000 }, async () => {
      const server = await serve({}, { shell })
      const load = keepAliveLoad(server.url, 16)
      try {
        await sleep(500)
        const before = load.answered()
        expect(before).toBeGreaterThan(0)
        server.child.kill('SIGTERM')
        const exit = await Promise.race([server.exit, sleep(20_000).then(() => 'still running')])
        if (shell) {
          // the shell died of the signal; the server saw it was gone, drained, and exited
          expect(exit).toEqual({ code: null, signal: 'SIGTERM' })
          const deadline = Date.now() + 15_000
          while (alive(server.pid()) && Date.now() < deadline) await sleep(50)
          expect(alive(server.pid())).toBe(false)
          expect(server.stdout()).toContain('the shell that started the server is gone')
        } else {
          expect(exit).toEqual({ code: 0, signal: null })
        }
        await load.stop()
        expect(load.failures).toEqual([])
        expect(load.answered()).toBeGreaterThan(before)
        expect(server.stdout()).toContain('"msg":"closed"')
      } finally {
        await load.stop()
        server.child.kill('SIGKILL')
        if (alive(server.pid())) process.kill(server.pid(), 'SIGKILL')
      }
    })
  }
})

describe('timeouts and the connection cap (issue 14, item 6)', () => {
  it('cuts a lying Content-Length and a never-ending chunked body at the request timeout, with 408 in mlskel\'s shape', { timeout: 60_000 }, async () => {
    const server = await serve({ API_REQUEST_TIMEOUT_MS: '1000' })
    try {
      const [lying, endless] = await Promise.all([
        raw(server.url, 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"features": ['),
        raw(server.url, 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n', { drip: '1\r\n \r\n', everyMs: 100 }),
      ])
      for (const cut of [lying, endless]) {
        expectMlskelError(cut.answer, 408, 'MLSKEL_SERVE_TIMEOUT')
        // Node checks timeouts every 30 s by default: a 1 s timeout was cut at up to 31 s
        expect(cut.ms).toBeGreaterThanOrEqual(900)
        expect(cut.ms).toBeLessThan(1_000 * 1.5 + 500)
      }
    } finally {
      server.child.kill('SIGKILL')
    }
  })

  it('keeps /health answering through a flood of silent and half-sent connections, with its file descriptors bounded', { timeout: 60_000 }, async () => {
    const cap = 200
    const server = await serve({ API_MAX_CONNECTIONS: String(cap) })
    const sockets: Socket[] = []
    try {
      const fdsAtStart = readdirSync(`/proc/${server.pid()}/fd`).length
      const counts = async () => {
        const metrics = await (await fetch(`${server.url.origin}/metrics`)).text()
        const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1])
        return { evicted: read('mlskel_http_connections_evicted_total'), open: read('mlskel_http_open_connections') }
      }
      // A client's 'connect' means the kernel finished the handshake, not that the server has accepted the socket. The
      // flood goes in waves of 200, each once the server has taken in the ones before it (all but the cap evicted): a
      // flood faster than the server accepts overflows the listen backlog (511), and the kernel then admits the rest
      // only as its SYN-ACK retries come (1, 2, 4, 8, 16 s): on a loaded machine the last ones were still outside
      // 15 s later. The wait is for the server to catch up, not a time it must keep to.
      const caughtUp = async (connected: number) => {
        let seen = await counts()
        for (const deadline = Date.now() + 40_000; seen.evicted < connected - cap && Date.now() < deadline; seen = await counts()) await sleep(50)
        return seen
      }
      let connected = 0
      const settled: Promise<void>[] = []
      for (let i = 0; i < 3_000; i++) {
        const socket = connect(Number(server.url.port), '127.0.0.1')
        settled.push(new Promise((resolve) => {
          socket.on('connect', () => {
            connected++
            if (i % 2) socket.write('GET /health HTTP/1.1\r\nHost: x\r\n')
            resolve()
          })
          socket.on('error', () => resolve())
        }))
        sockets.push(socket)
        if (i % 200 === 199) {
          await Promise.all(settled)
          await caughtUp(connected)
          expect((await fetch(`${server.url.origin}/health`)).status).toBe(200)
        }
      }
      // every connection of the flood has reached the server (or been refused) before the counts are read
      await Promise.all(settled)
      for (let i = 0; i < 5; i++) expect((await fetch(`${server.url.origin}/health`)).status).toBe(200)
      expect(connected).toBeGreaterThan(2 * cap)
      const seen = await caughtUp(connected)
      expect(seen.evicted).toBeGreaterThanOrEqual(connected - cap)
      expect(seen.open).toBeLessThanOrEqual(cap)
      expect(readdirSync(`/proc/${server.pid()}/fd`).length).toBeLessThanOrEqual(fdsAtStart + cap + 5)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.child.kill('SIGKILL')
    }
  })
})
