// The explorative report on the template's iris data, as CSV and as Parquet, and on small files made to break it:
// missing values, HTML in a column name, files that are not there or not data.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exploreReport } from './explore.js'

const template = fileURLToPath(new URL('../../template/', import.meta.url))
let work: string
let project: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mlskel-explore-'))
  project = join(work, 'iris')
  mkdirSync(join(project, 'data', 'raw'), { recursive: true })
  copyFileSync(join(template, 'data', 'raw', 'iris.csv'), join(project, 'data', 'raw', 'iris.csv'))
  copyFileSync(join(template, 'params.yaml'), join(project, 'params.yaml'))
})

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

/** A Parquet copy of a CSV, written by DuckDB. */
async function toParquet(csv: string, parquet: string): Promise<void> {
  mkdirSync(join(parquet, '..'), { recursive: true })
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    await db.run(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${parquet}' (FORMAT parquet)`)
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

/** The cells of the statistics table's row for a column, as text. */
function statsRow(html: string, column: string): string[] {
  const row = html.match(new RegExp(`<tr><td>${column}</td>(.*?)</tr>`))
  if (!row) throw new Error(`no row for ${column} in the statistics table`)
  return [...row[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!)
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e as Error)
  expect(error).toBeInstanceOf(Error)
  expect((error as Error & { code?: string }).code).toBe(code)
  return error!
}

describe('exploreReport', () => {
  it('writes reports/explore.html on the raw CSV named in params.yaml, with statistics, charts and correlations', async () => {
    const made = await exploreReport({ root: project, now: new Date('2026-01-02T03:04:05Z') })
    expect(made.path).toBe(join(project, 'reports', 'explore.html'))
    expect(made).toMatchObject({ rows: 150, columns: 5 })
    const html = readFileSync(made.path, 'utf8')
    expect(made.bytes).toBe(Buffer.byteLength(html))
    expect(html).toContain('data/raw/iris.csv')
    // type, missing, missing %, distinct, min, max, mean, std
    const sepal = statsRow(html, 'sepal_length')
    expect(sepal.slice(0, 3)).toEqual(['DOUBLE', '0', '0'])
    expect(sepal.slice(4, 6)).toEqual(['4.3', '7.9'])
    expect(Number(sepal[6])).toBeCloseTo(5.843, 3)
    expect(statsRow(html, 'species \\(target\\)').slice(3, 5)).toEqual(['3', 'setosa'])
    // four histograms, the heatmap and the target's classes, each an SVG in a figure
    expect(made.charts).toBe(6)
    expect(html.match(/<svg/g)).toHaveLength(6)
    expect(html.match(/<figure><svg/g)).toHaveLength(6)
    expect(html).toContain('<div class="charts">')
    expect(html).toContain('<section id="target"><h2>Target: species</h2>')
    // the target's class counts, and Pearson's r of petal length and width (0.963), annotated in its cell
    expect(html).toMatch(/<td>versicolor<\/td><td class="num">50<\/td><td class="num">33.3<\/td>/)
    expect(html).toMatch(/>0\.96<\/text>/)
    expect(html).not.toMatch(/<script/i)
    expect(html).toContain('2026-01-02T03:04:05.000Z')
  })

  it('prefers the staging Parquet when the pipeline has written it', async () => {
    const staging = join(project, 'data', 'staging', 'iris.parquet')
    await toParquet(join(project, 'data', 'raw', 'iris.csv'), staging)
    try {
      const made = await exploreReport({ root: project })
      expect(made.path).toBe(join(project, 'reports', 'explore.html'))
      expect(made).toMatchObject({ rows: 150, columns: 5, charts: 6 })
      const html = readFileSync(made.path, 'utf8')
      expect(html).toContain('data/staging/iris.parquet')
      expect(statsRow(html, 'petal_width').slice(4, 6)).toEqual(['0.1', '2.5'])
    } finally {
      rmSync(staging)
    }
  })

  it('explores a named Parquet file into explore-<stem>.html, relative to the root, with an explicit target', async () => {
    await toParquet(join(project, 'data', 'raw', 'iris.csv'), join(work, 'other', 'flowers 2.parquet'))
    const out = join(work, 'out')
    const made = await exploreReport({ root: project, data: '../other/flowers 2.parquet', target: 'petal_width', out })
    expect(made.path).toBe(join(out, 'explore-flowers-2.html'))
    expect(made).toMatchObject({ rows: 150, columns: 5 })
    // a numeric target: its histogram in its own section; three other histograms, species' values, the heatmap
    expect(made.charts).toBe(6)
    const html = readFileSync(made.path, 'utf8')
    expect(html).toContain('<h2>Target: petal_width</h2>')
    expect(html.match(/<svg/g)).toHaveLength(6)
  })

  it('calls a named file that is the raw data set explore.html', async () => {
    const made = await exploreReport({ root: project, data: 'data/raw/iris.csv' })
    expect(basename(made.path)).toBe('explore.html')
  })

  it('counts missing values per column', async () => {
    const root = join(work, 'gaps')
    mkdirSync(root, { recursive: true })
    writeFileSync(join(root, 'gaps.csv'), 'a,b,c\n1,x,\n,y,2\n3,,3\n4,x,4\n')
    const made = await exploreReport({ root, data: 'gaps.csv' })
    expect(made).toMatchObject({ rows: 4, columns: 3 })
    const html = readFileSync(made.path, 'utf8')
    expect(statsRow(html, 'a').slice(0, 5)).toEqual(['BIGINT', '1', '25', '3', '1'])
    expect(statsRow(html, 'b').slice(1, 3)).toEqual(['1', '25'])
    expect(html).toContain('3 of 12 cells (25 %)')
    expect(html).toContain('1 missing (25 %)')
    // no params.yaml here: no target, and the report says so
    expect(html).not.toContain('id="target"')
    expect(html).toContain('<dt>Target</dt><dd>none (no params.yaml names one)</dd>')
    // a chart of the missing values per column, before the distributions
    expect(html).toContain('<section id="missing"><h2>Missing values</h2>')
    expect(html).toContain('3 of 3 columns have missing values')
    expect(made.charts).toBe(5)
  })

  it('reads R\'s and pandas\' NA tokens as missing, so a numeric column with gaps stays numeric', async () => {
    const root = join(work, 'airquality')
    mkdirSync(root, { recursive: true })
    writeFileSync(join(root, 'air.csv'), '"Ozone","Solar.R","Wind"\n41,190,7.4\nNA,NA,14.3\n12,149,12.6\n18,NaN,11.5\n')
    const made = await exploreReport({ root, data: 'air.csv' })
    const html = readFileSync(made.path, 'utf8')
    expect(statsRow(html, 'Ozone').slice(0, 2)).toEqual(['BIGINT', '1'])
    expect(statsRow(html, 'Solar.R').slice(0, 2)).toEqual(['BIGINT', '2'])
    // histograms, not bar charts of 64 "classes"
    expect(html).toContain('<section id="missing">')
  })

  it('escapes HTML and quotes in column names and values', async () => {
    const root = join(work, 'html')
    mkdirSync(root, { recursive: true })
    writeFileSync(join(root, 'odd.csv'), '"<b>""x""</b>",label\n1,<i>a</i>\n2,<i>a</i>\n3,b&c\n')
    const made = await exploreReport({ root, data: 'odd.csv' })
    const html = readFileSync(made.path, 'utf8')
    expect(made).toMatchObject({ rows: 3, columns: 2, charts: 2 })
    expect(html).not.toContain('<b>')
    expect(html).not.toContain('<i>')
    expect(html).toContain('&lt;b&gt;&quot;x&quot;&lt;/b&gt;')
    expect(html).toContain('&lt;i&gt;a&lt;/i&gt;')
  })

  it('fails with MLSKEL_REPORT_DATA_MISSING, naming the file, when there is nothing to read', async () => {
    const missing = await expectCode(exploreReport({ root: project, data: 'data/raw/nope.csv' }), 'MLSKEL_REPORT_DATA_MISSING')
    expect(missing.message).toContain('data/raw/nope.csv')
    const notData = await expectCode(exploreReport({ root: project, data: 'params.yaml' }), 'MLSKEL_REPORT_DATA_MISSING')
    expect(notData.message).toContain('params.yaml')
    writeFileSync(join(work, 'broken.parquet'), 'not parquet')
    const unreadable = await expectCode(exploreReport({ root: project, data: join(work, 'broken.parquet') }), 'MLSKEL_REPORT_DATA_MISSING')
    expect(unreadable.message).toContain('broken.parquet')
  })

  it('fails with MLSKEL_REPORT_DATA_MISSING when the project has neither staging nor raw data', async () => {
    const root = join(work, 'empty')
    mkdirSync(root, { recursive: true })
    copyFileSync(join(template, 'params.yaml'), join(root, 'params.yaml'))
    const error = await expectCode(exploreReport({ root }), 'MLSKEL_REPORT_DATA_MISSING')
    expect(error.message).toContain('data/raw/iris.csv')
  })

  it('refuses a target that is not a column, suggesting the closest', async () => {
    const error = await expectCode(exploreReport({ root: project, target: 'specie' }), 'MLSKEL_USAGE')
    expect(error.message).toContain('"species"')
  })
})
