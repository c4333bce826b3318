// The links rule: no symbolic link leads out of the project. What a link outside points to is in no clone of the
// project, and git sees none of its changes; raw data linked in is hashed and manifested by what it points to (so a
// change is caught here), but the project no longer travels. Looked for where data and models live (the raw data
// and models folders, which git usually ignores) and among the files git tracks. A link to an external input that
// mlskel.yaml declares is known and kept out of the report: that data is outside by choice.
import { lstatSync } from 'node:fs'
import { readdir, readlink, realpath } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { readExternalInputs } from '../../project/index.js'
import type { CheckContext, Finding, Rule } from '../types.js'

export const linksRule: Rule = {
  id: 'links',
  title: 'no links out of the project',
  async run(ctx) {
    const root = await realpath(ctx.root).catch(() => resolve(ctx.root))
    const external = await Promise.all((await readExternalInputs(ctx.root)).map((path) => realpath(path).catch(() => path)))
    const links = new Set([...(await linksUnder(ctx.paths.raw)), ...(await linksUnder(ctx.paths.models)), ...(await trackedLinks(ctx))])
    for (const folder of [ctx.paths.raw, ctx.paths.models]) if (isLink(folder)) links.add(folder)
    const findings: Finding[] = []
    for (const link of [...links].sort()) {
      const text = await readlink(link)
      const target = await realpath(link).catch(() => undefined)
      // a link that leads nowhere is judged by where it would lead, from its folder's real path
      const leads = target ?? resolve(await realpath(dirname(link)).catch(() => dirname(link)), text)
      if (isWithin(leads, root) || external.some((path) => isWithin(leads, path))) continue
      const file = relative(ctx.root, link).split(sep).join('/')
      findings.push({
        level: 'warning',
        code: 'MLSKEL_CHECK_LINK_OUTSIDE',
        file,
        message: `${file} is a symbolic link to ${leads}, outside the project${target === undefined ? ', which does not exist' : ''}: a clone of the project does not have it, and git sees none of its changes`,
      })
    }
    const where = `${projectPath(ctx, ctx.paths.raw)}/, ${projectPath(ctx, ctx.paths.models)}/ and tracked files`
    return { findings, summary: findings.length === 0 ? `no link out of the project in ${where}` : `${findings.length} link${findings.length === 1 ? '' : 's'} out of the project in ${where}` }
  },
}

/** Every symbolic link below `dir` (not followed into); none when it does not exist. */
async function linksUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isSymbolicLink()).map((e) => join(e.parentPath, e.name))
  } catch {
    return []
  }
}

/** The tracked files that are symbolic links (an lstat each: ~4 µs, 40 ms for 10,000 files). */
async function trackedLinks(ctx: CheckContext): Promise<string[]> {
  const links: string[] = []
  for (const file of (await ctx.trackedFiles()) ?? []) {
    const path = join(ctx.root, file)
    if (isLink(path)) links.push(path)
  }
  return links
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false // not there (tracked but deleted from the work tree): nothing to follow
  }
}

function isWithin(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`)
}

function projectPath(ctx: CheckContext, path: string): string {
  return relative(ctx.root, path).split(sep).join('/')
}
