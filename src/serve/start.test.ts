import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { connect } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { CLI } from '../cli/test-cli.js'
import { startServer } from './start.js'
import { irisProject, type IrisProject } from './test-models.js'

const setosa = [5.1, 3.5, 1.4, 0.2]

let project: IrisProject
let modelId: string

beforeAll(async () => {
  project = await irisProject()
  await writeFile(join(project.root, 'mlskel.yaml'), 'stages: {}\n')
  await writeFile(join(project.root, 'package.json'), '{"name": "churn-model", "private": true}\n')
  modelId = (await project.train(7)).model.id
})
afterAll(async () => {
  await project.remove()
})

describe('startServer', () => {
  it('listens with the project\'s settings and closes', async () => {
    const running = await startServer({ root: project.root, host: '127.0.0.1', port: 0, signals: false, env: { API_TOKEN: 'tok', API_MAX_ROWS: '2' }, logger: pino({ level: 'silent' }) })
    try {
      expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(running.model.id).toBe(modelId)
      const predict = (body: unknown, token?: string) =>
        fetch(`${running.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
      expect((await predict({ features: setosa })).status).toBe(401)
      expect((await predict({ features: setosa }, 'tok')).status).toBe(200)
      expect((await predict({ features: [setosa, setosa, setosa] }, 'tok')).status).toBe(413)
      expect((await fetch(`${running.url}/health`)).status).toBe(200)
      // the API is named after the project
      expect(((await (await fetch(`${running.url}/openapi.json`)).json()) as { info: { title: string } }).info.title).toBe('churn-model API')
    } finally {
      await running.close()
    }
    await running.closed
    await expect(fetch(`${running.url}/health`)).rejects.toThrow()
  })

  it('hides error details when NODE_ENV is production, unless API_ERROR_DETAILS says otherwise', async () => {
    for (const [env, hidden] of [[{ NODE_ENV: 'production' }, true], [{ NODE_ENV: 'production', API_ERROR_DETAILS: 'true' }, false], [{}, false], [{ API_ERROR_DETAILS: 'off' }, true]] as const) {
      const running = await startServer({ root: project.root, host: '127.0.0.1', port: 0, signals: false, env, logger: pino({ level: 'silent' }) })
      try {
        const res = await running.app.inject({ method: 'POST', url: '/predict', payload: { features: [1] } })
        expect('details' in res.json().error, JSON.stringify(env)).toBe(!hidden)
      } finally {
        await running.close()
      }
    }
  })

  it('closes a connection still in flight once the drain bound has passed', async () => {
    const running = await startServer({ root: project.root, host: '127.0.0.1', port: 0, signals: false, drainMs: 300, env: {}, logger: pino({ level: 'silent' }) })
    const { port } = new URL(running.url)
    const stalled = new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': 1000 } })
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      req.on('response', () => resolve('answered'))
      req.write('{"features": [')
    })
    await sleep(100)
    const started = Date.now()
    await running.close()
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(await stalled).toMatch(/ECONNRESET|socket hang up/)
  })

  it('refuses to start without a trained model', async () => {
    const empty = await irisProject()
    try {
      await writeFile(join(empty.root, 'mlskel.yaml'), 'stages: {}\n')
      await expect(startServer({ root: empty.root, host: '127.0.0.1', port: 0, signals: false, env: {}, logger: pino({ level: 'silent' }) })).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND' })
    } finally {
      await empty.remove()
    }
  })
})

/** `mlskel serve`, built, in the project folder. */
function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, stdout: () => out, stderr: () => err, exit }
}

async function until<T>(get: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = get()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('mlskel serve', () => {
  it('finishes a request in flight on SIGTERM, refuses new connections, and exits 0', async () => {
    const run = cli(['serve', '--host', '127.0.0.1', '--port', '0'], project.root)
    try {
      const url = await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stderr())?.[1], `the listening line (stderr: ${run.stderr()})`)
      expect(run.stderr()).toContain(`model ${modelId}`)
      const { port } = new URL(url)
      // A request whose body arrives in two parts: it is in flight when SIGTERM comes.
      const body = JSON.stringify({ features: Array.from({ length: 2000 }, () => setosa) })
      const half = Math.floor(body.length / 2)
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/predict', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => (text += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        })
        req.on('error', reject)
        req.write(body.slice(0, half))
        setTimeout(() => req.end(body.slice(half)), 600)
      })
      await sleep(200)
      const signalled = Date.now()
      run.child.kill('SIGTERM')
      await sleep(200)
      await expect(fetch(`${url}/health`)).rejects.toThrow()
      const answer = await response
      expect(answer.status).toBe(200)
      expect((JSON.parse(answer.text) as { result: string[] }).result).toHaveLength(2000)
      expect(await run.exit).toEqual({ code: 0, signal: null })
      // well within the 10 s drain bound: the finished request's keep-alive connection is not waited for
      expect(Date.now() - signalled).toBeLessThan(5_000)
      const lines = run.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'prediction', model_id: modelId, rows: 2000, timing: expect.any(Number), route: '/predict' }))
      expect(lines.find((line) => line.msg === 'prediction')).not.toHaveProperty('inputs')
    } finally {
      run.child.kill('SIGKILL')
    }
  }, 30_000)

  it('says to run the pipeline when no model is trained', async () => {
    const empty = await irisProject()
    try {
      await writeFile(join(empty.root, 'mlskel.yaml'), 'stages: {}\n')
      const run = cli(['serve', '--host', '127.0.0.1', '--port', '0'], empty.root)
      expect((await run.exit).code).toBe(1)
      expect(run.stderr()).toContain('MLSKEL_MODEL_NOT_FOUND')
      expect(run.stderr()).toContain('mlskel run')
    } finally {
      await empty.remove()
    }
  }, 30_000)

  it('refuses a bad port', async () => {
    const run = cli(['serve', '--port', 'http'], project.root)
    expect((await run.exit).code).toBe(2)
    expect(run.stderr()).toContain('--port')
  }, 30_000)
})

describe('a bad newest model at start', () => {
  it('starts on the newest model that loads and checks, and says what it skipped in /ready and /metrics', async () => {
    const own = await irisProject()
    try {
      await writeFile(join(own.root, 'mlskel.yaml'), 'stages: {}\n')
      const good = await own.train(3)
      const bad = await own.train(4, { beforeRecord: (model) => writeFile(join(model.dir, 'model.json'), '{"corrupt": true}') })
      const running = await startServer({ root: own.root, host: '127.0.0.1', port: 0, signals: false, env: {}, logger: pino({ level: 'silent' }) })
      try {
        expect(running.model.id).toBe(good.model.id)
        const ready = (await (await fetch(`${running.url}/ready`)).json()) as { model_id: string; skipped_runs: { run_id: string; reason: string }[] }
        expect(ready).toMatchObject({ model_id: good.model.id, skipped_runs: [{ run_id: bad.record.run_id, reason: expect.any(String) }] })
        expect(await (await fetch(`${running.url}/metrics`)).text()).toMatch(/^mlskel_model_skipped_runs 1$/m)
      } finally {
        await running.close()
      }
    } finally {
      await own.remove()
    }
  })
})

describe('errors before a request exists', () => {
  /** Raw bytes to the server; the whole answer it writes before closing. */
  function rawExchange(url: string, bytes: string, o: { keepOpen?: boolean } = {}): Promise<string> {
    const { port } = new URL(url)
    return new Promise((resolve, reject) => {
      // keepOpen: send without ending our side, as a client waiting for its answer does
      const socket = connect(Number(port), '127.0.0.1', () => (o.keepOpen ? socket.write(bytes) : socket.end(bytes)))
      let answer = ''
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString()
        // a whole answer on a connection the server keeps open
        const end = answer.indexOf('\r\n\r\n')
        const length = /\r\ncontent-length: (\d+)/i.exec(answer.slice(0, end))?.[1]
        if (end >= 0 && length !== undefined && Buffer.byteLength(answer.slice(end + 4)) >= Number(length)) socket.destroy()
      })
      socket.on('close', () => resolve(answer))
      socket.on('error', reject)
    })
  }

  it('answers bad framing and oversized headers in mlskel\'s error shape, not Node\'s or Fastify\'s', async () => {
    const running = await startServer({ root: project.root, host: '127.0.0.1', port: 0, signals: false, env: {}, logger: pino({ level: 'silent' }) })
    try {
      const garbage = await rawExchange(running.url, 'THIS IS NOT HTTP\r\n\r\n')
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /)
      expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'MLSKEL_SERVE_MALFORMED_REQUEST', message: expect.any(String), fix: expect.any(String) } })
      const huge = await rawExchange(running.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
      expect(huge).toMatch(/^HTTP\/1\.1 431 /)
      expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'MLSKEL_SERVE_HEADERS_TOO_LARGE' } })
      // and the server goes on answering
      expect((await fetch(`${running.url}/health`)).status).toBe(200)
    } finally {
      await running.close()
    }
  })

  it('answers every 4xx that Node or Fastify raise before a route in mlskel\'s error shape (issue 14, item 7)', async () => {
    const running = await startServer({ root: project.root, host: '127.0.0.1', port: 0, signals: false, env: { API_REQUEST_TIMEOUT_MS: '300' }, logger: pino({ level: 'silent' }) })
    try {
      const cases: [string, string, number, string][] = [
        ['a bad URL', 'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MLSKEL_SERVE_MALFORMED_REQUEST'],
        ['no Host', 'GET /health HTTP/1.1\r\n\r\n', 400, 'MLSKEL_SERVE_MALFORMED_REQUEST'],
        ['two Content-Lengths', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', 400, 'MLSKEL_SERVE_MALFORMED_REQUEST'],
        ['an unknown method', 'FOO /health HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MLSKEL_SERVE_MALFORMED_REQUEST'],
        ['CONNECT', 'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', 405, 'MLSKEL_SERVE_METHOD_NOT_ALLOWED'],
        ['a request that stops half-way', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{', 408, 'MLSKEL_SERVE_TIMEOUT'],
        ['headers that never end', 'GET /health HTTP/1.1\r\nHost: x\r\n', 408, 'MLSKEL_SERVE_TIMEOUT'],
        ['a body too large, before 100 Continue', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n', 413, 'MLSKEL_SERVE_BODY_TOO_LARGE'],
        ['a body too large, without Expect', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{', 413, 'MLSKEL_SERVE_BODY_TOO_LARGE'],
        ['an Expect other than 100-continue', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: later\r\nContent-Length: 2\r\n\r\n{}', 417, 'MLSKEL_SERVE_EXPECTATION_FAILED'],
        ['no Content-Type', 'POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', 415, 'MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE'],
        ['headers too large', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'MLSKEL_SERVE_HEADERS_TOO_LARGE'],
      ]
      for (const [what, bytes, status, code] of cases) {
        const answer = await rawExchange(running.url, bytes, { keepOpen: true })
        expect(answer, what).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `))
        expect(answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase(), what).toContain('content-type: application/json')
        expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), what).toMatchObject({ error: { code, message: expect.any(String), fix: expect.any(String) } })
      }
    } finally {
      await running.close()
    }
  })
})
