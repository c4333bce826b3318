// The delivery report on a real project: the template, trained by its own stages (run in this process) for
// classification, then for regression (so the project has two runs, and the classification run's splits have changed
// since it trained). The report's command is the built CLI, run as users run it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readRecords, type MetadataRecord } from '../metadata/index.js'
import { createTemplateProject, runTemplateStages } from '../scaffold/test-project.js'
import { deliveryReport } from './delivery.js'

const cli = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))
let work: string
let project: string
let classification: MetadataRecord
let regression: MetadataRecord

function mlskel(args: string[], cwd = project) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', LOG_LEVEL: 'silent' }
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'MLSKEL_SET') delete env[key]
  return spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 })
}

/** generate-dataset, then train: what `mlskel run train` runs after params.yaml changed. */
async function train(): Promise<void> {
  await runTemplateStages(project, ['generate-dataset', 'train'])
}

function editParams(edit: (text: string) => string): void {
  const file = join(project, 'params.yaml')
  writeFileSync(file, edit(readFileSync(file, 'utf8')))
}

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build mlskel first (npm run build)`)
  work = mkdtempSync(join(tmpdir(), 'mlskel-delivery-'))
  project = join(work, 'iris')
  createTemplateProject(project)
  editParams((text) => text.replace(/^( {2}type: gradient_boosting.*)$/m, '$1\n  max_iter: 10'))
  await train()
  // the template's own regression example (params.yaml's comment)
  editParams((text) => text.replace(/target: species/, 'target: petal_length').replace('features: []', 'features: [sepal_length, sepal_width, petal_width]').replace('task: classification', 'task: regression'))
  await train()
  const records = await readRecords(join(project, 'models', 'metadata'))
  regression = records[0]!
  classification = records[1]!
}, 120_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

/** The HTML of one section of the page, by its id. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`)
  expect(start, `section ${id}`).toBeGreaterThanOrEqual(0)
  return html.slice(start, html.indexOf('</section>', start))
}

function svgCount(html: string): number {
  return html.split('<svg').length - 1
}

describe('deliveryReport', () => {
  it('writes reports/delivery.html for the latest run: model card, scores, charts, nothing external', async () => {
    const now = new Date('2026-01-02T03:04:05.000Z')
    const result = await deliveryReport({ root: project, now })
    expect(result.path).toBe(join(project, 'reports', 'delivery.html'))
    expect(result.runId).toBe(regression.run_id)
    const html = readFileSync(result.path, 'utf8')
    expect(result.bytes).toBe(Buffer.byteLength(html))

    const card = section(html, 'model')
    for (const text of [regression.description, regression.model_type, regression.model_id, regression.model_hash, regression.testing_strategy, regression.run_id, regression.timestamp]) expect(card).toContain(text)
    expect(card).toContain('max_iter=10')
    expect(card).toContain('5-fold on the training split')
    expect(card).toContain('20% of the rows (30 rows)')
    expect(card).toContain('not in a git repository')
    expect(card).toContain(`Node ${regression.environment.node}`)
    expect(card).toContain(`mlskel ${regression.environment.mlskel}`)
    // the command that trained, as recorded (here the test runner's: the stages ran in this process)
    expect(regression.command.length).toBeGreaterThan(0)
    expect(card).toContain(regression.command.join(' '))
    for (const input of regression.data.inputs) expect(card).toContain(`${input.sha256.slice(0, 12)}…`)

    const scores = section(html, 'scores')
    for (const [metric, splits] of Object.entries(regression.scores)) {
      expect(scores).toContain(`<td>${metric}</td>`)
      expect(scores).toContain(`>${Number(splits.hold_out!.toPrecision(4))}</td>`)
    }

    // history, predicted vs actual, residual histogram, splits per feature, feature histograms, target histogram
    expect(result.charts).toBe(6)
    expect(svgCount(html)).toBe(6)
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*https?:/i)
    expect(html).toContain(now.toISOString())
  })

  it('draws predicted against actual for a regression, from the model and the recorded test split', async () => {
    const html = readFileSync((await deliveryReport({ root: project })).path, 'utf8')
    const evaluation = section(html, 'evaluation')
    expect(evaluation).toContain('Predicted against actual on the 30 hold-out rows')
    expect(evaluation).toContain('Residuals (actual − predicted) of the hold-out rows')
    expect(svgCount(evaluation)).toBe(2)
    const importance = section(html, 'importance')
    expect(importance).toContain('Feature importance by column: share of the total split gain.')
    expect(svgCount(importance)).toBe(1)
    // the regression's three features, each with its share and split count, largest share first
    for (const feature of ['sepal_length', 'sepal_width', 'petal_width']) expect(importance).toContain(`<td>${feature}</td>`)
    expect(section(html, 'features')).toContain('data/transformed/train.parquet')
  })

  it('falls back to the recorded residual statistics when the model folder is gone', async () => {
    const modelDir = join(project, regression.model_location)
    const away = join(work, 'model-away')
    renameSync(modelDir, away)
    try {
      const html = readFileSync((await deliveryReport({ root: project })).path, 'utf8')
      const evaluation = section(html, 'evaluation')
      expect(evaluation).toContain(`the model folder ${regression.model_location} is not there`)
      expect(evaluation).toContain('The recorded residual statistics are drawn instead')
      expect(evaluation).not.toContain('Predicted against actual')
      expect(svgCount(evaluation)).toBe(1)
      // importances are in the record: the chart needs no model
      expect(svgCount(section(html, 'importance'))).toBe(1)
    } finally {
      renameSync(away, modelDir)
    }
  })

  it('reports an older run by id prefix into its own file, with its confusion matrix counts', async () => {
    const result = await deliveryReport({ root: project, run: classification.run_id.slice(0, 18) })
    expect(result.runId).toBe(classification.run_id)
    expect(result.path).toBe(join(project, 'reports', `delivery-${classification.run_id}.html`))
    const html = readFileSync(result.path, 'utf8')
    const evaluation = section(html, 'evaluation')
    const holdOut = classification.evaluation.hold_out as { confusion_matrix: { labels: string[]; matrix: number[][] } }
    expect(svgCount(evaluation)).toBe(1)
    for (const label of holdOut.confusion_matrix.labels) expect(evaluation).toContain(`>${label}</text>`)
    for (const count of holdOut.confusion_matrix.matrix.flat()) expect(evaluation).toContain(`>${count}</text>`)
    // the regression retrained the splits: the classification's histograms are refused, its ranges shown instead
    expect(section(html, 'features')).toContain('has changed since the training')
    const target = classification.target as { counts: Record<string, number> }
    for (const count of Object.values(target.counts)) expect(section(html, 'target')).toContain(`>${count}</text>`)
  })

  it('writes to --out, relative to the root', async () => {
    const result = await deliveryReport({ root: project, out: 'elsewhere' })
    expect(result.path).toBe(join(project, 'elsewhere', 'delivery.html'))
    expect(existsSync(result.path)).toBe(true)
  })

  it('refuses an unknown run id with MLSKEL_REPORT_NO_RUN', async () => {
    await expect(deliveryReport({ root: project, run: '19990101T000000' })).rejects.toMatchObject({ code: 'MLSKEL_REPORT_NO_RUN' })
  })

  it('refuses a project with no training records with MLSKEL_REPORT_NO_RUN', async () => {
    const empty = join(work, 'empty')
    mkdirSync(empty)
    writeFileSync(join(empty, 'mlskel.yaml'), 'stages: {}\n')
    await expect(deliveryReport({ root: empty })).rejects.toMatchObject({ code: 'MLSKEL_REPORT_NO_RUN' })
  })
})

describe('mlskel report delivery', () => {
  it('prints the path written, or the result as JSON', () => {
    const human = mlskel(['report', 'delivery'])
    expect(human.status).toBe(0)
    expect(human.stdout).toBe(`wrote ${join('reports', 'delivery.html')}\n`)
    const json = mlskel(['report', 'delivery', '--json', '--run', classification.run_id])
    expect(json.status).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({ runId: classification.run_id, path: join(project, 'reports', `delivery-${classification.run_id}.html`), charts: 5 })
  })

  it('exits 2 with MLSKEL_REPORT_NO_RUN for an unknown --run', () => {
    const result = mlskel(['report', 'delivery', '--run', 'nope'])
    expect(result.status).toBe(2)
    expect(result.stderr).toContain('MLSKEL_REPORT_NO_RUN')
  })
})

describe('the delivery report of a model on typed columns', () => {
  it('reads the test split through the model\'s signature, and sums a date\'s parts into its column\'s importance', async () => {
    const lines = ['plan,signup,spend']
    for (let i = 0; i < 240; i++) lines.push(`${['basic', 'pro', 'team'][i % 3]},2023-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},${(i % 3) * 10 + (i % 12) + (i % 7 === 0 ? '' : '.5')}`)
    writeFileSync(join(project, 'data', 'raw', 'spend.csv'), `${lines.join('\n')}\n`)
    editParams((text) => text.replace(/raw: \S+/, 'raw: spend.csv').replace(/target: \S+/, 'target: spend').replace(/features: \[[^\]]*\]/, 'features: []'))
    await train()
    const result = await deliveryReport({ root: project })
    const html = readFileSync(result.path, 'utf8')
    const importance = section(html, 'importance')
    expect(importance).toMatch(/<td>signup<\/td><td[^>]*>[\d.]+%<\/td><td[^>]*>\d+<\/td><td>signup_year, signup_month, signup_day, signup_weekday<\/td>/)
    expect(importance).toContain('a date')
    // predicted against actual, from the typed test split: not the recorded residuals' fallback
    expect(section(html, 'evaluation')).not.toContain('Per-row charts are not shown')
  })
})
