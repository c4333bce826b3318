// mlskel.yaml: its one schema, composed from the sections their owners define (the pipeline's `stages` and
// `external`, in pipeline/schema.ts; `checks`, in check/schema.ts), and its readers. Every module that needs
// something of mlskel.yaml asks here, so the file is read, size-bounded and parsed the same way everywhere.
// Imports zod: the CLI's fast paths use files.ts instead.
import { z } from 'zod'
import { checksSchema, type ChecksConfig } from '../check/schema.js'
import { parseYaml, readYaml, validateYaml, type YamlSource } from '../config/index.js'
import { MlskelError, quote, type ErrorCode } from '../errors/index.js'
import { externalSchema, normalizeProjectPath, stagesSchema } from '../pipeline/schema.js'
import { join } from 'node:path'
import { PARAMS_FILE, PROJECT_FILE, readProjectText } from './files.js'

/** The sections of mlskel.yaml, each with the error code its owner gives a problem in it. */
const SECTIONS = {
  stages: { schema: stagesSchema, code: 'MLSKEL_PIPELINE_INVALID' },
  external: { schema: externalSchema.optional(), code: 'MLSKEL_PIPELINE_INVALID' },
  checks: { schema: checksSchema.optional(), code: 'MLSKEL_CHECK_CONFIG_INVALID' },
} as const satisfies Record<string, { schema: z.ZodType; code: ErrorCode }>

type Section = keyof typeof SECTIONS

/** The whole file: the source of its published JSON Schema (schema/mlskel.schema.json) and of its validation. */
export const projectConfigSchema = z
  .strictObject({
    stages: SECTIONS.stages.schema,
    external: SECTIONS.external.schema,
    checks: SECTIONS.checks.schema,
  })
  .describe('mlskel.yaml: the pipeline stages run in dependency order by `mlskel run`, the external inputs they read, and the project checks')

export type ProjectConfig = z.output<typeof projectConfigSchema>

export interface LoadedProjectConfig {
  config: ProjectConfig
  /** The parsed file, for the line of any value. */
  source: YamlSource
}

/** mlskel.yaml's text parsed, not validated: for the line of a value (an error's location). */
export function projectSource(text: string): YamlSource {
  return parseYaml(text, PROJECT_FILE)
}

/**
 * mlskel.yaml's text validated whole, as `mlskel run` needs it: any problem throws MLSKEL_PIPELINE_INVALID with its
 * line and field (`mlskel check` reads its own section with readChecksConfig, and its own code).
 */
export function parseProjectConfig(text: string): LoadedProjectConfig {
  const source = parseYaml(text, PROJECT_FILE)
  return { config: validateYaml(source, projectConfigSchema, 'MLSKEL_PIPELINE_INVALID'), source }
}

/**
 * One section of mlskel.yaml at `root`, validated on its own (the rest of the file is other owners' to judge):
 * undefined when the file or the section is absent, or when the file is not YAML (the pipeline reports that).
 */
export async function readProjectSection<S extends Section>(root: string, section: S): Promise<z.output<(typeof SECTIONS)[S]['schema']> | undefined> {
  const text = await readProjectText(root)
  if (text === undefined) return undefined
  let source: YamlSource
  try {
    source = parseYaml(text, PROJECT_FILE)
  } catch {
    return undefined
  }
  const data = source.data as Record<string, unknown> | null
  if (data === null || typeof data !== 'object' || data[section] === undefined) return undefined
  // validated from the document's root, so that problems carry their line in mlskel.yaml
  const { schema, code } = SECTIONS[section]
  return (validateYaml(source, z.looseObject({ [section]: schema }), code) as Record<string, unknown>)[section] as never
}

/** An external input as written in mlskel.yaml, normalized (`/mnt//data/` → `/mnt/data`): how deps and params name it. */
export function normalizeExternal(path: string): string {
  return normalizeProjectPath(path)
}

/**
 * The external inputs (`external:`) mlskel.yaml at `root` declares, normalized; none without the file or the section.
 * A declaration that does not validate throws MLSKEL_PIPELINE_INVALID with its line.
 */
export async function readExternalInputs(root: string): Promise<string[]> {
  return ((await readProjectSection(root, 'external')) ?? []).map(normalizeExternal)
}

/**
 * params.yaml parsed, not validated (its schema is src/params/'s, the project's), with `overrides` applied: what
 * loadParams validates, and what the pipeline reads its stages' params keys from.
 * An override for a key whose parent params.yaml does not have is refused (MLSKEL_SET_INVALID).
 */
export async function readParamsYaml(root: string, overrides: Record<string, unknown> = {}): Promise<YamlSource> {
  const source = await readYaml(join(root, PARAMS_FILE), PARAMS_FILE)
  for (const [key, value] of Object.entries(overrides)) {
    const path = key.split('.')
    if (!source.doc.hasIn(path.slice(0, -1)) && path.length > 1) {
      throw new MlskelError('MLSKEL_SET_INVALID', `--set ${key}: params.yaml has no ${quote(path.slice(0, -1).join('.'))}`, { where: { file: PARAMS_FILE, field: key } })
    }
    source.doc.setIn(path, value)
  }
  return source
}

/** The `checks:` section, defaults applied. */
export async function readChecksConfig(root: string): Promise<ChecksConfig> {
  return checksSchema.parse(await readProjectSection(root, 'checks'))
}

/**
 * Every stage's `outs` in mlskel.yaml's text, read leniently (a file that does not parse declares none): used to
 * tell the files mlskel writes from the project's own, not to validate the pipeline. `text` defaults to the file at
 * `root` (a record's check reads it from git at the record's commit instead).
 */
export async function declaredOutputs(root: string, text?: string): Promise<string[]> {
  const yaml = text ?? (await readProjectText(root).catch(() => undefined)) ?? ''
  try {
    const data = parseYaml(yaml, PROJECT_FILE).data as { stages?: Record<string, { outs?: unknown }> } | null
    return Object.values(data?.stages ?? {}).flatMap((stage) => (Array.isArray(stage?.outs) ? stage.outs.filter((out): out is string => typeof out === 'string') : []))
  } catch {
    return []
  }
}
