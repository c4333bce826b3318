import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { predictionRecordPath, predictionRecordSchema, recordPrediction, type RecordPredictionOptions } from './prediction.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlskel-prediction-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const options = (extra: Partial<RecordPredictionOptions> = {}): RecordPredictionOptions => ({
  root,
  modelId: '0123456789abcdef',
  input: join(root, 'data', 'transformed', 'test.parquet'),
  inputSha256: 'a'.repeat(64),
  output: 'data/predictions/test.csv',
  outputSha256: 'b'.repeat(64),
  rows: 30,
  seconds: 0.25,
  ...extra,
})

describe('recordPrediction', () => {
  it('writes a valid record beside the predictions, named after them, paths relative to the project', async () => {
    const record = await recordPrediction(options())
    expect(record).toMatchObject({ schema_version: 1, event: 'prediction', model_id: '0123456789abcdef', input: 'data/transformed/test.parquet', output: 'data/predictions/test.csv', rows: 30, seconds: 0.25 })
    expect(Date.parse(record.timestamp)).not.toBeNaN()
    const onDisk = JSON.parse(await readFile(join(root, 'data', 'predictions', 'test.json'), 'utf8'))
    expect(predictionRecordSchema.parse(onDisk)).toEqual(record)
    expect(await readdir(join(root, 'data', 'predictions'))).toEqual(['test.json'])
  })

  it('keeps an input outside the project as an absolute path, and writes to outputDir when given', async () => {
    const record = await recordPrediction(options({ input: '/elsewhere/new.csv', outputDir: join(root, 'records') }))
    expect(record.input).toBe('/elsewhere/new.csv')
    expect(await readdir(join(root, 'records'))).toEqual(['test.json'])
  })

  it('never puts the record over a JSON output', () => {
    expect(predictionRecordPath('/p/out.json')).toBe('/p/out.json.json')
    expect(predictionRecordPath('/p/out.csv')).toBe('/p/out.json')
  })

  it('refuses an invalid record, naming the field, and writes nothing', async () => {
    await expect(recordPrediction(options({ modelId: 'not-an-id' }))).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'model_id' } })
    await expect(recordPrediction(options({ rows: -1 }))).rejects.toMatchObject({ code: 'MLSKEL_METADATA_INVALID', where: { field: 'rows' } })
    await expect(readdir(join(root, 'data'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
