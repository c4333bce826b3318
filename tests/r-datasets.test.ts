// Classic tables with text columns and gaps, from R's `datasets` (r-base-core): each trains in a template project
// by editing only dataset.raw, dataset.target and task in params.yaml, and scores on its hold-out within a margin of
// scikit-learn's HistGradientBoosting given the same split and columns, with its native categorical support
// (bench/tabular_baseline.py). Needs Rscript and /usr/bin/python3 with scikit-learn and pandas: CI installs them
// (.ci/run), and there a missing one fails this file; elsewhere it skips, saying what to install.
//
// The project's generate-dataset and train run in this process (runTemplateStages): what is under test is how the
// template reads and learns these tables, not `mlskel run` starting each stage as a process (2.8 s of CPU a table).
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PythonBatch } from '../bench/python-batch.js'
import { createTemplateProject, runTemplateStages } from '../src/scaffold/test-project.js'
import { requireTool } from './require-tool.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const tools = requireTool('rscript', 'sklearn', 'pandas')

interface Table {
  name: string
  /** R code that leaves the table in `t`. */
  r: string
  target: string
  task: 'classification' | 'regression'
  /** What the table shows of real data, checked in its dataset.json. */
  expect: { categorical?: string[]; missing?: string[] }
}

const TABLES: Table[] = [
  { name: 'toothgrowth', r: 't <- ToothGrowth', target: 'len', task: 'regression', expect: { categorical: ['supp'] } },
  { name: 'warpbreaks', r: 't <- warpbreaks', target: 'breaks', task: 'regression', expect: { categorical: ['wool', 'tension'] } },
  { name: 'esoph', r: 't <- esoph; for (c in 1:3) t[[c]] <- as.character(t[[c]])', target: 'ncases', task: 'regression', expect: { categorical: ['agegp', 'alcgp', 'tobgp'] } },
  { name: 'airquality', r: 't <- airquality', target: 'Ozone', task: 'regression', expect: { missing: ['Ozone', 'Solar.R'] } },
  {
    name: 'titanic',
    r: 'd <- as.data.frame(Titanic); t <- d[rep(seq_len(nrow(d)), d$Freq), c("Class", "Sex", "Age", "Survived")]',
    target: 'Survived',
    task: 'classification',
    expect: { categorical: ['Class', 'Sex', 'Age'] },
  },
]

/** Hold-out accuracy or r2 mlskel may lose to HistGradientBoosting: these hold-outs have 9 to 440 rows. */
const MARGIN = { classification: 0.02, regression: 0.08 }

function run(command: string, args: string[], cwd: string): string {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' }
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('VITEST') && !key.startsWith('npm_') && key !== 'NODE_OPTIONS') env[key] = value
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000 })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`)
  return result.stdout
}

/** A split's Parquet file as CSV (NULL as an empty cell), for the baseline. */
async function toCsv(parquet: string, csv: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    await db.run(`COPY (SELECT * FROM read_parquet('${parquet}')) TO '${csv}' (HEADER, DELIMITER ',')`)
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

describe.skipIf(tools.skip)("R's datasets, trained as they come", () => {
  let work: string
  const results: string[] = []

  // one Python process for the five baselines: scikit-learn and pandas imported once (~2.5 s of CPU each time)
  let python: PythonBatch | undefined

  beforeAll(() => {
    tools.assert()
    work = mkdtempSync(join(tmpdir(), 'mlskel-r-datasets-'))
    // every table written by one R process
    run('Rscript', ['-e', TABLES.map((table) => `${table.r}; write.csv(t, "${join(work, `${table.name}.csv`)}", row.names = FALSE)`).join('\n')], work)
    python = new PythonBatch(join(repo, 'bench', 'tabular_baseline.py'))
  })
  afterAll(async () => {
    await python?.close()
    if (results.length > 0) console.log(`hold-out scores, mlskel gradient_boosting beside HistGradientBoosting:\n${results.join('\n')}`)
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it.each(TABLES)('$name trains from params.yaml alone and scores near HistGradientBoosting', { timeout: 120_000 }, async (table) => {
    const project = join(work, table.name)
    createTemplateProject(project)
    copyFileSync(join(work, `${table.name}.csv`), join(project, 'data', 'raw', `${table.name}.csv`))
    const params = join(project, 'params.yaml')
    writeFileSync(
      params,
      readFileSync(params, 'utf8')
        .replace('raw: iris.csv', `raw: ${table.name}.csv`)
        .replace('target: species', `target: ${table.target}`)
        .replace('task: classification', `task: ${table.task}`)
        // the hold-out is compared; the cross-validation scores are not, and 2 folds fit 3 models where 5 fit 6
        .replace(/cv_folds: \d+/, 'cv_folds: 2'),
    )
    await runTemplateStages(project, ['generate-dataset', 'train'])

    const dataset = JSON.parse(readFileSync(join(project, 'data', 'transformed', 'dataset.json'), 'utf8')) as {
      columns: { name: string; type: string; missing: number }[]
      features: { name: string }[]
    }
    for (const c of table.expect.categorical ?? []) expect(dataset.columns.find((col) => col.name === c)?.type, c).toBe('categorical')
    for (const c of table.expect.missing ?? []) expect(dataset.columns.find((col) => col.name === c)?.missing, c).toBeGreaterThan(0)
    const records = join(project, 'models', 'metadata')
    const record = JSON.parse(readFileSync(join(records, readdirSync(records).find((f) => f.endsWith('.json'))!), 'utf8')) as { scores: Record<string, { hold_out: number }> }
    const metric = table.task === 'classification' ? 'accuracy' : 'r2'
    const ours = record.scores[metric]!.hold_out

    const csv = (split: string) => join(project, `${split}.csv`)
    for (const split of ['train', 'test']) await toCsv(join(project, 'data', 'transformed', `${split}.parquet`), csv(split))
    const learnt = dataset.columns.filter((c) => dataset.features.some((f) => f.name === c.name))
    const spec = join(project, 'spec.json')
    writeFileSync(spec, JSON.stringify({ target: table.target, task: table.task, features: learnt.map((c) => ({ name: c.name, type: c.type })) }))
    const theirs = (JSON.parse(await python!.run([csv('train'), csv('test'), spec])) as { score: number }).score

    results.push(`  ${table.name.padEnd(12)} ${metric.padEnd(8)} mlskel ${ours.toFixed(3)}  HistGradientBoosting ${theirs.toFixed(3)}`)
    expect(ours, `${table.name}: mlskel ${ours} vs HistGradientBoosting ${theirs}`).toBeGreaterThanOrEqual(theirs - MARGIN[table.task])
  })
})
