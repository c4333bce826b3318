// The raw-data rule on temp projects: a manifest written, then raw files edited, added, deleted and accepted.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Hasher } from '../../hashing/index.js'
import { HASH_CACHE_FILE } from '../../pipeline/index.js'
import { makeContext, type MakeContextOptions } from '../test-context.js'
import { buildRawManifest, rawDataRule, rawManifestPath, readRawManifest, writeRawManifest } from './raw-data.js'

const roots: string[] = []
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })))
})

const IRIS = 'sepal,species\n5.1,setosa\n'

/** A project with data/raw holding `files` (relative to data/raw). */
async function project(files: Record<string, string> = { 'iris.csv': IRIS }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-raw-'))
  roots.push(root)
  await mkdir(join(root, 'data/raw'), { recursive: true })
  for (const [path, text] of Object.entries(files)) await put(root, `data/raw/${path}`, text)
  return root
}

async function put(root: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true })
  await writeFile(join(root, path), text)
}

/** The hasher's clock an hour ahead: files just written are past the racy window, so they are cached. */
const AHEAD: MakeContextOptions = { hasherOptions: { now: () => BigInt(Date.now() + 3_600_000) * 1_000_000n } }

async function check(root: string, options: MakeContextOptions = {}) {
  const ctx = makeContext(root, options)
  const outcome = await rawDataRule.run(ctx)
  await (await ctx.hasher()).save()
  return outcome
}

describe('the raw-data rule', () => {
  it('passes when data/raw is as its manifest says', async () => {
    const root = await project({ 'iris.csv': IRIS, 'more/wine.csv': 'a,b\n1,2\n' })
    await writeRawManifest(join(root, 'data/raw'))

    const outcome = await check(root)

    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe('2 files, 33 B, as in data/raw.manifest.json')
  })

  it('writes a missing manifest beside data/raw, as an info that asks to commit it', async () => {
    const root = await project({ 'iris.csv': IRIS, 'b/x.csv': '1\n', '.gitkeep': '', 'b/.gitkeep': '', '.mlskel-tmp-iris.csv-1-ab': 'half' })
    const folderHash = await (await Hasher.open()).dir(join(root, 'data/raw'))

    const outcome = await check(root)

    expect(outcome.findings).toEqual([
      expect.objectContaining({ level: 'info', code: 'MLSKEL_CHECK_RAW_MANIFEST', file: 'data/raw.manifest.json', message: expect.stringMatching(/^data\/raw.manifest.json was missing: created it from data\/raw\/ as it is now, with 2 files, 27 B; commit it/) }),
    ])
    expect(outcome.summary).toBe('2 files, 27 B, data/raw.manifest.json created')
    const text = await readFile(join(root, 'data/raw.manifest.json'), 'utf8')
    expect(text.endsWith('}\n')).toBe(true)
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['schema_version', 'algorithm', 'files'])
    const manifest = JSON.parse(text) as { files: Record<string, { size: number; sha256: string }> }
    expect(Object.keys(manifest.files)).toEqual(['b/x.csv', 'iris.csv'])
    expect(manifest.files['iris.csv']).toEqual({ sha256: await (await Hasher.open()).file(join(root, 'data/raw/iris.csv')), size: IRIS.length })
    // the manifest is outside data/raw, so data/raw's hash (which drives the pipeline) did not change
    expect(await (await Hasher.open()).dir(join(root, 'data/raw'))).toBe(folderHash)
    expect((await check(root)).findings).toEqual([])
  })

  it('refuses to write a new manifest in place of one git has seen: a deleted manifest would accept changed data', async () => {
    const root = await project()
    await writeRawManifest(join(root, 'data/raw'))
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root })
    git('init', '-q')
    git('add', '-A')
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'raw data')
    await rm(join(root, 'data/raw.manifest.json'))
    await put(root, 'data/raw/iris.csv', `${IRIS}6.2,virginica\n`)

    const outcome = await check(root)

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_MANIFEST', message: expect.stringContaining("is missing, but git's history has it"), fix: expect.stringContaining('--accept-raw') })])
    await expect(readRawManifest(join(root, 'data/raw'))).resolves.toEqual({ status: 'missing' })
    // --accept-raw stays the one way to take the data as it is
    const accepted = await check(root, { acceptRaw: true })
    expect(accepted.findings).toEqual([expect.objectContaining({ level: 'info' })])
    expect((await readRawManifest(join(root, 'data/raw'))).status).toBe('ok')
  })

  it('reports a file whose size changed, naming both sizes and the command that restores it', async () => {
    const root = await project()
    await writeRawManifest(join(root, 'data/raw'))
    await put(root, 'data/raw/iris.csv', `${IRIS}6.0,virginica\n`)

    const outcome = await check(root)

    expect(outcome.findings).toEqual([
      {
        level: 'error',
        code: 'MLSKEL_CHECK_RAW_CHANGED',
        file: 'data/raw/iris.csv',
        message: `data/raw/iris.csv was modified: size ${IRIS.length} → ${IRIS.length + 14} bytes (raw data is immutable; data/raw.manifest.json records it as committed)`,
        fix: 'Restore it with `git checkout -- data/raw/iris.csv`. If the change is intended, accept it with `mlskel check --accept-raw` and commit data/raw.manifest.json.',
      },
    ])
    expect(outcome.summary).toBe('1 file, 39 B, 1 changed against data/raw.manifest.json')
  })

  it('catches a one-byte change of the same size right after the file was written', async () => {
    const root = await project()
    expect((await check(root)).findings[0]!.code).toBe('MLSKEL_CHECK_RAW_MANIFEST')
    await put(root, 'data/raw/iris.csv', IRIS.replace('5.1', '5.2'))

    const outcome = await check(root)

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_CHANGED', file: 'data/raw/iris.csv', message: expect.stringContaining(`was modified: content changed (same size, ${IRIS.length} bytes, another SHA-256)`) })])
  })

  it('catches a same-size change of a file the stat cache holds, even with its mtime put back', async () => {
    const root = await project()
    const file = join(root, 'data/raw/iris.csv')
    // a whole second, so that utimes can put it back exactly (to the nanosecond) after the rewrite
    const mtime = Math.floor(Date.now() / 1000) - 3600
    await utimes(file, mtime, mtime)
    await check(root, AHEAD)
    // the hash really came from the cache file: the change below must be caught in spite of it
    expect(Object.keys((JSON.parse(await readFile(join(root, HASH_CACHE_FILE), 'utf8')) as { files: object }).files)).toContain(file)
    const before = await stat(file, { bigint: true })
    await writeFile(file, IRIS.replace('setosa', 'setosb'))
    await utimes(file, mtime, mtime)
    const after = await stat(file, { bigint: true })
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino])

    const outcome = await check(root, AHEAD)

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_CHANGED', file: 'data/raw/iris.csv', message: expect.stringContaining('content changed (same size') })])
  })

  it('records a raw file that is a symbolic link by what it points to, says so, and catches a change behind it', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'mlskel-shared-'))
    roots.push(shared)
    await writeFile(join(shared, 'iris.csv'), IRIS)
    const root = await project({})
    await symlink(join(shared, 'iris.csv'), join(root, 'data/raw/iris.csv'))
    await writeRawManifest(join(root, 'data/raw'))
    const manifest = JSON.parse(await readFile(join(root, 'data/raw.manifest.json'), 'utf8')) as { files: Record<string, unknown> }
    expect(manifest.files).toEqual({ 'iris.csv': { size: IRIS.length, sha256: await (await Hasher.open()).file(join(shared, 'iris.csv')), link: join(shared, 'iris.csv') } })
    expect((await check(root, AHEAD)).findings).toEqual([])

    // the data changes where the link leads: git sees nothing in the project, the manifest must
    await writeFile(join(shared, 'iris.csv'), IRIS.replace('5.1', '5.2'))
    const outcome = await check(root, AHEAD)

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_CHANGED', file: 'data/raw/iris.csv', message: expect.stringContaining(`was modified: content changed (same size, ${IRIS.length} bytes, another SHA-256)`) })])
  })

  it('reports a raw link that now leads elsewhere, even to the same content, and a file that became a link', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'mlskel-shared-'))
    roots.push(shared)
    await writeFile(join(shared, 'a.csv'), IRIS)
    await writeFile(join(shared, 'b.csv'), IRIS)
    const root = await project({ 'own.csv': IRIS })
    await symlink(join(shared, 'a.csv'), join(root, 'data/raw/iris.csv'))
    await writeRawManifest(join(root, 'data/raw'))
    await rm(join(root, 'data/raw/iris.csv'))
    await symlink(join(shared, 'b.csv'), join(root, 'data/raw/iris.csv'))
    await rm(join(root, 'data/raw/own.csv'))
    await symlink(join(shared, 'a.csv'), join(root, 'data/raw/own.csv'))

    const { findings } = await check(root)

    expect(findings.map((f) => [f.level, f.file, f.message])).toEqual([
      ['error', 'data/raw/iris.csv', `data/raw/iris.csv was modified: the link now leads to ${join(shared, 'b.csv')} (was ${join(shared, 'a.csv')}), same content (raw data is immutable; data/raw.manifest.json records it as committed)`],
      ['error', 'data/raw/own.csv', `data/raw/own.csv was modified: now a link to ${join(shared, 'a.csv')}, same content (raw data is immutable; data/raw.manifest.json records it as committed)`],
    ])
  })

  it('manifests the external inputs mlskel.yaml declares beside data/raw, and catches a change in them', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'mlskel-shared-'))
    roots.push(shared)
    await writeFile(join(shared, 'churn.csv'), IRIS)
    await mkdir(join(shared, 'lake'))
    await writeFile(join(shared, 'lake', 'part-1.csv'), 'p\n1\n')
    const root = await project()
    const churn = join(shared, 'churn.csv')
    const lake = join(shared, 'lake')
    await put(root, 'mlskel.yaml', `stages:\n  prepare:\n    cmd: x\n    deps: [data/raw, ${churn}, ${lake}]\nexternal:\n  - ${churn}\n  - ${lake}/\n`)

    const created = await check(root)
    expect(created.summary).toBe(`1 file, ${IRIS.length} B, and 2 external files, ${IRIS.length + 4} B, data/raw.manifest.json created`)
    const manifest = JSON.parse(await readFile(join(root, 'data/raw.manifest.json'), 'utf8')) as { files: object; external: Record<string, { size: number }> }
    expect(Object.keys(manifest.files)).toEqual(['iris.csv'])
    expect(Object.keys(manifest.external)).toEqual([churn, `${lake}/part-1.csv`])
    expect((await check(root)).findings).toEqual([])

    await writeFile(churn, `${IRIS}6.0,virginica\n`)
    await writeFile(join(lake, 'part-2.csv'), 'p\n2\n')
    const { findings } = await check(root)
    expect(findings).toEqual([
      {
        level: 'error',
        code: 'MLSKEL_CHECK_RAW_CHANGED',
        file: churn,
        message: `external input ${churn} was modified: size ${IRIS.length} → ${IRIS.length + 14} bytes (raw data is immutable; data/raw.manifest.json records it as committed)`,
        fix: `Restore ${churn} where it was (it is outside the project, so git cannot). If the change is intended, accept it with \`mlskel check --accept-raw\` and commit data/raw.manifest.json.`,
      },
      expect.objectContaining({ level: 'info', code: 'MLSKEL_CHECK_RAW_NEW', file: `${lake}/part-2.csv` }),
    ])
    expect((await check(root, { acceptRaw: true })).findings.map((f) => f.message)).toEqual([`accepted: ${churn} changed (size ${IRIS.length} → ${IRIS.length + 14} bytes); data/raw.manifest.json updated`, `accepted: ${lake}/part-2.csv added; data/raw.manifest.json updated`])
    expect((await check(root)).findings).toEqual([])
  })

  it('reports a deleted file as an error and a new one as an info', async () => {
    const root = await project({ 'iris.csv': IRIS, 'old.csv': 'x\n' })
    await writeRawManifest(join(root, 'data/raw'))
    await rm(join(root, 'data/raw/old.csv'))
    await put(root, 'data/raw/new data.csv', 'y\n')

    const outcome = await check(root)

    expect(outcome.findings).toEqual([
      expect.objectContaining({ level: 'info', code: 'MLSKEL_CHECK_RAW_NEW', file: 'data/raw/new data.csv', message: 'data/raw/new data.csv is new: data/raw.manifest.json does not list it (2 B)' }),
      expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_CHANGED', file: 'data/raw/old.csv', message: 'data/raw/old.csv was deleted (raw data is immutable; data/raw.manifest.json records it as committed)', fix: expect.stringContaining('`git checkout -- data/raw/old.csv`') }),
    ])
    expect(outcome.summary).toBe('2 files, 27 B, 1 deleted, 1 new against data/raw.manifest.json')
  })

  it('quotes a path with spaces in the restore command', async () => {
    const root = await project({ 'my data.csv': 'a\n' })
    await writeRawManifest(join(root, 'data/raw'))
    await put(root, 'data/raw/my data.csv', 'b\n')

    const [finding] = (await check(root)).findings

    expect(finding!.fix).toContain("`git checkout -- 'data/raw/my data.csv'`")
  })

  it('accepts every change with --accept-raw, as infos, and rewrites the manifest', async () => {
    const root = await project({ 'iris.csv': IRIS, 'old.csv': 'x\n', 'same.csv': 's\n' })
    await writeRawManifest(join(root, 'data/raw'))
    await rm(join(root, 'data/raw/old.csv'))
    await put(root, 'data/raw/iris.csv', IRIS.replace('5.1', '5.2'))
    await put(root, 'data/raw/added.csv', 'y\n')

    const outcome = await check(root, { acceptRaw: true })

    expect(outcome.findings.map((f) => [f.level, f.code, f.file, f.message])).toEqual([
      ['info', 'MLSKEL_CHECK_RAW_MANIFEST', 'data/raw/added.csv', 'accepted: data/raw/added.csv added; data/raw.manifest.json updated'],
      ['info', 'MLSKEL_CHECK_RAW_MANIFEST', 'data/raw/iris.csv', `accepted: data/raw/iris.csv changed (content changed (same size, ${IRIS.length} bytes, another SHA-256)); data/raw.manifest.json updated`],
      ['info', 'MLSKEL_CHECK_RAW_MANIFEST', 'data/raw/old.csv', 'accepted: data/raw/old.csv removed; data/raw.manifest.json updated'],
    ])
    expect(outcome.summary).toBe('3 files, 29 B, 3 changes accepted into data/raw.manifest.json')
    expect(await readRawManifest(join(root, 'data/raw'))).toEqual({ status: 'ok', manifest: await buildRawManifest(join(root, 'data/raw')) })
    expect((await check(root)).findings).toEqual([])
  })

  it('leaves an unchanged manifest alone with --accept-raw', async () => {
    const root = await project()
    await writeRawManifest(join(root, 'data/raw'))
    const manifestFile = join(root, 'data/raw.manifest.json')
    const before = await stat(manifestFile)

    const outcome = await check(root, { acceptRaw: true })

    expect(outcome).toEqual({ findings: [], summary: '1 file, 25 B, as in data/raw.manifest.json, nothing to accept' })
    expect((await stat(manifestFile)).ino).toBe(before.ino)
  })

  it('reports a manifest that is not JSON, naming the file', async () => {
    const root = await project()
    await put(root, 'data/raw.manifest.json', '{ "schema_version": 1,')

    const outcome = await check(root)

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_MANIFEST', file: 'data/raw.manifest.json', message: expect.stringMatching(/^data\/raw.manifest.json cannot be read: not valid JSON \(/) })])
    expect(await readFile(join(root, 'data/raw.manifest.json'), 'utf8')).toBe('{ "schema_version": 1,')
  })

  it('reports a manifest that does not validate, naming the field and the problem', async () => {
    const root = await project()
    await writeRawManifest(join(root, 'data/raw'))
    const manifestFile = join(root, 'data/raw.manifest.json')
    await writeFile(manifestFile, (await readFile(manifestFile, 'utf8')).replace(/"sha256": "[0-9a-f]+"/, '"sha256": "abc"'))

    const outcome = await check(root)

    expect(outcome.findings).toEqual([
      expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_RAW_MANIFEST', file: 'data/raw.manifest.json', message: 'data/raw.manifest.json cannot be read: files["iris.csv"].sha256: must be 64 lower-case hex digits' }),
    ])
  })

  it('rejects manifest paths that leave the raw folder', async () => {
    const root = await project()
    await put(root, 'data/raw.manifest.json', JSON.stringify({ schema_version: 1, algorithm: 'sha256', files: { '../secret.txt': { size: 1, sha256: 'a'.repeat(64) } } }))

    const [finding] = (await check(root)).findings

    expect(finding).toMatchObject({ level: 'error', code: 'MLSKEL_CHECK_RAW_MANIFEST', message: expect.stringContaining('must be a path relative to the raw data folder') })
  })

  it('replaces an unreadable manifest with --accept-raw', async () => {
    const root = await project()
    await put(root, 'data/raw.manifest.json', 'not json')

    const outcome = await check(root, { acceptRaw: true })

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'info', code: 'MLSKEL_CHECK_RAW_MANIFEST', file: 'data/raw.manifest.json', message: expect.stringMatching(/^accepted: data\/raw.manifest.json could not be read \(not valid JSON .*\); replaced it with data\/raw\/ as it is now, 1 file, 25 B$/) })])
    expect((await check(root)).findings).toEqual([])
  })

  it('leaves a missing data/raw to the structure rule', async () => {
    const root = await project()
    await rm(join(root, 'data/raw'), { recursive: true })

    expect(await check(root)).toEqual({ findings: [], summary: 'data/raw/ is missing (the structure rule reports it)' })
  })

  it('follows DATA_RAW to where the project keeps its raw data', async () => {
    const root = await project()
    await put(root, 'input/raw/a.csv', 'a\n')

    const outcome = await check(root, { settings: { DATA_RAW: 'input/raw' } })

    expect(outcome.findings).toEqual([expect.objectContaining({ file: 'input/raw.manifest.json' })])
    expect(rawManifestPath(join(root, 'input/raw/'))).toBe(join(root, 'input/raw.manifest.json'))
    await put(root, 'input/raw/a.csv', 'b\n')
    expect((await check(root, { settings: { DATA_RAW: 'input/raw' } })).findings).toEqual([expect.objectContaining({ code: 'MLSKEL_CHECK_RAW_CHANGED', file: 'input/raw/a.csv' })])
  })

  it('checks 3,000 unchanged raw files from a warm stat cache (bench/check.ts times it)', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 3000; i++) files[`part-${i % 30}/row-${i}.csv`] = `id,value\n${i},${i * 2}\n`
    const root = await project(files)
    await check(root, AHEAD)

    const outcome = await check(root, AHEAD)

    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toMatch(/^3000 files, .* as in data\/raw.manifest.json$/)
  })
})
