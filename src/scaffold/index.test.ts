import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RENAMES, adoptProject, createProject, detectPackageManager, initGit, projectDependency, projectNameFor, projectPathOf, resolveMlskelSpec, runCommand, templateDir } from './index.js'
import { tempDir } from '../../tests/temp-dir.js'

const temp = () => tempDir('mlskel-new-')

describe('createProject', () => {
  it('creates the layout of DESIGN.md with dotfiles renamed and package.json edited', async () => {
    const dir = join(await temp(), 'churn-model')
    const project = await createProject({ dir, mlskelSpec: 'file:/somewhere/mlskel' })
    for (const folder of ['data/raw', 'data/staging', 'data/transformed', 'data/predictions', 'models/metadata', 'notebooks', 'reports', 'src/etl', 'src/helpers', 'src/model', 'tests']) {
      expect(existsSync(join(dir, folder)), folder).toBe(true)
    }
    for (const file of ['.gitignore', '.env.example', 'mlskel.yaml', 'params.yaml', 'Makefile', 'README.md', 'src/settings.ts', 'src/model/train.ts', 'src/model/predict.ts', 'data/raw/iris.csv']) {
      expect(existsSync(join(dir, file)), file).toBe(true)
    }
    expect(existsSync(join(dir, '_gitignore'))).toBe(false)
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    expect(pkg.name).toBe('churn-model')
    expect(pkg.dependencies.mlskel).toBe('file:/somewhere/mlskel')
    expect(project.added).toContain('.gitignore')
    expect(project.kept).toEqual([])
    // the raw data manifest, for the first commit: mlskel check proves raw data never changes against it
    const manifest = JSON.parse(await readFile(join(dir, 'data/raw.manifest.json'), 'utf8'))
    const iris = await readFile(join(dir, 'data/raw/iris.csv'))
    expect(manifest.files).toEqual({ 'iris.csv': { size: iris.length, sha256: createHash('sha256').update(iris).digest('hex') } })
    expect(project.added).toContain('data/raw.manifest.json')
  })

  it('names the README, the Makefile, Compose and the Kubernetes manifests after the project', async () => {
    const dir = join(await temp(), 'churn-model')
    await createProject({ dir, mlskelSpec: 'x' })
    expect((await readFile(join(dir, 'README.md'), 'utf8')).split('\n')[0]).toBe('# churn-model')
    for (const file of ['README.md', 'Makefile', 'docker-compose.yml', 'deploy/k8s/deployment.yaml', 'deploy/k8s/service.yaml', 'deploy/k8s/hpa.yaml']) {
      expect(await readFile(join(dir, file), 'utf8'), file).not.toContain('mlskel-project')
    }
    const deployment = await readFile(join(dir, 'deploy/k8s/deployment.yaml'), 'utf8')
    expect(deployment).toContain('name: churn-model-api')
    expect(deployment).toContain('app.kubernetes.io/name: churn-model-api')
    expect(await readFile(join(dir, 'Makefile'), 'utf8')).toContain('deployment/churn-model-api')
    // the Makefile's default image is <package name>-api: the same name
    expect(await readFile(join(dir, 'Makefile'), 'utf8')).toContain(`IMAGE ?= $(shell node -p "require('./package.json').name")-api`)
  })

  it('refuses a folder that is not empty, naming what is there', async () => {
    const dir = join(await temp(), 'proj')
    await mkdir(dir)
    await writeFile(join(dir, 'notes.txt'), 'mine')
    await expect(createProject({ dir, mlskelSpec: 'x' })).rejects.toMatchObject({ code: 'MLSKEL_NEW_DIR_NOT_EMPTY', message: expect.stringContaining('"notes.txt"') })
  })

  it('with force, adds the project beside existing files and keeps them', async () => {
    const dir = join(await temp(), 'proj')
    await mkdir(dir)
    await writeFile(join(dir, 'README.md'), 'my readme')
    const project = await createProject({ dir, force: true, mlskelSpec: 'x' })
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toBe('my readme')
    expect(project.kept).toEqual(['README.md'])
    expect(existsSync(join(dir, 'mlskel.yaml'))).toBe(true)
  })

  it('refuses a path that is a file', async () => {
    const file = join(await temp(), 'proj')
    await writeFile(file, '')
    await expect(createProject({ dir: file, mlskelSpec: 'x' })).rejects.toMatchObject({ code: 'MLSKEL_NEW_DIR_NOT_EMPTY', message: expect.stringContaining('is a file') })
  })
})

describe('project names', () => {
  it('derives a valid npm name from the folder', () => {
    expect(projectNameFor('/x/Churn Model')).toBe('churn-model')
  })

  it.each(['.hidden', '_private', 'node_modules', 'a:b', 'dé'])('rejects %j with a clear error', (name) => {
    expect(() => projectNameFor(`/x/${name}`)).toThrow(expect.objectContaining({ code: 'MLSKEL_NEW_INVALID_NAME', message: expect.stringContaining('is not a valid npm package name') }))
  })
})

describe('the rename table', () => {
  it('covers every underscore file and folder the template ships, in any folder', async () => {
    const { listFiles } = await import('../hashing/index.js')
    const underscored = (await listFiles(templateDir())).flatMap((f) => f.split('/')).filter((part) => part.startsWith('_'))
    for (const name of new Set(underscored)) expect(RENAMES, name).toHaveProperty([name])
    expect(projectPathOf('deploy/_gitignore')).toBe('deploy/.gitignore')
    expect(projectPathOf('_github/workflows/ci.yml')).toBe('.github/workflows/ci.yml')
  })
})

describe('adoptProject', () => {
  it('adds what is missing, overwrites nothing, and lists both', async () => {
    const dir = join(await temp(), 'legacy')
    await mkdir(join(dir, 'src', 'model'), { recursive: true })
    await writeFile(join(dir, 'src', 'model', 'train.ts'), '// my training')
    await writeFile(join(dir, 'package.json'), '{"name":"legacy-proj"}')
    const project = await adoptProject(dir, { mlskelSpec: 'x' })
    expect(await readFile(join(dir, 'src', 'model', 'train.ts'), 'utf8')).toBe('// my training')
    // package.json is merged into, not replaced (its own name kept)
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({ name: 'legacy-proj', scripts: { pipeline: 'mlskel run' } })
    expect(project.kept.sort()).toEqual(['package.json', 'src/model/train.ts'])
    expect(project.added).toContain('mlskel.yaml')
    expect(project.name).toBe('legacy-proj')
    // a second run adds nothing
    expect((await adoptProject(dir, { mlskelSpec: 'x' })).added).toEqual([])
  })

  it('merges the template\'s scripts, dependencies and .gitignore lines into the project\'s, keeping its own', async () => {
    const dir = join(await temp(), 'my-app')
    await mkdir(dir, { recursive: true })
    const own = { name: 'my-app', version: '2.0.0', scripts: { build: 'tsc -p .', test: 'node --test' }, dependencies: { zod: '^4.0.0', tsx: '^4.0.0' }, devDependencies: { typescript: '^5.4.0' } }
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(own, null, 4)}\n`)
    await writeFile(join(dir, '.gitignore'), 'dist/\nnode_modules\n')
    const project = await adoptProject(dir, { mlskelSpec: 'file:vendor/mlskel-0.1.0.tgz' })
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
    // its own kept, the template's added where it had none
    expect(pkg.scripts).toMatchObject({ build: 'tsc -p .', test: 'node --test', pipeline: 'mlskel run', train: 'mlskel run train' })
    expect(pkg.dependencies).toMatchObject({ zod: '^4.0.0', tsx: '^4.0.0', mlskel: 'file:vendor/mlskel-0.1.0.tgz', '@duckdb/node-api': expect.any(String) })
    expect(pkg.devDependencies).toMatchObject({ typescript: '^5.4.0', vitest: expect.any(String) })
    expect(pkg.type).toBe('module')
    // the template's pins, which only the root package.json can set
    expect(pkg.overrides).toEqual({ 'light-my-request': '6.6.0' })
    expect(pkg.version).toBe('2.0.0')
    // its indentation too
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toContain('\n    "name": "my-app"')
    expect(project.merged.files).toEqual(['package.json', '.gitignore'])
    expect(project.merged.conflicts).toEqual(expect.arrayContaining([expect.stringMatching(/^scripts\.test: kept "node --test" \(the template's: "npm run typecheck/), expect.stringMatching(/^dependencies\.tsx: kept "\^4\.0\.0"/), expect.stringMatching(/^devDependencies\.typescript: kept/)]))
    expect(project.merged.added).toEqual(expect.arrayContaining(['scripts.pipeline', 'dependencies.mlskel', 'type: module', '.gitignore: .env']))
    const ignore = await readFile(join(dir, '.gitignore'), 'utf8')
    expect(ignore.startsWith('dist/\nnode_modules\n')).toBe(true)
    expect(ignore).toMatch(/# added by mlskel init[^\n]*\n\.env\n/)
    // node_modules was there already (without the slash)
    expect(ignore.match(/node_modules/g)).toHaveLength(1)
    // a second run merges nothing more
    const again = await adoptProject(dir, { mlskelSpec: 'file:vendor/mlskel-0.1.0.tgz' })
    expect(again.merged.files).toEqual([])
  })

  it('refuses to merge into a package.json it cannot read, before writing anything', async () => {
    const dir = join(await temp(), 'broken')
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'package.json'), '{"name": ')
    await expect(adoptProject(dir, { mlskelSpec: 'x' })).rejects.toMatchObject({ code: 'MLSKEL_INIT_PACKAGE_INVALID', where: { file: 'package.json' } })
    expect(existsSync(join(dir, 'mlskel.yaml'))).toBe(false)
  })

  it('gives an older project the deployment files: Dockerfiles, compose, Kubernetes, CI', async () => {
    const dir = join(await temp(), 'older')
    await mkdir(dir)
    await writeFile(join(dir, 'package.json'), '{"name":"older-proj"}')
    const deployment = ['Dockerfile.api', 'Dockerfile.jupyter', '.dockerignore', 'docker-compose.yml', 'deploy/k8s/deployment.yaml', 'deploy/k8s/service.yaml', 'deploy/k8s/hpa.yaml', '.github/workflows/ci.yml', '.gitlab-ci.yml', '.yamllint.yml']
    const project = await adoptProject(dir, { mlskelSpec: 'x' })
    expect(project.added).toEqual(expect.arrayContaining(deployment))
    for (const file of deployment) expect(existsSync(join(dir, file)), file).toBe(true)
    expect(existsSync(join(dir, '_github'))).toBe(false)
  })
})

describe('resolveMlskelSpec', () => {
  it('uses MLSKEL_DEPENDENCY when set', async () => {
    expect(await resolveMlskelSpec({ MLSKEL_DEPENDENCY: '^9.0.0' })).toBe('^9.0.0')
  })

  it('points at the checkout when mlskel runs from one', async () => {
    expect(await resolveMlskelSpec({}, '/src/mlskel')).toBe('file:/src/mlskel')
  })

  it('points at the tarball npm installed mlskel from', async () => {
    const installRoot = await temp()
    const pkgRoot = join(installRoot, 'node_modules', 'mlskel')
    await mkdir(pkgRoot, { recursive: true })
    await writeFile(join(pkgRoot, 'package.json'), '{"version":"1.2.3"}')
    await writeFile(join(installRoot, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/mlskel': { resolved: 'file:../pkgs/mlskel-1.2.3.tgz' } } }))
    expect(await resolveMlskelSpec({}, pkgRoot)).toBe(`file:${resolve(installRoot, '../pkgs/mlskel-1.2.3.tgz')}`)
  })

  it('uses a caret range when mlskel came from the registry', async () => {
    const installRoot = await temp()
    const pkgRoot = join(installRoot, 'node_modules', 'mlskel')
    await mkdir(pkgRoot, { recursive: true })
    await writeFile(join(pkgRoot, 'package.json'), '{"version":"1.2.3"}')
    await writeFile(join(installRoot, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/mlskel': { resolved: 'https://registry.npmjs.org/mlskel/-/mlskel-1.2.3.tgz' } } }))
    expect(await resolveMlskelSpec({}, pkgRoot)).toBe('^1.2.3')
  })
})

describe('projectDependency', () => {
  it('puts the tarball mlskel was installed from in vendor/, and depends on it by a relative path', async () => {
    // the install and the tarball side by side in a temp folder (the lock file names it ../pkgs/…)
    const base = await temp()
    const installRoot = join(base, 'app')
    const pkgRoot = join(installRoot, 'node_modules', 'mlskel')
    await mkdir(pkgRoot, { recursive: true })
    await mkdir(join(base, 'pkgs'), { recursive: true })
    const tarball = join(base, 'pkgs', 'mlskel-1.2.3.tgz')
    await writeFile(tarball, 'the package')
    await writeFile(join(pkgRoot, 'package.json'), '{"version":"1.2.3"}')
    await writeFile(join(installRoot, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/mlskel': { resolved: 'file:../pkgs/mlskel-1.2.3.tgz' } } }))
    const project = await temp()
    expect(await projectDependency(project, {}, pkgRoot)).toEqual({ spec: 'file:vendor/mlskel-1.2.3.tgz', vendored: 'vendor/mlskel-1.2.3.tgz' })
    expect(await readFile(join(project, 'vendor', 'mlskel-1.2.3.tgz'), 'utf8')).toBe('the package')
  })

  it('packs a checkout into vendor/, as npm would publish it', async () => {
    const checkout = await temp()
    await writeFile(join(checkout, 'package.json'), JSON.stringify({ name: 'mlskel', version: '4.5.6', files: ['index.js'] }))
    await writeFile(join(checkout, 'index.js'), 'export {}\n')
    const project = await temp()
    expect(await projectDependency(project, {}, checkout)).toEqual({ spec: 'file:vendor/mlskel-4.5.6.tgz', vendored: 'vendor/mlskel-4.5.6.tgz' })
    const listing = await runCommand('tar', ['-tzf', join(project, 'vendor', 'mlskel-4.5.6.tgz')], { cwd: project })
    expect(listing.output.split('\n').sort()).toEqual(['', 'package/index.js', 'package/package.json'])
  })

  it('vendors nothing for MLSKEL_DEPENDENCY or a registry range', async () => {
    const project = await temp()
    expect(await projectDependency(project, { MLSKEL_DEPENDENCY: 'file:/elsewhere/mlskel.tgz' })).toEqual({ spec: 'file:/elsewhere/mlskel.tgz' })
    const installRoot = await temp()
    const pkgRoot = join(installRoot, 'node_modules', 'mlskel')
    await mkdir(pkgRoot, { recursive: true })
    await writeFile(join(pkgRoot, 'package.json'), '{"version":"1.2.3"}')
    await writeFile(join(installRoot, 'package-lock.json'), JSON.stringify({ packages: { 'node_modules/mlskel': { resolved: 'https://registry.npmjs.org/mlskel/-/mlskel-1.2.3.tgz' } } }))
    expect(await projectDependency(project, {}, pkgRoot)).toEqual({ spec: '^1.2.3' })
    expect(existsSync(join(project, 'vendor'))).toBe(false)
  })
})

describe('detectPackageManager', () => {
  it('reads the user agent of the package manager that started mlskel', () => {
    expect(detectPackageManager({ npm_config_user_agent: 'pnpm/9.1.0 npm/? node/v20.19.0' })).toBe('pnpm')
    expect(detectPackageManager({ npm_config_user_agent: 'yarn/1.22.0' })).toBe('yarn')
    expect(detectPackageManager({})).toBe('npm')
  })
})

describe('initGit', () => {
  it('makes a repository with an initial commit of every file', async () => {
    const dir = join(await temp(), 'proj')
    await createProject({ dir, mlskelSpec: 'x' })
    expect(await initGit(dir)).toEqual({ status: 'committed' })
    const log = await runCommand('git', ['log', '--oneline'], { cwd: dir })
    expect(log.output).toContain('Initial commit from mlskel')
    const status = await runCommand('git', ['status', '--porcelain'], { cwd: dir })
    expect(status.output).toBe('')
  })

  it('skips a folder already inside a repository', async () => {
    const outer = await temp()
    await runCommand('git', ['init', '-q'], { cwd: outer })
    const dir = join(outer, 'proj')
    await mkdir(dir)
    expect(await initGit(dir)).toMatchObject({ status: 'skipped', reason: expect.stringContaining('already inside') })
  })
})
