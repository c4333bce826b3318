// End to end: a project that travels, and the API image built from it. The shared project (made by `mlskel new` from
// the packed tarball: ./shared.ts) carries mlskel in vendor/. Here it is cloned where mlskel never was, installs from
// its lockfile, and Dockerfile.api's steps run in the clone (the build context) as `docker build` would run them
// from a fresh checkout: the build stage trains on the clone's install, the final image holds the model, the
// production modules and no secret, and its CMD serves; and the clone holds the packages of the project it came from.
// This checkout is never named: nothing of the clone may point at it or at the tarball.
//
// Dockerfile.api's steps, with what is substituted and why (tests/deploy/dockerfile.ts runs them):
// - the base image is this machine (node, npm, /bin/sh): no Docker engine here;
// - the build stage's `npm ci --no-audit --no-fund` links the clone's install, which that same command made from the
//   same lockfile in the first test (a third install would add ~18 s of CPU and prove nothing new). So the build
//   stage's training is the clone's pipeline at work on its teammate's install (the host-only package that the
//   deps stage must not see is there too, unused); project.test.ts runs the whole pipeline, predict included, on the
//   same lockfile;
// - the deps stage's `npm ci --omit=dev --no-audit --no-fund` is that install, hard-linked, pruned by
//   `npm prune --omit=dev`: npm leaves the same packages from the same lockfile (223, as `npm ci --omit=dev` did
//   when this was written), for ~2 s of CPU rather than the ~11 s of unpacking 178 MB again. What the final image
//   must hold (production modules, no dev dependency, no host-only package) and that it serves are checked below;
// - the server listens on 127.0.0.1 and a free port instead of 0.0.0.0:5000, so parallel tests do not collide;
//   the HEALTHCHECK command gets the same port.
// Everything else runs as written, in order: the COPY steps through .dockerignore, `npm run train` in the build
// stage, the CMD as uid 1000 when this runs as root.
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DEFAULT_DRAIN_MS } from '../../src/serve/start.js'
import { settingsSchema } from '../../src/settings/index.js'
import { filesBelow, hostEnv, hostPath, run as runStep, runDockerfile, type Stage } from '../deploy/dockerfile.js'
import { ok, repo, run, shared } from './shared.js'

// installs, a training and the image's steps: under a loaded CI runner minutes, far from the unit tests' 30 s
vi.setConfig({ testTimeout: 300_000 })

const API_PORT = settingsSchema.shape.API_PORT.parse(undefined)

let elsewhere: string
let clone: string
let pristine: string
let outside: string[]
let stages: Stage[] = []
let server: ChildProcess | undefined
let url = ''
const log: string[] = []

beforeAll(() => {
  const made = shared()
  pristine = made.pristine
  // the tarball and the project cloned here stay (other files share them); that the clone needs neither is
  // what its files must show: no path of theirs or of this checkout in them
  outside = [repo, dirname(made.tarball)]
  elsewhere = mkdtempSync(join(tmpdir(), 'mlskel-elsewhere-'))
  // readable to the image's user (uid 1000), as the image's files are
  chmodSync(elsewhere, 0o755)
  clone = join(elsewhere, 'teammate', 'iris-project')
  ok(run('git', ['clone', '-q', pristine, clone], { cwd: elsewhere }))
})
afterAll(() => {
  server?.kill('SIGKILL')
  // the clone and the image's stages hold three installs: hundreds of megabytes
  if (elsewhere) rmSync(elsewhere, { recursive: true, force: true })
})

describe('a project cloned where mlskel never was', () => {
  it('depends on its vendored tarball only, and installs from its lockfile without a newer Node', () => {
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    expect(pkg.dependencies.mlskel).toMatch(/^file:vendor\/mlskel-\d+\.\d+\.\d+\.tgz$/)
    expect(ok(run('git', ['ls-files', 'vendor'], { cwd: clone })).stdout).toContain('.tgz')
    for (const file of ['package.json', 'package-lock.json']) {
      const text = readFileSync(join(clone, file), 'utf8')
      for (const path of outside) expect(text, file).not.toContain(path)
    }
    const installed = ok(run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone }))
    const lock = readFileSync(join(clone, 'node_modules', '.package-lock.json'), 'utf8')
    for (const path of outside) expect(lock, 'node_modules/.package-lock.json').not.toContain(path)
    // no dependency asks for a newer Node than the project's engines (light-my-request is pinned for that)
    expect(installed.stdout + installed.stderr).not.toContain('EBADENGINE')
  })
})

describe("Dockerfile.api's steps in the clone", () => {
  beforeAll(async () => {
    // what .dockerignore must keep out: a secret in .env, and the host's node_modules (the clone's install, and a
    // package only the host has)
    writeFileSync(join(clone, '.env'), 'API_TOKEN=from-dotenv-never-in-the-image\n')
    mkdirSync(join(clone, 'node_modules', 'host-only'), { recursive: true })
    writeFileSync(join(clone, 'node_modules', 'host-only', 'index.js'), '')
    stages = await runDockerfile(join(clone, 'Dockerfile.api'), clone, elsewhere, { substitute: linkCloneInstall, onOutput: (text) => log.push(text) })
    url = await startCmd(stages.at(-1)!)
  }, 600_000)

  it('trains in the build stage, and the final image holds the model, production modules and no secrets', () => {
    const [deps, build, final] = stages
    expect(readdirSync(hostPath(build!, '/app/models')).filter((d) => d !== 'metadata' && !d.startsWith('.'))).toHaveLength(1)
    // the step's `npm run train -- --force`, as npm echoes the script it runs
    expect(log.join('')).toContain('> mlskel run train --force')
    expect(existsSync(hostPath(build!, '/app/.env')), '.env in the build stage').toBe(false)
    expect(existsSync(hostPath(deps!, '/app/node_modules/host-only')), "the host's node_modules").toBe(false)
    expect(existsSync(hostPath(final!, '/app/node_modules/vitest')), 'a dev dependency').toBe(false)
    expect(existsSync(hostPath(final!, '/app/node_modules/mlskel/package.json'))).toBe(true)
    expect(filesBelow(hostPath(final!, '/app')).filter((f) => !f.startsWith('node_modules'))).not.toContainEqual(expect.stringMatching(/\.env$|^src\/|^data\//))
  })

  it('answers /health, /ready and /predict, without the token of the .env it never saw', async () => {
    expect((await fetch(`${url}/health`)).status).toBe(200)
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    const response = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: [[5.1, 3.5, 1.4, 0.2]] }) })
    const body = (await response.json()) as { result: unknown[]; release: { model_id: string } }
    expect(response.status, JSON.stringify(body)).toBe(200)
    expect(body.result).toEqual(['setosa'])
    expect(readdirSync(hostPath(stages.at(-1)!, '/app/models'))).toContain(body.release.model_id)
  })

  it("passes the image's HEALTHCHECK command", async () => {
    const final = stages.at(-1)!
    const port = new URL(url).port
    const [command, ...rest] = final.healthcheck!.map((a) => a.replace(`127.0.0.1:${API_PORT}`, `127.0.0.1:${port}`))
    const result = await runStep(command!, rest, { cwd: hostPath(final, final.workdir), env: hostEnv(final) })
    expect(result.code, result.output).toBe(0)
  })

  it('stops gracefully on SIGTERM, within the drain bound', async () => {
    const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)))
    const started = Date.now()
    server!.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(Date.now() - started).toBeLessThan(DEFAULT_DRAIN_MS)
  })
})

describe('the clone at work', () => {
  it('has installed what the project it was cloned from has, package for package and version for version', () => {
    // Its pipeline ran in the build stage, on this install. Its typecheck, tests and check are project.test.ts's npm
    // test: the same files (a clone of the same commit) on the same packages, which this shows; running them again
    // here cost ~6.5 s of CPU and could find nothing new.
    const installed = (root: string) =>
      Object.fromEntries(
        Object.entries((JSON.parse(readFileSync(join(root, 'node_modules', '.package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> }).packages).map(([path, entry]) => [path, entry.version]),
      )
    const packages = installed(clone)
    expect(Object.keys(packages).length).toBeGreaterThan(100)
    expect(packages).toEqual(installed(pristine))
  })
})

/**
 * The stages' `npm ci`: the build stage's a link to the clone's install, made by the same command; the deps stage's
 * (`--omit=dev`) a hard-linked copy of it pruned of dev dependencies (see the top of this file).
 */
function linkCloneInstall(command: string, stage: Stage): (() => Promise<void>) | undefined {
  if (!/^npm ci\b/.test(command)) return undefined
  const production = command.includes('--omit=dev')
  if (stage.name !== (production ? 'deps' : 'build') || !existsSync(join(clone, 'node_modules', '.package-lock.json'))) throw new Error(`${stage.name ?? 'a stage'} runs ${command} before the clone was installed: the substitution does not apply`)
  if (!production) return async () => symlinkSync(join(clone, 'node_modules'), hostPath(stage, 'node_modules'))
  return async () => {
    const modules = hostPath(stage, 'node_modules')
    ok(run('cp', ['-al', join(clone, 'node_modules'), modules], { cwd: hostPath(stage, stage.workdir) }))
    // npm rewrites its hidden lockfile in place: through a hard link, that would rewrite the clone's too
    rmSync(join(modules, '.package-lock.json'))
    const pruned = await runStep('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'], { cwd: hostPath(stage, stage.workdir), env: hostEnv(stage) })
    if (pruned.code !== 0) throw new Error(`npm prune --omit=dev failed in the deps stage:\n${pruned.output}`)
  }
}

/** The final stage's CMD on 127.0.0.1 and a free port, as the image's user would run it; its URL once it answers. */
async function startCmd(stage: Stage): Promise<string> {
  const port = await freePort()
  const [command, ...rest] = stage.cmd!
  const argv = rest.map((a, i) => (rest[i - 1] === '--port' ? String(port) : rest[i - 1] === '--host' ? '127.0.0.1' : a))
  const env = hostEnv(stage)
  const bin = env.PATH!.split(':').map((dir) => join(dir, command!)).find((p) => existsSync(p))!
  // USER node: uid 1000 when this runs as root, so the server cannot write the files it was given (owned by root)
  const asUser = process.getuid?.() === 0 && stage.user === 'node' ? { uid: 1000, gid: 1000 } : {}
  server = spawn(bin, argv, { cwd: hostPath(stage, stage.workdir), env: { ...env, HOME: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'], ...asUser })
  server.stdout!.on('data', (c: Buffer) => log.push(c.toString()))
  server.stderr!.on('data', (c: Buffer) => log.push(c.toString()))
  const base = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    const answered = await fetch(`${base}/health`).then(
      (response) => response.ok,
      () => false,
    )
    if (answered) return base
    if (Date.now() > deadline) throw new Error(`the server did not answer /health within 30 s:\n${log.join('').slice(-3000)}`)
    await new Promise((resolveWait) => setTimeout(resolveWait, 200))
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}
