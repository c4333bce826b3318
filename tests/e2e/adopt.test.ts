// End to end: mlskel adopting and making projects beyond `mlskel new`: `mlskel init` in an existing TypeScript project,
// and `npm create mlskel` through the packed create-mlskel. (A project that travels, cloned where mlskel never was,
// and its API image: image.test.ts.)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type CheckReport, ok, repo, run, shared, type Summary } from './shared.js'

// Each test here runs the user's commands on a real project, trainings among them: under a loaded CI runner a minute
// or more, far from the 30 s that fits the unit tests
vi.setConfig({ testTimeout: 300_000 })

let work: string
let tarball: string
let mlskel: string
let pristine: string

beforeAll(() => {
  const made = shared()
  ;({ tarball, mlskel, pristine } = made)
  work = mkdtempSync(join(tmpdir(), 'mlskel-e2e-'))
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
    // skipLibCheck as `tsc --init` writes it: checking every installed declaration file (the template's dependencies
    // are there once merged) was ~4 s of this file's CPU, for the app's one file
    writeFileSync(join(app, 'tsconfig.build.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', module: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: true }, include: ['src/app.ts'] }))
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

    // npm install resolves the merged package.json against the registry and installs what its node_modules lacks or
    // holds at another version. It starts from the shared project's install (hard links, as copyProject makes them):
    // the same template dependencies, so npm finds them in place rather than unpacking ~360 MB again (~12 s of CPU).
    // What it resolves, and the lockfile it writes, are as without them. Not the hidden lockfile: npm rewrites that
    // file in place, which through a hard link would rewrite the shared project's too.
    ok(run('cp', ['-al', join(pristine, 'node_modules'), join(app, 'node_modules')], { cwd: app }))
    rmSync(join(app, 'node_modules', '.package-lock.json'))
    ok(run('npm', ['install', '--no-audit', '--no-fund'], { cwd: app }))
    // the app's own dependency at the version its package.json asks for, beside mlskel's
    expect(JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')).packages['node_modules/zod'].version).toMatch(/^4\./)
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
