// End to end (issue 16's acceptance): models trained elsewhere, in this run, by XGBoost and PyTorch, and a graph
// written with onnx.helper (the repository's fixture scripts), imported into a project made by the packed mlskel
// (./shared.ts), then checked, reported on and served; the server's /predict and /invocations give the producing
// library's own predictions. The project adds onnxruntime-node as the docs say a project serving ONNX does (here a
// link to the repository's copy: the registry's package is 115 MB).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PYTHON, requireTool } from '../require-tool.js'
import { copyProject, ok, repo, run, shared, startServe } from './shared.js'

const tools = requireTool('xgboost', 'onnx', 'torch')

interface Expected {
  X: (number | null)[][]
  proba: number[][]
  labels: number[]
}

interface Imported {
  run_id: string
  model_id: string
  kind: string
  task: string
  imported: { file: string; path: string | null; tool: string; tool_version: string; signature: string; hold_out: { path: string; from: string } | null }
  features: string[]
  scores: Record<string, number>
  unscored?: string
}

let work = ''
let project = ''
let mlskel = ''
let fixtures = ''

function importJson(args: string[]): Imported {
  return JSON.parse(ok(run(mlskel, ['models', 'import', ...args, '--json'], { cwd: project })).stdout) as Imported
}

/** What the producing library predicted on its test rows (its fixture script's <name>.expected.json). */
function expected(library: 'xgboost' | 'onnx', name: string): Expected {
  return JSON.parse(readFileSync(join(fixtures, library, `${name}.expected.json`), 'utf8')) as Expected
}

async function post(base: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** The id of the model the server at `base` serves, once it is `id` (its record newer than the served one's), or after a minute. */
async function servedOnceNewer(base: string, id: string): Promise<string | undefined> {
  let ready: { model_id?: string } = {}
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    ready = (await (await fetch(`${base}/ready`)).json()) as { model_id?: string }
    if (ready.model_id === id) break
  }
  return ready.model_id
}

function maxDifference(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length)
  let max = 0
  a.forEach((row, i) => row.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i]![j]!)))))
  return max
}

describe.skipIf(tools.skip)('models trained elsewhere, imported into a project, checked, reported and served', { timeout: 900_000 }, () => {
  let xgb: Imported
  let onnx: Imported

  beforeAll(() => {
    tools.assert()
    const made = shared()
    work = mkdtempSync(join(tmpdir(), 'mlskel-e2e-imports-'))
    project = copyProject(made.pristine, join(work, 'project'))
    mlskel = join(project, 'node_modules', '.bin', 'mlskel')
    // the models, made now by the libraries that train them
    fixtures = join(work, 'fixtures')
    ok(run(PYTHON, [join(repo, 'scripts', 'fixtures', 'xgboost_models.py'), join(fixtures, 'xgboost')], { cwd: work }))
    ok(run(PYTHON, [join(repo, 'scripts', 'fixtures', 'onnx_models.py'), join(fixtures, 'onnx')], { cwd: work }))
    // `npm install onnxruntime-node` in the project, in effect (see the file's head)
    for (const name of ['onnxruntime-node', 'onnxruntime-common']) symlinkSync(join(repo, 'node_modules', name), join(project, 'node_modules', name), 'dir')
  }, 900_000)
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('imports an XGBoost classifier with hold-out data, and an ONNX classifier from PyTorch without', () => {
    // XGBoost's 3-class model with missing values; the hold-out's labels are XGBoost's own predictions, so mlskel's
    // accuracy on it is 1 exactly when it predicts as XGBoost does
    mkdirSync(join(project, 'imports'))
    copyFileSync(join(fixtures, 'xgboost', 'softprob-missing.model.json'), join(project, 'imports', 'churn.json'))
    const x = expected('xgboost', 'softprob-missing')
    const columns = x.X[0]!.map((_, j) => `x${j}`)
    writeFileSync(join(project, 'imports', 'holdout.csv'), `${[...columns, 'label'].join(',')}\n${x.X.map((row, i) => [...row.map((v) => (v === null ? '' : String(v))), x.labels[i]].join(',')).join('\n')}\n`)
    xgb = importJson(['imports/churn.json', '--data', 'imports/holdout.csv', '--target', 'label', '--name', 'churn'])
    expect(xgb).toMatchObject({ kind: 'xgboost', task: 'classification', features: columns, imported: { file: 'churn.json', path: 'imports/churn.json', tool: 'xgboost', signature: 'data', hold_out: { path: 'imports/holdout.csv', from: 'data' } } })
    expect(xgb.imported.tool_version).toBe(JSON.parse(readFileSync(join(fixtures, 'xgboost', 'versions.json'), 'utf8')).xgboost)
    expect(xgb.scores.accuracy).toBe(1)

    copyFileSync(join(fixtures, 'onnx', 'torch-mlp-softmax.onnx'), join(work, 'mlp.onnx'))
    onnx = importJson([join(work, 'mlp.onnx'), '--target', 'level'])
    expect(onnx).toMatchObject({ kind: 'onnx', task: 'classification', features: ['f0', 'f1', 'f2'], imported: { file: 'mlp.onnx', path: null, tool: 'pytorch', signature: 'file', hold_out: null }, scores: {} })
    expect(onnx.unscored).toMatch(/^no data to score it on/)
    expect(existsSync(join(project, 'models', onnx.model_id, 'source.onnx'))).toBe(true)

    const listed = ok(run(mlskel, ['runs', 'list'], { cwd: project })).stdout
    for (const id of [xgb.run_id, onnx.run_id]) expect(listed).toContain(id)
    expect(listed).toContain('imported: trained elsewhere')
    const diff = JSON.parse(ok(run(mlskel, ['runs', 'diff', xgb.run_id, onnx.run_id, '--json'], { cwd: project })).stdout) as { model: { key: string }[] }
    expect(diff.model.map((c) => c.key)).toEqual(expect.arrayContaining(['model_type', 'imported.tool']))
    // verified by its bytes, not by training
    const verified = run(mlskel, ['runs', 'verify', xgb.run_id, '--json'], { cwd: project })
    expect(verified.status).toBe(0)
    expect(JSON.parse(verified.stdout)).toMatchObject({ verified: true, method: 'bytes' })
  })

  it('passes mlskel check\'s models rules, and has a delivery report', () => {
    const check = run(mlskel, ['check', '--json', '--only', 'models,model-size'], { cwd: project })
    const report = JSON.parse(check.stdout) as { ok: boolean; rules: { id: string; status: string; findings: unknown[] }[] }
    expect(report.rules.map((r) => [r.id, r.status, r.findings])).toEqual([
      ['models', 'pass', []],
      ['model-size', 'pass', []],
    ])
    expect(check.status).toBe(0)
    for (const imported of [xgb, onnx]) {
      const out = JSON.parse(ok(run(mlskel, ['report', 'delivery', '--run', imported.run_id, '--json'], { cwd: project })).stdout) as { path: string }
      const html = readFileSync(out.path, 'utf8')
      expect(html).toContain(imported.model_id)
      expect(html).toContain(imported === xgb ? 'imported from imports/churn.json' : 'imported from mlp.onnx (outside the project)')
    }
  })

  it('serves the newest import, and the newer one as it comes, with the producing library\'s predictions', async () => {
    // serve the XGBoost model first (the ONNX record is moved aside), then bring the ONNX record back: newer, it is served
    const metadata = join(project, 'models', 'metadata')
    const aside = join(work, `${onnx.run_id}.json`)
    copyFileSync(join(metadata, `${onnx.run_id}.json`), aside)
    rmSync(join(metadata, `${onnx.run_id}.json`))
    const { server, exited, listening } = startServe(mlskel, project)
    try {
      const base = await listening
      const x = expected('xgboost', 'softprob-missing')
      expect(await (await fetch(`${base}/ready`)).json()).toMatchObject({ model_id: xgb.model_id })
      const predicted = await post(base, '/predict?probabilities=true', { features: x.X })
      expect(predicted.status).toBe(200)
      expect(predicted.body.result).toEqual(x.labels)
      expect(maxDifference(predicted.body.probabilities as number[][], x.proba)).toBeLessThanOrEqual(1e-6)
      const columns = x.X[0]!.map((_, j) => `x${j}`)
      const invoked = await post(base, '/invocations', { dataframe_split: { columns, data: x.X } })
      expect(invoked).toMatchObject({ status: 200, body: { predictions: x.labels } })

      copyFileSync(aside, join(metadata, `${onnx.run_id}.json`))
      expect(await servedOnceNewer(base, onnx.model_id)).toBe(onnx.model_id)
      const o = expected('onnx', 'torch-mlp-softmax')
      const mlp = await post(base, '/predict?probabilities=true', { features: o.X })
      expect(mlp.status).toBe(200)
      expect(mlp.body).toMatchObject({ release: { model_id: onnx.model_id } })
      expect(mlp.body.result).toEqual(o.labels)
      expect(maxDifference(mlp.body.probabilities as number[][], o.proba)).toBeLessThanOrEqual(1e-5)
      const records = o.X.map((row) => ({ f0: row[0], f1: row[1], f2: row[2] }))
      expect(await post(base, '/invocations', { dataframe_records: records })).toMatchObject({ status: 200, body: { predictions: o.labels } })

      // and a graph written with onnx.helper: a linear regression taking one input per feature, imported while the
      // server runs; its answers are numpy's, computed in the graph's float32
      const h = JSON.parse(readFileSync(join(fixtures, 'onnx', 'helper-linear-columns.expected.json'), 'utf8')) as { X: number[][]; predict: number[]; feature_names: string[] }
      copyFileSync(join(fixtures, 'onnx', 'helper-linear-columns.onnx'), join(work, 'linear.onnx'))
      const linear = importJson([join(work, 'linear.onnx'), '--target', 'height', '--task', 'regression'])
      expect(linear).toMatchObject({ kind: 'onnx', task: 'regression', features: h.feature_names, imported: { file: 'linear.onnx', signature: 'file' } })
      expect(await servedOnceNewer(base, linear.model_id)).toBe(linear.model_id)
      const rows = h.X.map((row) => Object.fromEntries(h.feature_names.map((name, j) => [name, row[j]])))
      const fitted = await post(base, '/predict', { records: rows })
      expect(fitted.status).toBe(200)
      expect(maxDifference([fitted.body.result as number[]], [h.predict])).toBeLessThanOrEqual(1e-5)
      const split = await post(base, '/invocations', { dataframe_split: { columns: h.feature_names, data: h.X } })
      expect(split.status).toBe(200)
      expect(maxDifference([split.body.predictions as number[]], [h.predict])).toBeLessThanOrEqual(1e-5)
    } finally {
      server.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })
})
