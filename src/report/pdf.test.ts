// Printing a report to PDF with the system's Chromium (Debian's /usr/bin/chromium unless MLSKEL_CHROMIUM says
// otherwise; CI installs it), and the clear error when there is none.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, requireTool } from '../../tests/require-tool.js'
import { htmlPage } from './html.js'
import { findChromium, printPdf } from './pdf.js'

const chrome = requireTool('chromium')
let work: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mlskel-pdf-'))
})

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('printPdf', () => {
  it.skipIf(chrome.skip)('prints a report page to a PDF, refusing the requests it makes', async () => {
    chrome.assert()
    const html = join(work, 'page.html')
    // an external image: the print must neither fetch it nor wait for it
    const body = '<p>Hello, PDF.</p><img src="http://127.0.0.1:9/never.png" alt="">'
    writeFileSync(html, htmlPage({ title: 'A small report', sections: [{ id: 'one', title: 'One', html: body }] }))
    const pdf = join(work, 'out', 'page.pdf')
    await printPdf(html, pdf, { ...process.env, MLSKEL_CHROMIUM: CHROMIUM })
    expect(readFileSync(pdf).subarray(0, 5).toString('latin1')).toBe('%PDF-')
  })

  it('fails with MLSKEL_REPORT_NO_BROWSER when MLSKEL_CHROMIUM names a missing file, and writes nothing', async () => {
    const html = join(work, 'missing.html')
    writeFileSync(html, '<p>x</p>')
    const pdf = join(work, 'missing.pdf')
    const missing = join(work, 'no-such-chromium')
    await expect(printPdf(html, pdf, { ...process.env, MLSKEL_CHROMIUM: missing })).rejects.toMatchObject({ code: 'MLSKEL_REPORT_NO_BROWSER', exitCode: 1, message: expect.stringContaining(missing) })
    expect(existsSync(pdf)).toBe(false)
  })

  it('fails with MLSKEL_REPORT_NO_BROWSER when MLSKEL_CHROMIUM is not a browser', async () => {
    const html = join(work, 'fake.html')
    writeFileSync(html, '<p>x</p>')
    await expect(printPdf(html, join(work, 'fake.pdf'), { ...process.env, MLSKEL_CHROMIUM: '/bin/false' })).rejects.toMatchObject({ code: 'MLSKEL_REPORT_NO_BROWSER', message: expect.stringContaining('failed to start') })
  })
})

describe('findChromium', () => {
  it('says what it tried when there is none', async () => {
    const found = findChromium({ PATH: work })
    // where a Chromium is installed in the usual place this finds it; otherwise the error lists the places
    if (['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].some((p) => existsSync(p))) await expect(found).resolves.toMatch(/chrom/)
    else await expect(found).rejects.toMatchObject({ code: 'MLSKEL_REPORT_NO_BROWSER', message: expect.stringContaining('/usr/bin/chromium') })
  })
})
