// The reports as a reader sees them: both, made from a trained project, opened in headless Chromium (Debian's, via
// playwright-core; CI installs it). Every chart is an SVG that is really drawn, the page logs no error, and it
// requests nothing beyond its own file. Screenshots go to test-output/reports/ for a human look.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL, fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, requireTool } from '../../tests/require-tool.js'
import { createTemplateProject, runTemplateStages } from '../scaffold/test-project.js'
import { deliveryReport } from './delivery.js'
import { exploreReport } from './explore.js'

const chrome = requireTool('chromium')
const screenshots = fileURLToPath(new URL('../../test-output/reports/', import.meta.url))
let work: string
let project: string
let browser: Browser

describe.skipIf(chrome.skip)('in headless Chromium', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mlskel-reports-'))
    project = join(work, 'iris')
    createTemplateProject(project)
    await runTemplateStages(project, ['generate-dataset', 'train', 'predict'])
    chrome.assert()
    browser = await chromium.launch({ executablePath: CHROMIUM })
    mkdirSync(screenshots, { recursive: true })
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    rmSync(work, { recursive: true, force: true })
  })

  interface Rendered {
    charts: number
    /** Charts drawn with a size of zero (not rendered). */
    empty: number
    errors: string[]
    requests: string[]
    title: string
    text: string
  }

  /** Open a report file as a reader would, and see what it shows. */
  async function open(path: string, screenshot: string): Promise<Rendered> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    const errors: string[] = []
    const requests: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') errors.push(`${message.type()}: ${message.text()}`)
    })
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
    page.on('request', (request) => {
      if (request.url() !== pathToFileURL(path).href) requests.push(request.url())
    })
    try {
      await page.goto(pathToFileURL(path).href, { waitUntil: 'load' })
      const sizes = await page.locator('figure svg').evaluateAll((svgs) => svgs.map((svg) => svg.getBoundingClientRect()).map((r) => r.width * r.height))
      await page.screenshot({ path: join(screenshots, screenshot), fullPage: true })
      return { charts: sizes.length, empty: sizes.filter((area) => area === 0).length, errors, requests, title: await page.title(), text: await page.innerText('body') }
    } finally {
      await page.close()
    }
  }

  describe('reports in Chromium', () => {
    it('delivery: the model card, scores and every chart render, with no error and no request', async () => {
      const made = await deliveryReport({ root: project })
      const seen = await open(made.path, 'delivery.png')
      expect(seen.errors).toEqual([])
      expect(seen.requests).toEqual([])
      expect(seen.empty).toBe(0)
      expect(seen.charts).toBe(made.charts)
      expect(seen.charts).toBeGreaterThanOrEqual(4)
      expect(seen.title).toContain('Delivery report')
      expect(seen.text).toContain(made.runId)
    })

    it('explore: per-column statistics, histograms, correlations and the target, with no error and no request', async () => {
      const made = await exploreReport({ root: project })
      const seen = await open(made.path, 'explore.png')
      expect(seen.errors).toEqual([])
      expect(seen.requests).toEqual([])
      expect(seen.empty).toBe(0)
      expect(seen.charts).toBe(made.charts)
      // four histograms, the correlation heatmap and the target's classes, at least
      expect(seen.charts).toBeGreaterThanOrEqual(6)
      expect(seen.text).toContain('sepal_length')
    })
  })
})
