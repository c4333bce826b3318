// End to end: mlskel adopting and making projects beyond `mlskel new`: `mlskel init` in an existing TypeScript project,
// `npm create mlskel` through the packed create-mlskel, and a project that travels (cloned where mlskel never was).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { hostPath, runDockerfile } from '../deploy/dockerfile.js'
import { type CheckReport, copyProject, ok, repo, run, shared, type Summary } from './shared.js'

// Each test here runs the user's commands on a real project, trainings among them: under a loaded CI runner a minute
// or more, far from the 30 s that fits the unit tests
vi.setConfig({ testTimeout: 300_000 })

let work: string
let tarball: string
let mlskel: string
let project: string

beforeAll(() => {
  const made = shared()
  ;({ tarball, mlskel } = made)
  work = mkdtempSync(join(tmpdir(), 'mlskel-e2e-'))
  project = copyProject(made.pristine, join(work, 'iris-project'))
})
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('mlskel init in an existing TypeScript project', () => {
  it('merges into its package.json and .gitignore, keeping its own scripts and dependencies; mlskel run and npm test pass', { timeout: 300_000 }, () => {
    const app = join(work, 'legacy-app')
    mkdirSync(join(app, 'src'), { recursive: true })
    mkdirSync(join(app, 'test'), { recursive: true })
    const own = { name: 'legacy-app', version: '1.4.0', private: true, type: 'module', scripts: { build: 'tsc -p tsconfig.build.json', test: 'node --test' }, dependencies: { zod: '^4.1.0' }, devDependencies: { typescript: '5.9' } }
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(own, null, 2)}\n`)
    writeFileSync(join(app, 'tsconfig.build.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', module: 'NodeNext', target: 'ES2022', strict: true }, include: ['src/app.ts'] }))
    writeFileSync(join(app, 'src', 'app.ts'), 'export const greet = (name: string): string => `hello ${name}`\n')
    writeFileSync(join(app, 'test', 'app.test.js'), "import { test } from 'node:test'\nimport assert from 'node:assert'\ntest('adds', () => assert.equal(1 + 1, 2))\n")
    writeFileSync(join(app, '.gitignore'), 'dist/\nnode_modules/\n')
    ok(run('git', ['init', '-q'], { cwd: app }))

    const init = ok(run(mlskel, ['init'], { cwd: app }))
    expect(init.stdout).toContain('Merged into package.json and .gitignore')
    expect(init.stdout).toMatch(/scripts\.test: kept "node --test"/)
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as typeof own & { scripts: Record<string, string>; dependencies: Record<string, string> }
    expect(pkg).toMatchObject({ name: 'legacy-app', version: '1.4.0', scripts: own.scripts, dependencies: own.dependencies, devDependencies: own.devDependencies })
    expect(pkg.scripts.pipeline).toBe('mlskel run')
    expect(pkg.dependencies.mlskel).toMatch(/^file:vendor\/mlskel-.*\.tgz$/)
    expect(readFileSync(join(app, '.gitignore'), 'utf8')).toMatch(/^\.env$/m)

    ok(run('npm', ['install', '--no-audit', '--no-fund'], { cwd: app }))
    expect((JSON.parse(ok(run(mlskel, ['run', '--json'], { cwd: app })).stdout) as Summary).ok).toBe(true)
    expect(existsSync(join(app, 'data', 'predictions', 'test.csv'))).toBe(true)
    // its own test script, with its own tests
    expect(ok(run('npm', ['test'], { cwd: app })).stdout).toMatch(/# pass 1/)
    ok(run('npm', ['run', 'build'], { cwd: app }))
    expect(existsSync(join(app, 'dist', 'app.js'))).toBe(true)
    // mlskel's checks, .env ignored by git among them
    const check = JSON.parse(ok(run(mlskel, ['check', '--json', '--only', 'structure,secrets,pipeline'], { cwd: app })).stdout) as CheckReport
    expect(check.ok).toBe(true)
  })
})

describe('npm create mlskel', () => {
  it('through the packed create-mlskel tarball, makes the same project as mlskel new', { timeout: 300_000 }, () => {
    const packed = ok(run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: join(repo, 'packages', 'create-mlskel') })).stdout.trim().split('\n').pop()!
    const creator = join(work, packed)
    const viaCreate = join(work, 'via-create')
    const viaNew = join(work, 'via-new')
    mkdirSync(viaCreate)
    mkdirSync(viaNew)
    // what `npm create mlskel@latest churn-model` runs, with both packages from their tarballs instead of the registry
    const created = ok(run('npm', ['exec', '--yes', `--package=${tarball}`, `--package=${creator}`, '--', 'create-mlskel', 'churn-model', '-y', '--no-install', '--no-git'], { cwd: viaCreate }))
    expect(created.stderr).toContain('created churn-model from the template')
    ok(run(mlskel, ['new', 'churn-model', '--no-install', '--no-git'], { cwd: viaNew }))
    const tree = (root: string) => readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort()
    const a = join(viaCreate, 'churn-model')
    const b = join(viaNew, 'churn-model')
    expect(tree(a)).toEqual(tree(b))
    for (const file of tree(a)) expect(readFileSync(join(a, file)).equals(readFileSync(join(b, file))), file).toBe(true)
    expect(JSON.parse(readFileSync(join(a, 'package.json'), 'utf8')).dependencies.mlskel).toBe(`file:vendor/${basename(tarball)}`)
    // and it says how to use it
    expect(ok(run('npm', ['exec', '--yes', `--package=${tarball}`, `--package=${creator}`, '--', 'create-mlskel', '--help'], { cwd: viaCreate })).stdout).toContain('npm create mlskel@latest <dir>')
  })
})

describe('a project that travels', () => {
  // Made by `mlskel new` from the packed tarball (beforeAll), the project carries mlskel in vendor/. Here every trace
  // of mlskel outside it goes (the tarball, the tool's install), the project is cloned elsewhere from its first
  // commit, and there installs, runs, tests, and builds its API image step by step. This checkout is never named:
  // nothing of the clone may point at it or at the deleted tarball.
  it('installs, runs its pipeline and its tests, and builds Dockerfile.api, cloned where mlskel never was', { timeout: 600_000 }, async () => {
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    expect(pkg.dependencies.mlskel).toMatch(/^file:vendor\/mlskel-\d+\.\d+\.\d+\.tgz$/)
    expect(ok(run('git', ['ls-files', 'vendor'], { cwd: project })).stdout).toContain('.tgz')
    // the tarball and the tool it was installed from stay (other files share them); that the clone needs neither is
    // what its files must show: no path of theirs, of this checkout or of the work folder in them
    const outside = [repo, work, dirname(tarball)]

    const elsewhere = mkdtempSync(join(tmpdir(), 'mlskel-elsewhere-'))
    try {
      const clone = join(elsewhere, 'teammate', 'iris-project')
      ok(run('git', ['clone', '-q', project, clone], { cwd: elsewhere }))
      for (const file of ['package.json', 'package-lock.json']) {
        const text = readFileSync(join(clone, file), 'utf8')
        for (const path of outside) expect(text, file).not.toContain(path)
      }
      const installed = ok(run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone }))
      const lock = readFileSync(join(clone, 'node_modules', '.package-lock.json'), 'utf8')
      for (const path of outside) expect(lock, 'node_modules/.package-lock.json').not.toContain(path)
      // no dependency asks for a newer Node than the project's engines (light-my-request is pinned for that)
      expect(installed.stdout + installed.stderr).not.toContain('EBADENGINE')
      const pipeline = ok(run('npm', ['run', 'pipeline'], { cwd: clone }))
      expect(pipeline.stdout + pipeline.stderr).toContain('predict')
      // its tests: the project's own typecheck and test files, in the clone (the full npm test, coverage and check
      // included, passes in project.test.ts on the same project)
      ok(run('npm', ['run', 'typecheck'], { cwd: clone }))

      // Dockerfile.api's steps in the clone (the build context), with this machine as the base image; the build
      // stage links the deps stage's production install rather than installing the dev tools again
      chmodSync(elsewhere, 0o755)
      const stages = await runDockerfile(join(clone, 'Dockerfile.api'), clone, elsewhere, {
        substitute: (command, stage, all) => {
          if (!/^npm ci\b/.test(command) || command.includes('--omit=dev')) return undefined
          const deps = all.find((s) => s.name === 'deps')!
          return async () => symlinkSync(hostPath(deps, '/app/node_modules'), hostPath(stage, 'node_modules'))
        },
      })
      const final = stages.at(-1)!
      expect(existsSync(hostPath(final, '/app/node_modules/mlskel/package.json'))).toBe(true)
      expect(readdirSync(hostPath(final, '/app/models')).filter((d) => d !== 'metadata' && !d.startsWith('.'))).toHaveLength(1)
    } finally {
      rmSync(elsewhere, { recursive: true, force: true })
    }
  })
})
