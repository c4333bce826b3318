// `npm test`: `npm run lint` and `npm run build` (which type-checks) side by side; once the build is done, the tests
// (`vitest run`, with the arguments given to `npm test --`) while lint may still run. What lint printed comes after the
// tests' report; `npm test` fails when any of the three fails (the tests do not run without a build: they run dist/).
// Lint starts with the build and the tests do not wait for it: cold (a clean clone) lint takes ~8.5 s alone and the
// build ~13 s (tsc on one core), so lint has mostly ended when the tests start, and what is left of it shares the
// cores with them (the run is CPU-bound: that gains little, but never holds the tests back). Warm, the build is ~5 s
// and lint ~1.5 s.
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const repo = join(import.meta.dirname, '..')

interface Done {
  what: string
  code: number | null
  output: string
}

/** `command` with its output kept (printed by the caller), or passed through as it comes when `live`. */
function run(what: string, command: string, args: string[], live = false): Promise<Done> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repo, stdio: live ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const collect = (chunk: Buffer) => (output += chunk.toString())
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    child.on('error', (error) => resolve({ what, code: null, output: `${output}${error.message}\n` }))
    child.on('close', (code) => resolve({ what, code, output }))
  })
}

const report = ({ what, code, output }: Done) => process.stdout.write(`> ${what}: ${code === 0 ? 'ok' : `failed (exit ${code})`}\n${output}`)

const lint = run('npm run lint', 'npm', ['run', '--silent', 'lint'])
const build = await run('npm run build', 'npm', ['run', '--silent', 'build'])
report(build)
const tests = build.code === 0 ? await run('vitest run', join(repo, 'node_modules', '.bin', 'vitest'), ['run', ...process.argv.slice(2)], true) : undefined
const linted = await lint
report(linted)
const failed = [linted, build, ...(tests ? [tests] : [])].filter((d) => d.code !== 0)
if (failed.length > 0) {
  process.stderr.write(`${failed.map((d) => d.what).join(', ')} failed${tests ? '' : ' (the tests did not run: they need the build)'}: see above\n`)
  process.exit(1)
}
