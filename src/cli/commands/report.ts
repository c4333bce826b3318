// `mlskel report delivery|explore`: make the report, optionally print it to PDF, say where it went.
import { relative, resolve } from 'node:path'
import { findProjectRoot } from '../../project/files.js'

export interface DeliveryCommandOptions {
  run?: string
  out?: string
  pdf?: boolean
  json?: boolean
}

export interface ExploreCommandOptions {
  target?: string
  out?: string
  pdf?: boolean
  json?: boolean
}

export async function delivery(options: DeliveryCommandOptions): Promise<void> {
  const root = findProjectRoot()
  progress(`delivery report: run ${options.run ?? 'latest'}`)
  // loaded here: the report pulls in Vega, which `mlskel --help` should not pay for
  const { deliveryReport } = await import('../../report/index.js')
  const result = await deliveryReport({ root, ...(options.run !== undefined ? { run: options.run } : {}), ...outOption(options.out) })
  await finish(result, options)
}

export async function explore(data: string | undefined, options: ExploreCommandOptions): Promise<void> {
  const root = findProjectRoot()
  progress(`explorative report: ${data ?? 'the project\'s data set'}`)
  const { exploreReport } = await import('../../report/index.js')
  const result = await exploreReport({ root, ...(data !== undefined ? { data: resolve(data) } : {}), ...(options.target !== undefined ? { target: options.target } : {}), ...outOption(options.out) })
  await finish(result, options)
}

/** --out as the user typed it is relative to the current folder; the library takes it absolute. */
function outOption(out: string | undefined): { out?: string } {
  return out === undefined ? {} : { out: resolve(out) }
}

/** Print the PDF beside the HTML when asked, then one line (or the result as JSON) on stdout. */
async function finish<R extends { path: string }>(result: R, options: { pdf?: boolean; json?: boolean }): Promise<void> {
  let pdf: string | undefined
  if (options.pdf) {
    pdf = result.path.replace(/\.html$/, '.pdf')
    progress(`printing ${shown(pdf)} with Chromium`)
    const { printPdf } = await import('../../report/index.js')
    await printPdf(result.path, pdf)
  }
  if (options.json) return print(JSON.stringify(pdf === undefined ? result : { ...result, pdf }, null, 2))
  print(`wrote ${shown(result.path)}${pdf === undefined ? '' : ` and ${shown(pdf)}`}`)
}

/** A path as the user would type it: relative to the current folder when it is inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path)
  return rel && !rel.startsWith('..') ? rel : path
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`)
}

function print(text: string): void {
  process.stdout.write(`${text}\n`)
}
