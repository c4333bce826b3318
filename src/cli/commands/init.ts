// `mlskel init`: adopt the current folder: add what is missing of the layout and template, overwriting nothing, and
// merge the template's scripts, dependencies and .gitignore lines into the project's own.
import { adoptProject } from '../../scaffold/index.js'

export default async function initCommand(options: { json?: boolean }): Promise<void> {
  const project = await adoptProject(process.cwd())
  if (options.json) {
    console.log(JSON.stringify({ root: project.root, mlskel: project.mlskelSpec, ...(project.vendored ? { vendored: project.vendored } : {}), added: project.added, kept: project.kept, merged: project.merged }, null, 2))
    return
  }
  const list = (items: string[]) => (items.length ? items.map((p) => `  ${p}`).join('\n') : '  (none)')
  const { merged } = project
  const out = [`Added ${project.added.length} files:\n${list(project.added)}`, `Left alone ${project.kept.length} existing files:\n${list(project.kept)}`]
  if (merged.files.length > 0) out.push(`Merged into ${merged.files.join(' and ')}:\n${list(merged.added)}`)
  if (merged.conflicts.length > 0) out.push(`Kept yours where the template differs (merge by hand if you want the template's):\n${list(merged.conflicts)}`)
  if (project.vendored) out.push(`mlskel is not from the registry: its package is in ${project.vendored}; commit it with the project.`)
  out.push('Next: npm install, then npm run pipeline (or npx mlskel run) and npm test')
  console.log(out.join('\n\n'))
}
