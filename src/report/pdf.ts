// Reports as PDF: the HTML report printed by headless Chromium (through playwright-core), offline. The page is
// self-contained, so every request beyond its own file is refused: a PDF never depends on the network.
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MlskelError } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'

/** Where Chromium usually is on Linux, tried in order after MLSKEL_CHROMIUM. */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
/** Names looked up on PATH after those. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']

/** Print the HTML file `htmlPath` to `pdfPath` (A4, backgrounds printed), written atomically. */
export async function printPdf(htmlPath: string, pdfPath: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const executablePath = await findChromium(env)
  const { chromium } = await loadPlaywright()
  let browser
  try {
    browser = await chromium.launch({ executablePath })
  } catch (error) {
    throw noBrowser(`Chromium at ${executablePath} failed to start: ${firstLine(error)}`, error)
  }
  try {
    const page = await browser.newPage()
    // only the report's own file may load; anything else (there should be nothing) is refused
    const own = pathToFileURL(htmlPath).href
    await page.route('**/*', (route) => (route.request().url() === own ? route.continue() : route.abort('blockedbyclient')))
    await page.goto(own, { waitUntil: 'load' })
    const pdf = await page.pdf({ format: 'A4', printBackground: true })
    await writeFileAtomic(pdfPath, pdf)
  } finally {
    await browser.close()
  }
}

/** The Chromium to print with: MLSKEL_CHROMIUM when set (and only it), else the first usual place that holds one. */
export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const chosen = env.MLSKEL_CHROMIUM?.trim()
  if (chosen) {
    if (await isExecutable(chosen)) return chosen
    throw noBrowser(`MLSKEL_CHROMIUM is ${chosen}, which is not an executable file`)
  }
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => CHROMIUM_NAMES.map((name) => join(dir, name)))
  const candidates = [...new Set([...CHROMIUM_PATHS, ...onPath])]
  for (const candidate of candidates) if (await isExecutable(candidate)) return candidate
  throw noBrowser(`no Chromium found: MLSKEL_CHROMIUM is not set, and none of ${CHROMIUM_PATHS.join(', ')} exists, nor ${CHROMIUM_NAMES.join(', ')} on PATH`)
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  )
}

/** playwright-core, loaded only for --pdf: an install without it still writes HTML reports. */
async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  try {
    return await import('playwright-core')
  } catch (error) {
    throw noBrowser(`printing a PDF needs the package playwright-core, which cannot be loaded: ${firstLine(error)}`, error)
  }
}

function noBrowser(message: string, cause?: unknown): MlskelError {
  return new MlskelError('MLSKEL_REPORT_NO_BROWSER', message, cause === undefined ? {} : { cause })
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!
}
