// The system tools some tests need (a browser, Jupyter, linters, Python's learners, R). A test that needs one asks
// here: on a machine without it the test skips, with one line saying what to install; in CI (CI set: .ci/run
// installs them all) a missing tool fails the test instead, so CI never goes green by skipping.
//
//   const tools = requireTool('shellcheck', 'yamllint')
//   describe.skipIf(tools.skip)('…', () => { beforeAll(() => tools.assert()); … })
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { PYTHON } from '../bench/python-batch.js'

export { PYTHON }
/** Debian's Chromium, unless MLSKEL_CHROMIUM names another. */
export const CHROMIUM = process.env.MLSKEL_CHROMIUM ?? '/usr/bin/chromium'

interface Tool {
  /** Why it is missing, or undefined when it is there. */
  probe(): string | undefined
  install: string
}

const runs = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore', timeout: 60_000 }).status === 0
const pythonImports = (modules: string) => (runs(PYTHON, ['-c', `import ${modules}`]) ? undefined : `${PYTHON} cannot import ${modules}`)

/** A Python that can import `modules`: $PYTHON, python3, Debian's, python (as the template's scripts look); null if none. */
export function findPython(modules: string): string | null {
  for (const python of [process.env.PYTHON, 'python3', PYTHON, 'python']) if (python && runs(python, ['-c', `import ${modules}`])) return python
  return null
}

const TOOLS = {
  chromium: { probe: () => (existsSync(CHROMIUM) ? undefined : `Chromium is not at ${CHROMIUM}`), install: 'apt-get install chromium, or set MLSKEL_CHROMIUM' },
  jupyter: { probe: () => (findPython('nbconvert') ? undefined : 'no python3, /usr/bin/python3 or python can import nbconvert'), install: 'apt-get install jupyter-notebook python3-nbconvert python3-ipykernel' },
  shellcheck: { probe: () => (runs('shellcheck', ['--version']) ? undefined : 'shellcheck is not installed'), install: 'apt-get install shellcheck' },
  yamllint: { probe: () => (runs('yamllint', ['--version']) ? undefined : 'yamllint is not installed'), install: 'apt-get install yamllint' },
  sklearn: { probe: () => pythonImports('sklearn'), install: 'apt-get install python3-sklearn' },
  xgboost: { probe: () => pythonImports('xgboost'), install: 'apt-get install python3-xgboost' },
  onnx: { probe: () => pythonImports('onnx'), install: 'apt-get install python3-onnx' },
  torch: { probe: () => pythonImports('torch'), install: 'apt-get install python3-torch' },
  pandas: { probe: () => pythonImports('pandas'), install: 'apt-get install python3-pandas' },
  rscript: { probe: () => (runs('Rscript', ['--version']) ? undefined : 'Rscript is not installed'), install: 'apt-get install r-base-core' },
} satisfies Record<string, Tool>

export type ToolName = keyof typeof TOOLS

const probed = new Map<ToolName, string | undefined>()

export interface RequiredTools {
  /** Skip the tests: a tool is missing and this is not CI. */
  skip: boolean
  /** What is missing and how to install it; undefined when every tool is there. */
  missing: string | undefined
  /** Throws, saying what to install, when a tool is missing (in CI, where the tests were not skipped). */
  assert(): void
}

export function requireTool(...names: ToolName[]): RequiredTools {
  const problems: string[] = []
  for (const name of names) {
    if (!probed.has(name)) probed.set(name, TOOLS[name].probe())
    const why = probed.get(name)
    if (why) problems.push(`${why} (${TOOLS[name].install})`)
  }
  const missing = problems.length > 0 ? problems.join('; ') : undefined
  const skip = missing !== undefined && !process.env.CI
  if (skip) process.stderr.write(`skipping tests that need ${names.join(', ')}: ${missing}\n`)
  return {
    skip,
    missing,
    assert() {
      if (missing) throw new Error(`${missing}${process.env.CI ? ' — CI must have it (.ci/run installs it)' : ''}`)
    },
  }
}
