// The template's notebooks, run headless as `npm run report:notebooks` runs them (Jupyter's nbconvert, Deno's
// kernel from the deno dev dependency) on a trained project: both reports written, with every table and chart.
// Needs Jupyter: CI installs it from Debian (.ci/run), and there a missing Jupyter fails this file; elsewhere it skips.
// Among the end-to-end files (a process of its own, started with them): as a unit file, a clean clone's run (no
// durations yet, so files in order of size) started it last, and one core worked ~25 s on it alone.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTemplateProject, runTemplateStages } from '../../src/scaffold/test-project.js'
import { requireTool } from '../require-tool.js'

const repo = fileURLToPath(new URL('../..', import.meta.url))
const cli = join(repo, 'dist', 'cli', 'index.js')
const jupyter = requireTool('jupyter')

interface Exit {
  code: number | null
  output: string
}

/** Run `command` in `cwd` as a user's shell would: none of this runner's or npm's variables. */
function run(command: string, args: string[], cwd: string): Exit {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1' }
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('VITEST') && !key.startsWith('npm_') && key !== 'NODE_OPTIONS') env[key] = value
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 200_000 })
  return { code: result.status, output: `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}` }
}

function ok(result: Exit): Exit {
  if (result.code !== 0) throw new Error(`exit ${result.code}\n${result.output.slice(-6000)}`)
  return result
}

const count = (text: string, needle: string) => text.split(needle).length - 1

// skipped only outside CI: in CI (CI set) a missing Jupyter fails the beforeAll below instead
describe.skipIf(jupyter.skip)('the template notebooks', () => {
  let work: string

  beforeAll(() => {
    jupyter.assert()
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build mlskel first (npm run build)`)
    work = mkdtempSync(join(tmpdir(), 'mlskel-notebooks-'))
  })

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('run headless into reports/notebooks/explore.html and modelling-report.html, with their tables and charts', async () => {
    const project = join(work, 'trained')
    createTemplateProject(project)
    const params = join(project, 'params.yaml')
    writeFileSync(params, readFileSync(params, 'utf8').replace(/n_estimators: \d+/, 'n_estimators: 8'))
    // the pipeline's stages, run in this process (what `mlskel run` runs: tested on the installed project, tests/e2e)
    await runTemplateStages(project, ['generate-dataset', 'train', 'predict'])

    ok(run('npm', ['run', 'report:notebooks'], project))

    const explore = readFileSync(join(project, 'reports', 'notebooks', 'explore.html'), 'utf8')
    const modelling = readFileSync(join(project, 'reports', 'notebooks', 'modelling-report.html'), 'utf8')
    for (const html of [explore, modelling]) expect(html).not.toContain('data-mime-type="application/vnd.jupyter.stderr"') // an error output
    // every output is there (Deno's kernel can send one after its cell has ended, which nbconvert drops)
    expect([count(explore, '<table><thead>'), count(explore, '<svg')]).toEqual([6, 2])
    expect([count(modelling, '<table><thead>'), count(modelling, '<svg')]).toEqual([4, 2])
    // explore: DuckDB's SUMMARIZE of the staged iris table, the histograms and the class balance
    expect(explore).toContain('<th>missing %</th>')
    expect(explore).toContain('<td>sepal_length</td><td>DOUBLE</td><td>4.3</td><td>7.9</td>')
    expect(explore).toContain('sepal_length (binned)')
    expect(explore).toContain('<td>setosa</td><td class="num">50</td>')
    // dataset.json's columns: each with its type and why
    expect(explore).toMatch(/<td>petal_width<\/td><td>numeric<\/td><td class="num">0<\/td><td>numbers<\/td>/)
    // modelling report: the record's scores, its confusion matrix and its feature ranges
    const [record] = readdirSync(join(project, 'models', 'metadata')).filter((name) => name.endsWith('.json'))
    expect(modelling).toContain(`<td>${record!.slice(0, -'.json'.length)}</td>`)
    expect(modelling).toContain('<th>f1_macro hold_out</th>')
    expect(modelling).toMatch(/aria-label="[^"]*predicted[^"]*"/)
    expect(modelling).toContain('<td>petal_width</td><td class="num">0.1</td><td class="num">2.5</td>')
  }, 240_000)

  it('stops with the failing cell\'s error when the pipeline has not run', () => {
    const project = join(work, 'untrained')
    createTemplateProject(project)
    const result = run('npm', ['run', 'report:notebooks', '--', 'notebooks/explore.ipynb'], project)
    expect(result.code).not.toBe(0)
    expect(result.output).toContain('data/transformed/dataset.json is missing: run `npm run generate-dataset` first')
    expect(existsSync(join(project, 'reports', 'notebooks', 'explore.html'))).toBe(false)
  }, 120_000)
})
