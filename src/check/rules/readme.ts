// Rule 11, README: the template's README has sections to fill in (Objective, Explorative results, Modelling
// results), each holding a `<!-- TODO: ... -->` placeholder. One still there is a warning naming its section.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Finding, Rule } from '../types.js'

export const README = 'README.md'
export const PLACEHOLDER = /<!--\s*TODO\b/

export const readmeRule: Rule = {
  id: 'readme',
  title: 'README filled in',
  async run(ctx) {
    let text: string
    try {
      text = await readFile(join(ctx.root, README), 'utf8')
    } catch {
      return { findings: [{ level: 'warning', code: 'MLSKEL_CHECK_README_PLACEHOLDER', file: README, message: `${README} is missing: it says what the project is for and how to use it`, fix: 'Write README.md (the template\'s sections: Objective, Explorative results, Modelling results, Usage, Configuration, Deploy).' }] }
    }
    const findings: Finding[] = []
    let section = '(before the first section)'
    let fenced = false
    text.split('\n').forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced
      const heading = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
      if (heading) section = heading[1]!
      else if (PLACEHOLDER.test(line)) findings.push({ level: 'warning', code: 'MLSKEL_CHECK_README_PLACEHOLDER', file: README, line: i + 1, message: `section "${section}" still holds the template's placeholder` })
    })
    return { findings, summary: findings.length === 0 ? 'no placeholders left' : `${findings.length} placeholder${findings.length === 1 ? '' : 's'} left` }
  },
}
