// The prediction API's benchmark (the third part of `npm run bench`; alone: `npx tsx bench/serve.ts`, once the iris
// fixture bench/.data/iris exists; `--seconds 3` for a quick look
// instead of the flat forest). In one run on loopback, with autocannon (16 connections; per target a 2 s warm-up, then
// 12 s of load in 3 rounds in which the targets take turns, so that ratios compare figures taken moments apart on a
// machine whose other load drifts), against servers in child processes (so the load generator does not share their
// event loop); the figures are medians of the rounds:
//   1. the ceiling: a bare node:http server that parses a small JSON body and answers JSON;
//   (reference) a minimal Fastify route that calls the same model's predictor: the framework's and the model's share;
//   2. single-row POST /predict, served as `mlskel serve` serves it by default (startServer of src/serve/start.ts with
//      the settings' default LOG_LEVEL=warn) on the fixture's trained iris model;
//   3. 100-row POST /predict batches on the same server;
//   (figure) single-row /predict with LOG_LEVEL=info, so one JSON log line per request on stdout (here /dev/null):
//      what per-request logging costs; reported beside the target, not judged by it.
//   (figures, issue 16) single-row /predict on imported models, each `mlskel models import`ed into a project of its
//      own (bench/.data/imports-*): an XGBoost model XGBoost trains on iris here (multi:softprob, 100 rounds of 3
//      trees, depth 6; skipped without Python's xgboost, saying so), and an ONNX model (mlskel's gradient_boosting
//      on iris exported to ONNX: 300 trees, predicted by ONNX Runtime through the onnx kind's worker thread).
// Targets (issue 4): single-row ≥ 0.6× the ceiling's req/s with p99 ≤ 5 ms; batches ≥ 100,000 rows/s. Any non-2xx
// answer or socket error fails its row.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { PYTHON } from './python-batch.js'

const repo = resolve(import.meta.dirname, '..')
const self = fileURLToPath(import.meta.url)
const CONNECTIONS = 16
const WARMUP_SECONDS = 2

export interface ServeRow {
  name: string
  reqPerSec: number
  p50: number
  p99: number
  /** Rows per second (batches). */
  rowsPerSec?: number
  /** req/s over the ceiling's (single-row /predict). */
  ratio?: number
  failures: number
  target: string
  ok: boolean | undefined
}

/** The fixture's iris rows (features only), from the template's CSV. */
function irisRows(): number[][] {
  const lines = readFileSync(join(repo, 'template', 'data', 'raw', 'iris.csv'), 'utf8').trim().split('\n').slice(1)
  return lines.map((line) => line.split(',').slice(0, 4).map(Number))
}

/** Start a server in a child process; resolves with its port (sent over IPC once it listens). */
async function startChild(mode: 'echo' | 'fastify' | 'predict', project: string, logLevel = 'warn'): Promise<{ child: ChildProcess; port: number }> {
  // warn is the settings' default; at info the API writes one log line per prediction request
  const env = { ...process.env, LOG_LEVEL: logLevel }
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', mode, project], { cwd: repo, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${mode} server did not start within 60 s`)), 60_000)
    child.once('message', (m: { port?: number; error?: string }) => {
      clearTimeout(timer)
      if (typeof m.port === 'number') resolvePort(m.port)
      else reject(new Error(`the ${mode} server failed: ${m.error ?? 'no port'}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the ${mode} server exited (${code}) before listening`))
    })
  })
  return { child, port }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  child.kill('SIGTERM')
  await exited
}

async function load(url: string, body: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, method: 'POST', connections: CONNECTIONS, headers: { 'content-type': 'application/json' }, body, duration: seconds })
}

/** The iris species as XGBoost's class numbers, in sorted order. */
function irisLabels(): number[] {
  const species = readFileSync(join(repo, 'template', 'data', 'raw', 'iris.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[4]!)
  const classes = [...new Set(species)].sort()
  return species.map((s) => classes.indexOf(s))
}

/** A project holding one model, imported by `mlskel models import`'s library from `file` (written by `make`). */
async function importedProject(name: string, fileName: string, make: (file: string) => Promise<void> | void): Promise<string> {
  const root = join(repo, 'bench', '.data', name)
  rmSync(root, { recursive: true, force: true })
  mkdirSync(join(root, 'models', 'metadata'), { recursive: true })
  writeFileSync(join(root, 'mlskel.yaml'), 'stages: {}\n')
  await make(join(root, fileName))
  const { importModel } = await import('../src/importing/index.js')
  await importModel({ root, cwd: root, file: fileName, name })
  return root
}

/** Imported models to serve: XGBoost's own (when Python's xgboost is there; else why not), and an ONNX file. */
async function importedProjects(): Promise<{ xgboost: string | { skipped: string }; onnx: string }> {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, xgboost'], { encoding: 'utf8', timeout: 60_000 })
  const xgboost =
    probe.status === 0
      ? await importedProject('imports-xgboost', 'iris-xgboost.json', (file) => {
          const spec = join(repo, 'bench', '.data', 'iris-xgboost-spec.json')
          writeFileSync(spec, JSON.stringify({ objective: 'multi:softprob', num_class: 3, X: irisRows(), y: irisLabels(), rounds: 100, max_depth: 6, seed: 0, nthread: 1 }))
          const trained = spawnSync(PYTHON, [join(repo, 'scripts', 'fixtures', 'xgboost_models.py'), '--train', spec, file], { encoding: 'utf8' })
          if (trained.status !== 0) throw new Error(`XGBoost could not train the benchmark's model: ${trained.stderr}`)
        })
      : { skipped: `${PYTHON} cannot import xgboost (apt-get install python3-xgboost)` }
  const onnx = await importedProject('imports-onnx', 'iris-gb.onnx', async (file) => {
    const { exportOnnx, trainGradientBoosting } = await import('../src/models/index.js')
    const X = irisRows()
    const labels = irisLabels()
    const signature = { features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, type: 'number' as const })), target: { name: 'species', type: 'category' as const, classes: [0, 1, 2] } }
    const model = await trainGradientBoosting({ task: 'classification', signature, data: { X, y: labels }, seed: 1, hyperParameters: { max_iter: 100 } })
    writeFileSync(file, exportOnnx(model, { modelId: 'bench' }))
  })
  return { xgboost, onnx }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Rounds of one target: median req/s, p50 and p99 over the rounds; failures summed. */
function summarize(results: autocannon.Result[]): { reqPerSec: number; p50: number; p99: number; failures: number } {
  return {
    reqPerSec: median(results.map((r) => r.requests.average)),
    p50: median(results.map((r) => r.latency.p50)),
    p99: median(results.map((r) => r.latency.p99)),
    failures: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
  }
}

/**
 * `seconds`: load per target, split over `rounds` rounds (default 12 s in 3). The targets take turns within each
 * round, so a ratio compares figures measured moments apart (the machine's other load drifts; the ceiling with it).
 */
export async function serveBench(o: { project: string; seconds?: number; rounds?: number }): Promise<ServeRow[]> {
  const rounds = o.rounds ?? 3
  const perRound = Math.max(1, Math.round((o.seconds ?? 12) / rounds))
  const rows = irisRows()
  const single = JSON.stringify({ features: rows[0] })
  const batch = JSON.stringify({ features: rows.slice(0, 100) })

  const children: ChildProcess[] = []
  const results = { ceiling: [] as autocannon.Result[], floor: [] as autocannon.Result[], one: [] as autocannon.Result[], hundred: [] as autocannon.Result[], logged: [] as autocannon.Result[], xgboost: [] as autocannon.Result[], onnx: [] as autocannon.Result[] }
  const imported = await importedProjects()
  try {
    const echo = await startChild('echo', o.project)
    children.push(echo.child)
    const bare = await startChild('fastify', o.project)
    children.push(bare.child)
    const server = await startChild('predict', o.project)
    children.push(server.child)
    const logging = await startChild('predict', o.project, 'info')
    children.push(logging.child)
    const onnxServer = await startChild('predict', imported.onnx)
    children.push(onnxServer.child)
    const xgboostServer = typeof imported.xgboost === 'string' ? await startChild('predict', imported.xgboost) : undefined
    if (xgboostServer) children.push(xgboostServer.child)
    const targets = [
      [results.ceiling, `http://127.0.0.1:${echo.port}/`, single],
      [results.floor, `http://127.0.0.1:${bare.port}/predict`, single],
      [results.one, `http://127.0.0.1:${server.port}/predict`, single],
      [results.hundred, `http://127.0.0.1:${server.port}/predict`, batch],
      [results.logged, `http://127.0.0.1:${logging.port}/predict`, single],
      ...(xgboostServer ? ([[results.xgboost, `http://127.0.0.1:${xgboostServer.port}/predict`, single]] as const) : []),
      [results.onnx, `http://127.0.0.1:${onnxServer.port}/predict`, single],
    ] as const
    for (const [, url, body] of targets) await load(url, body, WARMUP_SECONDS)
    for (let round = 0; round < rounds; round++) {
      for (const [into, url, body] of targets) into.push(await load(url, body, perRound))
    }
  } finally {
    for (const child of children) await stopChild(child)
  }
  const ceiling = summarize(results.ceiling)
  const floor = summarize(results.floor)
  const one = summarize(results.one)
  const hundred = summarize(results.hundred)
  const logged = summarize(results.logged)
  const ratio = median(results.one.map((r, i) => r.requests.average / results.ceiling[i]!.requests.average))
  const ratioOf = (of: autocannon.Result[]) => median(of.map((r, i) => r.requests.average / results.ceiling[i]!.requests.average))
  const importedRow = (name: string, of: autocannon.Result[]): ServeRow => {
    const s = summarize(of)
    return { name, ...s, ratio: ratioOf(of), target: '(figure)', ok: s.failures === 0 ? undefined : false }
  }
  return [
    { name: 'node:http JSON echo (ceiling)', ...ceiling, target: '', ok: ceiling.failures === 0 ? undefined : false },
    { name: 'bare Fastify route + model, 1 row', ...floor, ratio: median(results.floor.map((r, i) => r.requests.average / results.ceiling[i]!.requests.average)), target: '(reference)', ok: floor.failures === 0 ? undefined : false },
    { name: '/predict, 1 row', ...one, ratio, target: '≥ 0.6× ceiling, p99 ≤ 5 ms', ok: ratio >= 0.6 && one.p99 <= 5 && one.failures === 0 },
    { name: '/predict, 100 rows', ...hundred, rowsPerSec: hundred.reqPerSec * 100, target: '≥ 100,000 rows/s', ok: hundred.reqPerSec * 100 >= 100_000 && hundred.failures === 0 },
    { name: '/predict, 1 row, LOG_LEVEL=info', ...logged, ratio: median(results.logged.map((r, i) => r.requests.average / results.ceiling[i]!.requests.average)), target: '(a log line per request)', ok: logged.failures === 0 ? undefined : false },
    typeof imported.xgboost === 'string'
      ? importedRow('/predict, 1 row, imported XGBoost', results.xgboost)
      : { name: '/predict, 1 row, imported XGBoost', reqPerSec: 0, p50: 0, p99: 0, failures: 0, target: `skipped: ${imported.xgboost.skipped}`, ok: undefined },
    importedRow('/predict, 1 row, imported ONNX', results.onnx),
  ]
}

export function printServeRows(rows: ServeRow[]): void {
  console.log(`\nprediction API on 127.0.0.1, autocannon, ${CONNECTIONS} connections, medians of rounds; latency in whole ms (${process.version})\n`)
  console.log(`${'benchmark'.padEnd(36)}${'req/s'.padStart(9)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'rows/s'.padStart(10)}${'× ceil'.padStart(8)}${'fail'.padStart(6)}  ${'target'.padEnd(28)}verdict`)
  for (const r of rows) {
    const verdict = r.ok === undefined ? '' : r.ok ? 'ok' : 'OVER TARGET'
    console.log(
      `${r.name.padEnd(36)}${r.reqPerSec.toFixed(0).padStart(9)}${`${r.p50} ms`.padStart(8)}${`${r.p99} ms`.padStart(8)}${(r.rowsPerSec === undefined ? '' : r.rowsPerSec.toFixed(0)).padStart(10)}${(r.ratio === undefined ? '' : r.ratio.toFixed(2)).padStart(8)}${String(r.failures).padStart(6)}  ${r.target.padEnd(28)}${verdict}`,
    )
  }
}

// ---- the servers, in the child process ----

async function child(mode: string, project: string): Promise<void> {
  if (mode === 'echo') {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        let answer: string
        try {
          answer = JSON.stringify({ echo: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown })
        } catch {
          response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}')
          return
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(answer)
      })
    })
    server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }))
    process.once('SIGTERM', () => server.close(() => process.exit(0)))
    return
  }
  if (mode === 'fastify') {
    // what the framework and the model cost without the API's own work (validation, metrics, logs, auth, envelopes)
    const { fastify } = await import('fastify')
    const { loadModel } = await import('../src/metadata/index.js')
    const { predictor } = await loadModel(join(project, 'models'), { metadataDir: join(project, 'models', 'metadata') })
    const app = fastify()
    app.post('/predict', async (request) => ({ result: predictor.predict([(request.body as { features: number[] }).features]) }))
    await app.listen({ host: '127.0.0.1', port: 0 })
    process.send!({ port: (app.server.address() as { port: number }).port })
    process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
    return
  }
  // what `mlskel serve` runs: the project's settings, its logger (JSON lines on stdout, here /dev/null), SIGTERM drain
  const { startServer } = await import('../src/serve/start.js')
  const running = await startServer({ root: project, host: '127.0.0.1', port: 0 })
  void running.closed.then(() => process.exit(0))
  process.send!({ port: Number(new URL(running.url).port) })
}

if (process.argv[1] && resolve(process.argv[1]) === self) {
  if (process.argv[2] === '--child') {
    child(process.argv[3]!, process.argv[4]!).catch((error: unknown) => {
      process.send?.({ error: error instanceof Error ? error.message : String(error) })
      process.exit(1)
    })
  } else {
    const project = join(repo, 'bench', '.data', 'iris')
    const at = process.argv.indexOf('--seconds')
    const rows = await serveBench({ project, ...(at > 0 ? { seconds: Number(process.argv[at + 1]) } : {}) })
    printServeRows(rows)
    process.exitCode = rows.every((r) => r.ok !== false) ? 0 : 1
  }
}
