import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { findProjectRoot, loadSettings, projectPaths, settingsSchema } from './index.js'
import { tempDir } from '../../tests/temp-dir.js'

async function root(env = ''): Promise<string> {
  const dir = await tempDir('mlskel-settings-')
  await writeFile(join(dir, 'mlskel.yaml'), 'stages: {}\n')
  if (env) await writeFile(join(dir, '.env'), env)
  return dir
}

describe('loadSettings', () => {
  it('gives the defaults when nothing is set', async () => {
    const settings = loadSettings(settingsSchema, { root: await root(), env: {} })
    expect(settings).toMatchObject({ DATA_RAW: 'data/raw', API_HOST: '0.0.0.0', API_PORT: 5000, LOG_LEVEL: 'warn', MODEL_METADATA_DIR: 'models/metadata' })
  })

  it('reads .env, and lets the environment win over it', async () => {
    const dir = await root('API_PORT=8080\nLOG_LEVEL=info\n')
    expect(loadSettings(settingsSchema, { root: dir, env: { LOG_LEVEL: 'debug' } })).toMatchObject({ API_PORT: 8080, LOG_LEVEL: 'debug' })
  })

  it('names the variable, its value and its .env line when a value is bad', async () => {
    const dir = await root('# ports\nAPI_PORT=eighty\n')
    expect(() => loadSettings(settingsSchema, { root: dir, env: {} })).toThrow(expect.objectContaining({ code: 'MLSKEL_SETTINGS_INVALID', where: { file: '.env', line: 2, field: 'API_PORT' }, message: expect.stringContaining('API_PORT="eighty"') }))
  })

  it('says when the bad value came from the environment', async () => {
    const dir = await root()
    expect(() => loadSettings(settingsSchema, { root: dir, env: { LOG_LEVEL: 'loud' } })).toThrow(expect.objectContaining({ where: { field: 'LOG_LEVEL' }, message: expect.stringContaining('from the environment') }))
  })

  it('reads the prediction API\'s settings: token, row limit and error details', async () => {
    expect(loadSettings(settingsSchema, { root: await root(), env: {} })).toMatchObject({ API_MAX_ROWS: 10_000, API_TOKEN: undefined, API_ERROR_DETAILS: undefined })
    const dir = await root('API_TOKEN=s3cret\nAPI_MAX_ROWS=500\nAPI_ERROR_DETAILS=false\n')
    expect(loadSettings(settingsSchema, { root: dir, env: {} })).toMatchObject({ API_TOKEN: 's3cret', API_MAX_ROWS: 500, API_ERROR_DETAILS: false })
    expect(loadSettings(settingsSchema, { root: dir, env: { API_ERROR_DETAILS: 'yes' } }).API_ERROR_DETAILS).toBe(true)
    expect(() => loadSettings(settingsSchema, { root: dir, env: { API_MAX_ROWS: '0' } })).toThrow(expect.objectContaining({ code: 'MLSKEL_SETTINGS_INVALID', where: { field: 'API_MAX_ROWS' } }))
    expect(() => loadSettings(settingsSchema, { root: dir, env: { API_ERROR_DETAILS: 'maybe' } })).toThrow(expect.objectContaining({ where: { field: 'API_ERROR_DETAILS' } }))
  })

  it('has every setting documented in the template\'s .env.example', () => {
    const example = readFileSync(new URL('../../template/_env.example', import.meta.url), 'utf8')
    for (const key of Object.keys(settingsSchema.shape)) expect(example, key).toMatch(new RegExp(`^(# )?${key}=`, 'm'))
  })

  it('reads a project\'s own extra settings', async () => {
    const schema = settingsSchema.extend({ FEATURE_STORE_URL: z.string().default('none') })
    expect(loadSettings(schema, { root: await root('FEATURE_STORE_URL=s3://b\n'), env: {} }).FEATURE_STORE_URL).toBe('s3://b')
  })
})

describe('findProjectRoot', () => {
  it('finds mlskel.yaml above the current folder', async () => {
    const dir = await root()
    await mkdir(join(dir, 'src', 'model'), { recursive: true })
    expect(findProjectRoot(join(dir, 'src', 'model'))).toBe(dir)
  })

  it('says so when there is no project', async () => {
    const dir = await tempDir('mlskel-settings-none-')
    expect(() => findProjectRoot(dir)).toThrow(expect.objectContaining({ code: 'MLSKEL_PROJECT_NOT_FOUND' }))
  })

  it('resolves the folders against the root', () => {
    expect(projectPaths('/p', settingsSchema.parse({})).metadata).toBe('/p/models/metadata')
  })
})
