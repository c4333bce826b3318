// The models and model-size rules on real trained models: saved and recorded through the library, then damaged.
import { execFileSync } from 'node:child_process'
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { importModel } from '../../importing/index.js'
import { PENDING_FILE } from '../../models/index.js'
import { xgbModel } from '../../models/kinds/test-xgboost.js'
import { IRIS_FEATURES, irisProject, type IrisProject } from '../../serve/test-models.js'
import { makeContext } from '../test-context.js'
import { modelSizeRule, modelsRule } from './models.js'

const projects: IrisProject[] = []
afterEach(async () => {
  await Promise.all(projects.splice(0).map((p) => p.remove()))
})

async function project(): Promise<IrisProject> {
  const p = await irisProject()
  projects.push(p)
  return p
}

const recordFile = (runId: string) => `models/metadata/${runId}.json`

async function editRecord(p: IrisProject, runId: string, edit: (record: Record<string, unknown>) => void): Promise<void> {
  const path = join(p.metadataDir, `${runId}.json`)
  const record = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  edit(record)
  await writeFile(path, JSON.stringify(record, null, 2))
}

function gitInit(root: string, ignore: string): void {
  execFileSync('git', ['init', '-q'], { cwd: root })
  execFileSync('sh', ['-c', `printf '%s' "$1" > .gitignore`, 'sh', ignore], { cwd: root })
}

const TEMPLATE_IGNORE = 'models/*\n!models/metadata/\n'

describe('the models rule', () => {
  it('passes when every model has a record and hashes as recorded', async () => {
    const p = await project()
    await p.train(1)
    await p.train(2)
    // what the rule must not take for models: temp folders of atomic writes, hidden folders, files
    await mkdir(join(p.modelsDir, '.mlskel-tmp-abc-1-ff'))
    await mkdir(join(p.modelsDir, '.cache'))
    await writeFile(join(p.modelsDir, '.gitkeep'), '')

    const outcome = await modelsRule.run(makeContext(p.root))

    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe('2 models, 2 records')
  })

  it('passes when two records name the same model', async () => {
    const p = await project()
    await p.train(1)
    await p.train(1)

    const outcome = await modelsRule.run(makeContext(p.root))

    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toBe('1 model, 2 records')
  })

  it('reports a model folder no record names', async () => {
    const p = await project()
    await p.train(1)
    await mkdir(join(p.modelsDir, 'old-model'))

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_MODEL_ORPHAN', file: 'models/old-model' })])
    expect(findings[0]!.message).toBe('model folder models/old-model is not named by any training record (by model_location or model_id)')
  })

  it('tells a model folder left by a training that died before its record from one a training is still saving', async () => {
    const p = await project()
    await p.train(1)
    await mkdir(join(p.modelsDir, '0123456789abcdef'))
    await writeFile(join(p.modelsDir, '0123456789abcdef', PENDING_FILE), JSON.stringify({ pid: 999_999_999, created: true }))
    await mkdir(join(p.modelsDir, 'fedcba9876543210'))
    await writeFile(join(p.modelsDir, 'fedcba9876543210', PENDING_FILE), JSON.stringify({ pid: process.pid, created: true }))

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toEqual([
      {
        level: 'error',
        code: 'MLSKEL_CHECK_MODEL_ORPHAN',
        file: 'models/0123456789abcdef',
        message: 'model folder models/0123456789abcdef was left by a training that stopped before writing its record (pid 999999999, no longer running): the model was never committed',
        fix: expect.stringContaining('the next save removes the uncommitted model'),
      },
      expect.objectContaining({ level: 'info', code: 'MLSKEL_CHECK_MODEL_ORPHAN', file: 'models/fedcba9876543210', message: `model folder models/fedcba9876543210 is being saved by a training under way (pid ${process.pid}); its record is not written yet` }),
    ])
  })

  it('matches folders by model_id when model_location is written differently', async () => {
    const p = await project()
    const { record } = await p.train(1)
    await editRecord(p, record.run_id, (r) => (r.model_location = `./${record.model_location}/`))

    expect((await modelsRule.run(makeContext(p.root))).findings).toEqual([])
  })

  it('reports a record that does not validate, naming the file and the field', async () => {
    const p = await project()
    const { record } = await p.train(1)
    await editRecord(p, record.run_id, (r) => (r.model_hash = 'not-a-hash'))

    const { findings } = await modelsRule.run(makeContext(p.root))

    // the record does not count, so its model is an orphan too
    expect(findings).toEqual([
      expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file: recordFile(record.run_id) }),
      expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_MODEL_ORPHAN', file: record.model_location }),
    ])
    expect(findings[0]!.message).toMatch(new RegExp(`^training record ${recordFile(record.run_id)} is invalid: model_hash: `))
  })

  it('reports a record that is not JSON', async () => {
    const p = await project()
    await mkdir(p.metadataDir, { recursive: true })
    await writeFile(join(p.metadataDir, '20261126T101010.000Z-abcdef.json'), '{ nope')

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file: 'models/metadata/20261126T101010.000Z-abcdef.json' })])
    expect(findings[0]!.message).toContain('is not valid JSON')
  })

  it('reports a missing model folder as an error when git would track it', async () => {
    const p = await project()
    const { record } = await p.train(1)
    await rm(join(p.root, record.model_location), { recursive: true })

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toEqual([
      {
        level: 'error',
        code: 'MLSKEL_CHECK_RECORD_ORPHAN',
        file: recordFile(record.run_id),
        message: `training record ${recordFile(record.run_id)} names model folder ${record.model_location}, which does not exist`,
      },
    ])
  })

  it('notes, without failing, a missing model that git ignores (a fresh clone of the template)', async () => {
    const p = await project()
    const { record } = await p.train(1)
    gitInit(p.root, TEMPLATE_IGNORE)
    await rm(join(p.root, record.model_location), { recursive: true })

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toEqual([expect.objectContaining({ level: 'info', code: 'MLSKEL_CHECK_RECORD_ORPHAN', file: record.model_location })])
    expect(findings[0]!.message).toBe(
      `model ${record.model_location} of run ${record.run_id} is not present here: models are not committed (git ignores them); \`mlskel run train\` rebuilds the newest, \`mlskel runs verify <run id>\` reproduces any`,
    )
  })

  it('gives one note for many ignored missing models, and still an error for one git would track', async () => {
    const p = await project()
    const runs = [await p.train(1), await p.train(2), await p.train(3)]
    gitInit(p.root, `models/*\n!models/metadata/\n!models/${runs[2]!.record.model_id}/\n`)
    for (const { record } of runs) await rm(join(p.root, record.model_location), { recursive: true })

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings.map((f) => [f.level, f.code, f.file])).toEqual([
      ['error', 'MLSKEL_CHECK_RECORD_ORPHAN', recordFile(runs[2]!.record.run_id)],
      ['info', 'MLSKEL_CHECK_RECORD_ORPHAN', undefined],
    ])
    expect(findings[1]!.message).toMatch(/^the models of 2 training records \(runs \S+, \S+\) are not present here: models are not committed/)
  })

  it('reports a model.json changed after it was saved, against both its manifest and its record', async () => {
    const p = await project()
    const { record } = await p.train(1)
    await appendFile(join(p.root, record.model_location, 'model.json'), ' ')

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings.map((f) => [f.level, f.code, f.file])).toEqual([
      ['error', 'MLSKEL_CHECK_MODEL_MISMATCH', `${record.model_location}/model.json`],
      ['error', 'MLSKEL_CHECK_MODEL_MISMATCH', `${record.model_location}/manifest.json`],
    ])
    expect(findings[0]!.message).toMatch(new RegExp(`^${record.model_location}/model.json has SHA-256 [0-9a-f]{12}…, but training record ${recordFile(record.run_id)} says ${record.model_hash.slice(0, 12)}… \\(model_hash\\)`))
    expect(findings[1]!.message).toMatch(new RegExp(`but ${record.model_location}/manifest.json says ${record.model_hash.slice(0, 12)}… \\(files.model.sha256\\)`))
  })

  it('reports a record whose model_hash is not its model\'s', async () => {
    const p = await project()
    const { record } = await p.train(1)
    await editRecord(p, record.run_id, (r) => (r.model_hash = 'f'.repeat(64)))

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file: `${record.model_location}/model.json` })])
    expect(findings[0]!.message).toContain(`training record ${recordFile(record.run_id)} says ffffffffffff… (model_hash)`)
  })

  it('reports a missing manifest and a missing model.json', async () => {
    const p = await project()
    const [a, b] = [await p.train(1), await p.train(2)]
    await rm(join(p.root, a.record.model_location, 'manifest.json'))
    await rm(join(p.root, b.record.model_location, 'model.json'))

    const { findings } = await modelsRule.run(makeContext(p.root))

    expect(findings).toHaveLength(2)
    expect(findings).toEqual(
      expect.arrayContaining([
        { level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file: `${a.record.model_location}/manifest.json`, message: `${a.record.model_location}/manifest.json does not exist` },
        { level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file: `${b.record.model_location}/model.json`, message: `${b.record.model_location}/model.json does not exist` },
      ]),
    )
  })

  it('checks an imported model\'s original file against its manifest, and takes its record as any other', async () => {
    const p = await project()
    await writeFile(join(p.root, 'm.json'), JSON.stringify(xgbModel({ objective: 'binary:logistic', names: IRIS_FEATURES, features: 4, trees: [{ f: 2, t: 2.5, left: { leaf: -2 }, right: { leaf: 2 } }] })))
    const { model } = await importModel({ root: p.root, cwd: p.root, file: 'm.json' })
    expect((await modelsRule.run(makeContext(p.root))).findings).toEqual([])

    await appendFile(join(model.dir, 'source.json'), ' ')
    const changed = (await modelsRule.run(makeContext(p.root))).findings
    expect(changed).toEqual([expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_MODEL_MISMATCH', file: `models/${model.id}/source.json` })])
    expect(changed[0]!.message).toMatch(/has SHA-256 [0-9a-f]{12}…, but models\/[0-9a-f]{16}\/manifest.json says [0-9a-f]{12}… \(files.source.sha256\): the imported file changed after it was imported/)
    await rm(join(model.dir, 'source.json'))
    expect((await modelsRule.run(makeContext(p.root))).findings).toEqual([expect.objectContaining({ code: 'MLSKEL_CHECK_MODEL_MISMATCH', message: `models/${model.id}/source.json, the imported model's original file, does not exist (manifest.json names it)` })])
  })

  it('warns when a column\'s type changed between the newest training and the one before it', async () => {
    const p = await project()
    const first = await p.train(1)
    const second = await p.train(2)
    const columns = (zip: string) => [
      { name: 'zip', type: zip, missing: 0 },
      { name: 'age', type: 'numeric', missing: 2 },
    ]
    await editRecord(p, first.record.run_id, (r) => ((r.data as Record<string, unknown>).columns = columns('numeric')))
    await editRecord(p, second.record.run_id, (r) => ((r.data as Record<string, unknown>).columns = columns('categorical')))

    const outcome = await modelsRule.run(makeContext(p.root))

    expect(outcome.findings).toEqual([
      { level: 'warning', code: 'MLSKEL_CHECK_COLUMN_TYPE_CHANGED', file: recordFile(second.record.run_id), message: `column "zip" was numeric in run ${first.record.run_id} and is categorical in the newest run ${second.record.run_id}` },
    ])
  })

  it('finds nothing in a project without models', async () => {
    const p = await project()

    expect(await modelsRule.run(makeContext(p.root))).toEqual({ findings: [], summary: '0 models, 0 records' })
  })
})

describe('the model-size rule', () => {
  it('passes small models and names the largest', async () => {
    const p = await project()
    const { model } = await p.train(1)

    const outcome = await modelSizeRule.run(makeContext(p.root))

    expect(outcome.findings).toEqual([])
    expect(outcome.summary).toMatch(new RegExp(`^largest model \\d+\\.\\d kB \\(models/${model.id}\\), limit 100 MB$`))
  })

  it('warns about a model folder over checks.model_size_mb', async () => {
    const p = await project()
    const { model } = await p.train(1)
    await writeFile(join(model.dir, 'weights.bin'), Buffer.alloc(1_500_000))

    const { findings } = await modelSizeRule.run(makeContext(p.root, { config: { model_size_mb: 1 } }))

    expect(findings).toEqual([expect.objectContaining({ level: 'warning', code: 'MLSKEL_CHECK_MODEL_TOO_LARGE', file: `models/${model.id}` })])
    expect(findings[0]!.message).toMatch(new RegExp(`^model folder models/${model.id} holds 1\\.5 MB, more than the limit of 1 MB \\(checks.model_size_mb\\)$`))
  })

  it('counts sizes in decimal megabytes, as checks.model_size_mb does', async () => {
    const p = await project()
    const { model } = await p.train(1)

    const { findings } = await modelSizeRule.run(makeContext(p.root, { config: { model_size_mb: 0.001 } }))

    expect(findings[0]!.message).toMatch(new RegExp(`^model folder models/${model.id} holds \\d+\\.\\d kB, more than the limit of 0.001 MB`))
  })

  it('warns about data files inside a model folder', async () => {
    const p = await project()
    const { model } = await p.train(1)
    await mkdir(join(model.dir, 'data'))
    await writeFile(join(model.dir, 'data', 'train.CSV'), 'a,b\n1,2\n')

    const { findings } = await modelSizeRule.run(makeContext(p.root))

    expect(findings).toEqual([expect.objectContaining({ level: 'warning', code: 'MLSKEL_CHECK_MODEL_TOO_LARGE', file: `models/${model.id}` })])
    expect(findings[0]!.message).toBe(`model folder models/${model.id} contains data files (data/train.CSV); a model should not carry its training data`)
    expect(findings[0]!.fix).toContain('data belongs in data/')
  })

  it('has nothing to say without models', async () => {
    const p = await project()

    expect(await modelSizeRule.run(makeContext(p.root))).toEqual({ findings: [], summary: 'no models' })
  })
})
