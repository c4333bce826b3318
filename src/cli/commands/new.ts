// `mlskel new <dir>`: create a project from the template, install it, make its first commit.
import { relative } from 'node:path'
import { Listr } from 'listr2'
import { createProject, detectPackageManager, initGit, installDependencies, type GitOutcome, type NewProject, type PackageManager } from '../../scaffold/index.js'

interface NewOptions {
  pm?: PackageManager
  git: boolean
  install: boolean
  force?: boolean
  json?: boolean
}

export default async function newCommand(dir: string, options: NewOptions): Promise<void> {
  const pm = options.pm ?? detectPackageManager()
  const state: { project?: NewProject; git?: GitOutcome; installed: boolean } = { installed: false }
  const tasks = new Listr(
    [
      {
        title: `Create ${dir} from the template`,
        task: async (_, task) => {
          state.project = await createProject({ dir, force: options.force })
          task.title = `Created ${dir}: ${state.project.added.length} files${state.project.kept.length ? `, ${state.project.kept.length} existing kept` : ''}`
        },
      },
      {
        title: `Install dependencies with ${pm}`,
        enabled: () => options.install,
        task: async (_, task) => {
          await installDependencies(state.project!.root, pm, (chunk) => {
            const line = chunk.trim().split('\n').pop()
            if (line) task.output = line
          })
          state.installed = true
        },
        rendererOptions: { outputBar: 1 },
      },
      {
        title: 'Initialize git and commit',
        enabled: () => options.git,
        task: async (_, task) => {
          state.git = await initGit(state.project!.root)
          if (state.git.status === 'skipped') task.skip(`git skipped: ${state.git.reason}`)
        },
      },
    ],
    { renderer: options.json ? 'silent' : 'default', fallbackRenderer: 'simple', exitOnError: true, rendererOptions: { collapseErrors: false } },
  )
  await tasks.run()
  const project = state.project!
  if (options.json) {
    console.log(JSON.stringify({ root: project.root, name: project.name, mlskel: project.mlskelSpec, files: project.added, kept: project.kept, installed: state.installed, git: state.git ?? { status: 'skipped', reason: '--no-git' } }, null, 2))
    return
  }
  const cd = relative(process.cwd(), project.root) || '.'
  const steps = [`cd ${cd}`, ...(state.installed ? [] : [`${pm} install`]), `${pm} run pipeline     # generate-dataset > train > predict`, `${pm} test              # lint, typecheck, tests with coverage`]
  console.log(`\nProject ${project.name} is ready in ${project.root}\n\nNext:\n${steps.map((s) => `  ${s}`).join('\n')}\n`)
}
