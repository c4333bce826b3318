// `mlskel new <dir>`: create a project from the template, install it, make its first commit.
//
// Progress goes to stderr as plain lines (the package manager's output streams beneath its step), so stdout holds
// only the result: the next steps, or the --json summary. No spinner library: like `mlskel run`, the lines read
// the same in a terminal and in a CI log, and an error is printed once, by the CLI, with its code and fix.
import { relative } from 'node:path'
import { painter, wantsColor } from '../../terminal/index.js'
import { formatDuration } from '../../pipeline/index.js'
import { createProject, detectPackageManager, initGit, installDependencies, type GitOutcome, type PackageManager } from '../../scaffold/index.js'

interface NewOptions {
  pm?: PackageManager
  git: boolean
  install: boolean
  force?: boolean
  json?: boolean
}

const paint = painter(process.stderr)
const dim = (text: string) => paint('dim', text)
const step = (text: string) => process.stderr.write(`${wantsColor(process.stderr) ? paint('cyan', '›') : '>'} ${text}\n`)

export default async function newCommand(dir: string, options: NewOptions): Promise<void> {
  const pm = options.pm ?? detectPackageManager()

  const project = await createProject({ dir, force: options.force })
  step(`created ${project.name} from the template: ${project.added.length} files${project.kept.length ? `, ${project.kept.length} existing kept` : ''}`)
  step(project.vendored ? `mlskel is not from the registry: its package is in ${project.vendored}, committed with the project (package.json: "mlskel": "${project.mlskelSpec}")` : `depends on mlskel ${project.mlskelSpec}`)

  let installed = false
  if (options.install) {
    step(`installing dependencies with ${pm}…`)
    const started = performance.now()
    let pending = ''
    await installDependencies(project.root, pm, (chunk) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) if (line.trim()) process.stderr.write(dim(`  │ ${line}\n`))
    })
    if (pending.trim()) process.stderr.write(dim(`  │ ${pending}\n`))
    installed = true
    step(`installed in ${formatDuration(performance.now() - started)}`)
  }

  let git: GitOutcome = { status: 'skipped', reason: '--no-git' }
  if (options.git) {
    git = await initGit(project.root)
    step(git.status === 'committed' ? 'initialized git with an initial commit' : `git skipped: ${git.reason}`)
  }

  if (options.json) {
    console.log(JSON.stringify({ root: project.root, name: project.name, mlskel: project.mlskelSpec, ...(project.vendored ? { vendored: project.vendored } : {}), files: project.added, kept: project.kept, installed, git }, null, 2))
    return
  }
  const cd = relative(process.cwd(), project.root)
  const next = [...(cd ? [`cd ${cd}`] : []), ...(installed ? [] : [`${pm} install`]), `${pm} run pipeline     # generate-dataset > train > predict`, `${pm} test              # typecheck, tests with coverage, mlskel check`]
  console.log(`\nProject ${project.name} is ready in ${project.root}\n\nNext:\n${next.map((s) => `  ${s}`).join('\n')}\n`)
}
