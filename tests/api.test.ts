// The public API is deliberate: the surface of each entry point, as API Extractor reports it from dist/'s
// declarations, must be the checked-in api/<entry>.api.md. After a change to what 'mlskel', 'mlskel/serve' or
// 'mlskel/report' export (or to an exported signature), `npm run api` writes the reports anew, for review.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { apiReport, ENTRIES } from '../scripts/api-report.js'

describe('the public API', () => {
  it('is what api/*.api.md says, entry by entry', { timeout: 120_000 }, () => {
    const { changed, folder } = apiReport(false)
    const hint = changed.map((name) => `${name}: compare api/${name}.api.md with ${join(folder, `${name}.api.md`)}, then \`npm run api\` if the change is meant`).join('\n')
    expect(changed, hint).toEqual([])
  })

  it('keeps the main entry small: no presentation, no pipeline internals', () => {
    const report = readFileSync(new URL('../api/mlskel.api.md', import.meta.url), 'utf8')
    const exported = [...report.matchAll(/^export (?:function|const|class|interface|type|namespace) (\w+)/gm)].map((m) => m[1])
    expect(Object.keys(ENTRIES)).toEqual(['mlskel', 'mlskel-serve', 'mlskel-report'])
    for (const internal of ['formatRecord', 'formatRunList', 'loadPipeline', 'selectStages', 'reasonsToRun', 'readLockFile', 'newRunId']) expect(exported).not.toContain(internal)
    expect(exported).toEqual(expect.arrayContaining(['loadParams', 'stageContext', 'recordTraining', 'trainModel', 'runPipeline']))
  })
})
