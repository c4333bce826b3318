import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFAULT_LINT_PATHS } from '../check/schema.js'
import { declaredOutputs, MAX_YAML_BYTES, parseProjectConfig, projectConfigSchema, readChecksConfig, readExternalInputs, readProjectSection, readProjectText } from './index.js'

const src = fileURLToPath(new URL('..', import.meta.url))
const roots: string[] = []
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true })
})

async function project(yaml?: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-project-'))
  roots.push(root)
  if (yaml !== undefined) await writeFile(join(root, 'mlskel.yaml'), yaml)
  return root
}

const STAGES = 'stages:\n  train:\n    cmd: node train.js\n    deps: [data/in.csv]\n    outs: [models]\n'

describe('mlskel.yaml: one schema, composed from its sections', () => {
  it('validates stages, external inputs and checks in one file, and publishes one JSON Schema', () => {
    const { config } = parseProjectConfig(`${STAGES}external: [/mnt/shared/in.csv]\nchecks:\n  model_size_mb: 5\n`)
    expect(Object.keys(config.stages)).toEqual(['train'])
    expect(config.external).toEqual(['/mnt/shared/in.csv'])
    expect(config.checks?.model_size_mb).toBe(5)
    const schema = z.toJSONSchema(projectConfigSchema, { io: 'input', unrepresentable: 'any' }) as unknown as { description?: string; properties: Record<string, { propertyNames?: unknown }> }
    expect(schema.description).toMatch(/^mlskel\.yaml/)
    expect(Object.keys(schema.properties).sort()).toEqual(['checks', 'external', 'stages'])
    expect(schema.properties.stages!.propertyNames).toMatchObject({ pattern: expect.any(String) })
  })

  it('refuses an unknown key with its line, as the pipeline\'s problem', () => {
    expect(() => parseProjectConfig(`${STAGES}stagse: {}\n`)).toThrow(expect.objectContaining({ code: 'MLSKEL_PIPELINE_INVALID', where: expect.objectContaining({ file: 'mlskel.yaml', line: 6 }) }))
  })
})

describe('reading mlskel.yaml', () => {
  it('reads the text, or nothing when there is no file, and refuses one too large before reading it', async () => {
    expect(await readProjectText(await project(STAGES))).toBe(STAGES)
    expect(await readProjectText(await project())).toBeUndefined()
    await expect(readProjectText(await project(`# ${'x'.repeat(MAX_YAML_BYTES)}\n`))).rejects.toMatchObject({ code: 'MLSKEL_YAML_TOO_LARGE' })
  })

  it('reads one section with its owner\'s code, leaving the rest of the file to others', async () => {
    // a stage with an unknown key is the pipeline's problem, not the checks'
    const root = await project('stages:\n  train:\n    cmd: x\n    oops: 1\nchecks:\n  lint:\n    paths: [lib]\n')
    expect((await readChecksConfig(root)).lint.paths).toEqual(['lib'])
    await expect(readChecksConfig(await project('stages: {}\nchecks:\n  model_size_mb: -1\n'))).rejects.toMatchObject({ code: 'MLSKEL_CHECK_CONFIG_INVALID', where: expect.objectContaining({ line: 3, field: 'checks.model_size_mb' }) })
    // absent file, absent section, a file that is not YAML: the defaults (the pipeline reports a broken file)
    for (const root of [await project(), await project(STAGES), await project('stages: [\n')]) expect((await readChecksConfig(root)).lint.paths).toEqual(DEFAULT_LINT_PATHS)
    expect(await readProjectSection(await project(STAGES), 'external')).toBeUndefined()
    expect(await readExternalInputs(await project(`${STAGES}external: ['/mnt//shared/']\n`))).toEqual(['/mnt/shared'])
    await expect(readExternalInputs(await project(`${STAGES}external: [relative/path]\n`))).rejects.toMatchObject({ code: 'MLSKEL_PIPELINE_INVALID', where: expect.objectContaining({ field: 'external[0]' }) })
  })

  it('lists the stages\' outputs leniently: a broken file declares none', async () => {
    expect(await declaredOutputs(await project(STAGES))).toEqual(['models'])
    expect(await declaredOutputs(await project(), 'stages:\n  a: {cmd: x, outs: [out, 3]}\n')).toEqual(['out'])
    expect(await declaredOutputs(await project('stages: [\n'))).toEqual([])
    expect(await declaredOutputs(await project())).toEqual([])
  })
})

describe('the project module is the one reader of mlskel.yaml', () => {
  it('no other module reads or parses it', () => {
    const offenders: string[] = []
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts') || entry.name.startsWith('test-')) continue
      const file = join(entry.parentPath, entry.name)
      const where = relative(src, file)
      if (where.startsWith('project/')) continue
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\b(readFile|readFileSync|readYaml|readYamlText|parseYaml|createReadStream|open)\s*\(/.test(line) && /PROJECT_FILE|mlskel\.yaml/.test(line)) offenders.push(`${where}:${i + 1}: ${line.trim()}`)
        })
    }
    expect(offenders).toEqual([])
  })
})
