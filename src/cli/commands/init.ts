// `mlskel init`: adopt the current folder, adding what is missing of the layout and template, overwriting nothing.
import { adoptProject } from '../../scaffold/index.js'

export default async function initCommand(options: { json?: boolean }): Promise<void> {
  const project = await adoptProject(process.cwd())
  if (options.json) {
    console.log(JSON.stringify({ root: project.root, added: project.added, kept: project.kept }, null, 2))
    return
  }
  const list = (paths: string[]) => (paths.length ? paths.map((p) => `  ${p}`).join('\n') : '  (none)')
  console.log(`Added ${project.added.length} files:\n${list(project.added)}\n\nLeft alone ${project.kept.length} existing files:\n${list(project.kept)}`)
  if (project.added.includes('package.json')) console.log('\nNext: npm install, then npm run pipeline')
  else console.log('\npackage.json was kept: add the scripts and dependencies of the template\'s package.json that you need (see `mlskel new` output for a reference project).')
}
