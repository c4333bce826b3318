// The public API of mlskel's three entry points ('mlskel', 'mlskel/serve', 'mlskel/report') as API Extractor reports
// it, from the built declarations in dist/: api/<entry>.api.md, checked in. `npm run api` writes them anew;
// tests/api.test.ts fails when the code's surface and the checked-in report differ, so every change to the surface is
// a deliberate one, seen in review.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor'

const repo = resolve(import.meta.dirname, '..')

export const ENTRIES: Record<string, string> = {
  mlskel: 'dist/index.d.ts',
  'mlskel-serve': 'dist/serve/index.d.ts',
  'mlskel-report': 'dist/report/index.d.ts',
}

export interface ApiReportResult {
  /** Entries whose surface differs from api/<entry>.api.md. */
  changed: string[]
  /** Where the reports of the code as it is were written (with local: api/ itself). */
  folder: string
}

/** Compare (local false) or write (local true) the API reports of every entry point. dist/ must be built. */
export function apiReport(local: boolean): ApiReportResult {
  const temp = mkdtempSync(join(tmpdir(), 'mlskel-api-'))
  const changed: string[] = []
  try {
    const configs = Object.entries(ENTRIES).map(([name, entry]) => {
      const config = ExtractorConfig.prepare({
        configObject: {
          projectFolder: repo,
          mainEntryPointFilePath: join(repo, entry),
          compiler: { tsconfigFilePath: join(repo, 'tsconfig.build.json') },
          apiReport: { enabled: true, reportFileName: `${name}.api.md`, reportFolder: join(repo, 'api'), reportTempFolder: temp },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          // the report is the contract; release tags and TSDoc style are not what it checks
          messages: {
            compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
            extractorMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
            tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
          },
        },
        configObjectFullPath: undefined,
        packageJsonFullPath: join(repo, 'package.json'),
      })
      return { name, config }
    })
    // one TypeScript program for the three entries, not one each (it is most of the time: ~7 -> ~3 s)
    const compilerState = CompilerState.create(configs[0]!.config, { additionalEntryPoints: configs.map(({ config }) => config.mainEntryPointFilePath) })
    for (const { name, config } of configs) {
      const result = Extractor.invoke(config, { compilerState, localBuild: local, messageCallback: (message) => void (message.handled = true) })
      if (result.apiReportChanged) changed.push(name)
    }
    return { changed, folder: local ? join(repo, 'api') : temp }
  } finally {
    // kept only when it holds a report that differs, for the comparison the test's message asks for
    if (local || changed.length === 0) rmSync(temp, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { changed } = apiReport(true)
  console.log(changed.length > 0 ? `api/: ${changed.map((n) => `${n}.api.md`).join(', ')} written anew` : 'api/: the reports match the code')
}
