// Jupyter for notebooks/ (TypeScript on Deno's kernel): `npm run notebooks` opens them, `npm run report:notebooks`
// runs them headless into reports/notebooks/<name>.html (beside, not over, what `mlskel report` writes in reports/). It finds a Python that has Jupyter and installs Deno's kernel if needed.
//
//   npm run notebooks -- --port 8899 --no-browser       arguments go to `python -m notebook`
//   npm run report:notebooks -- notebooks/explore.ipynb    some notebooks (default: every notebooks/*.ipynb)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where executed notebooks go: a folder of their own, so `mlskel report explore`'s reports/explore.html stays. */
const REPORTS_DIR = join('reports', 'notebooks')

const root = fileURLToPath(new URL('..', import.meta.url))
const INSTALL_JUPYTER =
  'Install Jupyter: on Debian or Ubuntu `sudo apt-get install jupyter-notebook python3-nbconvert python3-ipykernel`, ' +
  'elsewhere `pip install notebook nbconvert ipykernel` (or set PYTHON to a Python that has them).'
/** Seconds one cell may run in a headless run before the run fails. */
const CELL_TIMEOUT = 600
// Python 3.11+ warns about frozen modules on stderr whenever Jupyter imports its debugger; nothing to act on.
const PYTHON_FLAGS = ['-Xfrozen_modules=off']
const PYTHON_ENV = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: '1' }

class NotebooksError extends Error {}

/** The first Python that can import `modules`: $PYTHON, then python3 on PATH, Debian's, python. */
function findPython(modules: string[]): string {
  const candidates = [...new Set([process.env.PYTHON, 'python3', '/usr/bin/python3', 'python'].filter((c): c is string => Boolean(c)))]
  for (const python of candidates) {
    const probe = spawnSync(python, [...PYTHON_FLAGS, '-c', `import ${modules.join(', ')}`], { stdio: 'ignore', env: PYTHON_ENV })
    if (probe.status === 0) return python
  }
  throw new NotebooksError(`No Python with Jupyter's ${modules.join(' and ')} found (tried ${candidates.join(', ')}). ${INSTALL_JUPYTER}`)
}

interface KernelSpec {
  resource_dir: string
  spec: { argv: string[] }
}

/** Whether `command` (a path, or a name looked up on PATH) is there to run. */
function runnable(command: string | undefined): boolean {
  if (!command) return false
  if (isAbsolute(command)) return existsSync(command)
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, command)))
}

/**
 * Make sure Jupyter knows a `deno` kernel that can start. Jupyter's kernels are per user, not per project: one that
 * works is left alone; a missing one, or one whose deno is gone (its project was deleted), is installed from this
 * project's deno (a devDependency), as `npx deno jupyter --install --force` does.
 */
function ensureDenoKernel(python: string): void {
  const listing = spawnSync(
    python,
    [...PYTHON_FLAGS, '-c', 'import json, jupyter_client.kernelspec as k; print(json.dumps(k.KernelSpecManager().get_all_specs()))'],
    { encoding: 'utf8', env: PYTHON_ENV },
  )
  if (listing.status !== 0) throw new NotebooksError(`${python} could not list Jupyter's kernels:\n${listing.stderr.trim()}\n${INSTALL_JUPYTER}`)
  const kernel = (JSON.parse(listing.stdout) as Record<string, KernelSpec | undefined>).deno
  if (kernel && runnable(kernel.spec.argv[0])) return

  const deno = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno')
  if (!existsSync(deno)) throw new NotebooksError('Deno is not installed in node_modules: run `npm install` (deno is one of the devDependencies).')
  console.error(kernel ? `Deno's Jupyter kernel runs ${kernel.spec.argv[0]}, which is gone: installing it again from this project.` : "Installing Deno's Jupyter kernel (`npx deno jupyter --install`).")
  // the real path: the kernelspec keeps the path it was installed with, and node_modules/.bin may be a link
  const install = spawnSync(realpathSync(deno), ['jupyter', '--install', '--force'], { encoding: 'utf8' })
  if (install.status !== 0) throw new NotebooksError(`\`deno jupyter --install\` failed:\n${install.stderr.trim()}`)
}

/**
 * Run `command` in the project's folder with this terminal. Ctrl-C reaches it from the terminal, and is its to
 * handle (Jupyter asks first); a SIGTERM or SIGHUP sent to this script is passed on, so Jupyter is never left behind.
 */
function run(command: string, args: string[]): Promise<number> {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: PYTHON_ENV })
  const ignore = () => {}
  const pass = (signal: NodeJS.Signals) => child.kill(signal)
  process.on('SIGINT', ignore).on('SIGTERM', pass).on('SIGHUP', pass)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore).off('SIGTERM', pass).off('SIGHUP', pass)
      resolve(code ?? (signal ? 1 : 0))
    })
  })
}

/** `start [args]`: Jupyter Notebook on the project. `report [notebooks]`: run them into reports/notebooks/<name>.html. */
async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  if (command === 'start') {
    const python = findPython(['notebook'])
    ensureDenoKernel(python)
    return run(python, [...PYTHON_FLAGS, '-m', 'notebook', ...args])
  }
  if (command === 'report') {
    const python = findPython(['nbconvert'])
    ensureDenoKernel(python)
    const notebooks = args.length > 0 ? args : readdirSync(join(root, 'notebooks')).filter((name) => name.endsWith('.ipynb')).sort().map((name) => join('notebooks', name))
    if (notebooks.length === 0) throw new NotebooksError('No notebooks in notebooks/ to run.')
    mkdirSync(join(root, REPORTS_DIR), { recursive: true })
    // a cell that throws fails the run (exit 1) with its error; the reports written before it stay
    return run(python, [...PYTHON_FLAGS, '-m', 'nbconvert', '--execute', '--to', 'html', '--output-dir', REPORTS_DIR, `--ExecutePreprocessor.timeout=${CELL_TIMEOUT}`, ...notebooks])
  }
  throw new NotebooksError(`Usage: tsx scripts/notebooks.ts start [jupyter arguments] | report [notebooks]; got ${command ?? 'nothing'}.`)
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (!(error instanceof NotebooksError)) throw error
  console.error(error.message)
  process.exitCode = 1
}
