// End to end: other data sets in a copy of the shared project, switched to through params.yaml alone: a table of
// every type (trained, checked by mlskel check, served raw values) and a 100,000-row one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type CheckReport, copyProject, ok, projectSteps, repo, run, shared, startServe, statuses } from './shared.js'

// Each test here runs the user's commands on a real project, trainings among them: under a loaded CI runner a minute
// or more, far from the 30 s that fits the unit tests
vi.setConfig({ testTimeout: 300_000 })

let work: string
let mlskel: string
let project: string

const { mlskelRun, newestRecord, setParams, setModel } = projectSteps(() => ({ mlskel, project }))

beforeAll(() => {
  const made = shared()
  work = mkdtempSync(join(tmpdir(), 'mlskel-e2e-'))
  project = copyProject(made.pristine, join(work, 'iris-project'))
  mlskel = join(project, 'node_modules', '.bin', 'mlskel')
})
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

/** A table of every type, `;`-delimited: numbers with gaps, integers, yes/no, a category with a rare value, dates, ids. */
function customersCsv(rows: number): string {
  const lines = ['customer_id;monthly_spend;visits;member;plan;signup;churn']
  for (let i = 0; i < rows; i++) {
    const spend = i % 11 === 0 ? 'NA' : (20 + ((i * 7) % 80) + (i % 3) / 4).toFixed(2)
    const visits = i % 13 === 0 ? '' : String(i % 9)
    // platinum: 4 rows, fewer than dataset.min_category_count (5), so folded into "(other)"
    const plan = i % 300 === 5 ? 'platinum' : i % 17 === 0 ? '' : ['basic', 'pro', 'team'][i % 3]!
    const signup = `2023-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`
    // churn follows the plan and a low spend, with some noise
    const churn = (plan === 'pro' || (i % 5 === 0 && Number(spend) < 50)) !== (i % 23 === 0) ? 'left' : 'stayed'
    lines.push([`C-${10_000 + i}`, spend, visits, i % 2 ? 'yes' : 'no', plan, signup, churn].join(';'))
  }
  return `${lines.join('\n')}\n`
}

describe('a table of every type, switched to through params.yaml alone', () => {
  it('infers its column types, trains on them, and passes mlskel check', { timeout: 300_000 }, () => {
    writeFileSync(join(project, 'data', 'raw', 'customers.csv'), customersCsv(1200))
    setParams((text) => text.replace(/^ {2}raw: \S+/m, '  raw: customers.csv').replace(/^ {2}target: \S+/m, '  target: churn').replace(/^task: \S+/m, 'task: classification').replace(/cv_folds: \d+/, 'cv_folds: 5'))
    setModel('type: gradient_boosting')
    const generated = ok(run(mlskel, ['run', 'generate-dataset'], { cwd: project }))
    // the stage's own table of columns, types and why
    expect(generated.stdout).toMatch(/customer_id\s+identifier\s+identifier/)
    expect(generated.stdout).toMatch(/plan\s+categorical\s+feature\s+\d+\s+0\s+3 categories \+ \(other\)/)
    expect(generated.stdout).toMatch(/signup\s+datetime\s+feature/)
    expect(generated.stdout).toContain('delimiter ";"')
    expect(mlskelRun().ok).toBe(true)
    const record = newestRecord() as ReturnType<typeof newestRecord> & { data: { columns: { name: string; type: string; missing: number }[]; features: string[]; rows: number } }
    expect(record.data.columns.map((c) => [c.name, c.type])).toEqual([
      ['customer_id', 'identifier'],
      ['monthly_spend', 'numeric'],
      ['visits', 'numeric'],
      ['member', 'boolean'],
      ['plan', 'categorical'],
      ['signup', 'datetime'],
      ['churn', 'categorical'],
    ])
    expect(record.data.columns.filter((c) => c.missing > 0).map((c) => c.name)).toEqual(['monthly_spend', 'visits', 'plan'])
    expect(record.data.features).toContain('signup_month')
    expect(record.data.rows).toBe(1200)
    expect(record.scores.accuracy!.hold_out).toBeGreaterThan(0.8)
    const predictions = readFileSync(join(project, 'data', 'predictions', 'test.csv'), 'utf8').split('\n')
    expect(predictions[0]).toMatch(/^customer_id,monthly_spend,visits,member,plan,signup,prediction,probability$/)
    expect(predictions[1]).toMatch(/^C-\d+,/)
    // The project's npm test is its typecheck, its tests and mlskel check. The first two never read the project's data
    // (the tests run on copies of iris with their own params.yaml: tests/project.ts), so after a switch of data set they
    // are what project.test.ts runs on the project as created; the check's rules that read the data, the models and
    // their records, and the lock are what may differ (the other rules, and the whole npm test, ~20 s of CPU: there).
    const rules = ['structure', 'raw-data', 'links', 'models', 'model-size', 'secrets', 'pipeline']
    const report = JSON.parse(ok(run(mlskel, ['check', '--json', '--only', rules.join(',')], { cwd: project })).stdout) as CheckReport
    expect(report.ok).toBe(true)
    expect(Object.fromEntries(report.rules.map((r) => [r.id, r.status]))).toEqual(Object.fromEntries(rules.map((id) => [id, 'pass'])))
  })

  it('serves it: raw values in, an unseen category and nulls predicted, a wrong type refused', { timeout: 120_000 }, async () => {
    const { server, exited, listening } = startServe(mlskel, project)
    try {
      const base = await listening
      const post = async (body: unknown) => {
        const response = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        return { status: response.status, body: (await response.json()) as { result?: string[]; error?: { details: { row: number; field: string; problem: string }[] } } }
      }
      const records = [
        { monthly_spend: 30.5, visits: 2, member: true, plan: 'pro', signup: '2024-05-01' },
        { monthly_spend: null, visits: null, member: false, plan: 'enterprise', signup: null },
        { monthly_spend: 95, visits: 7, member: false, plan: 'basic', signup: '2023-12-24T10:30:00' },
      ]
      const predicted = await post({ records })
      expect(predicted.status).toBe(200)
      expect(predicted.body.result).toHaveLength(3)
      expect(predicted.body.result![0]).toBe('left')
      for (const label of predicted.body.result!) expect(['left', 'stayed']).toContain(label)
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/mlskel_unseen_category_total\{feature="plan"\} 1/)

      const csv = await fetch(`${base}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'monthly_spend,visits,member,plan,signup\n30.5,2,yes,pro,2024-05-01\n,,no,enterprise,\n' })
      expect(csv.status).toBe(200)
      expect(((await csv.json()) as { predictions: string[] }).predictions[0]).toBe('left')

      const wrong = await post({ records: [{ ...records[0], monthly_spend: 'a lot' }] })
      expect(wrong.status).toBe(400)
      expect(wrong.body.error!.details[0]).toMatchObject({ row: 0, field: 'monthly_spend' })
      const openapi = JSON.stringify(await (await fetch(`${base}/openapi.json`)).json())
      expect(openapi).toContain('"format":"date-time"')
      expect(openapi).toContain('"platinum"')
    } finally {
      server.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  })
})

describe('a 100,000-row data set, switched to through params.yaml alone', () => {
  it('generates, trains and predicts it', { timeout: 600_000 }, () => {
    // ten columns: the rows are what is under test here (a wide table: project.test.ts's 30 columns); at twenty, every
    // stage took ~1.5 times the CPU for nothing more
    ok(run(join(repo, 'node_modules', '.bin', 'tsx'), [join(repo, 'scripts', 'make-dataset.ts'), '--task', 'classification', '--rows', '100000', '--cols', '10', '--seed', '11', '--out', join(project, 'data', 'raw', 'large.csv')], { cwd: project }))
    setParams((text) => text.replace(/^ {2}raw: \S+/m, '  raw: large.csv').replace(/^ {2}target: \S+/m, '  target: label').replace(/^task: \S+/m, 'task: classification').replace(/cv_folds: \d+/, 'cv_folds: 2'))
    // A small model of the default kind: what is under test is 100,000 rows through every stage, not the models'
    // quality. bench/training.ts trains both kinds at 200,000 rows (gradient boosting at 1,000,000 too) beside
    // scikit-learn, and project.test.ts switches kinds on a 3,000-row set; a random forest here too cost ~10 s of CPU.
    setModel('type: gradient_boosting', 'max_iter: 15')
    expect(statuses(mlskelRun())).toEqual({ 'generate-dataset': 'ran', train: 'ran', predict: 'ran' })
    const record = newestRecord() as ReturnType<typeof newestRecord> & { model_type: string; data: { rows: number } }
    expect(record.model_type).toBe('gradient_boosting')
    expect(record.data.rows).toBe(100_000)
    expect(record.scores.accuracy!.hold_out).toBeGreaterThan(0.6)
    expect(record.scores.accuracy!.cv).toBeGreaterThan(0.6)
    // every test row predicted
    expect(readFileSync(join(project, 'data', 'predictions', 'test.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(1 + 20_001)
  })
})
