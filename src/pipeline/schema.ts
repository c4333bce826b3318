// The schemas of the pipeline's files: mlskel.yaml (its stages, and the checks of `mlskel check`) and
// mlskel.lock. The source of their types, their validation and the published JSON Schema. Loading zod costs
// time, so only validation imports this module; a no-op run whose files have not changed never does.
import { isAbsolute, posix } from 'node:path'
import { z } from 'zod'
import { DEFAULT_STOP_GRACE_S } from './execute.js'

/** Stage names: kebab-case or snake_case identifiers, so they read well on the command line. */
export const STAGE_NAME = /^[A-Za-z][A-Za-z0-9]*([-_][A-Za-z0-9]+)*$/
/** Keys of params.yaml, dotted for nested values: `model`, `model.n_estimators`. */
export const PARAM_KEY = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/

/** Whether `path` names something inside the project: relative, posix, no `..` escape, not the root itself. */
export function isProjectPath(path: string): boolean {
  if (path.includes('\\') || posix.isAbsolute(path) || /^[A-Za-z]:/.test(path)) return false
  const normal = normalizeProjectPath(path)
  return normal !== '' && normal !== '.' && normal !== '..' && !normal.startsWith('../')
}

/** `./data//raw/` → `data/raw`: the one spelling of a path used for comparing and recording. */
export function normalizeProjectPath(path: string): string {
  return posix.normalize(path.trim()).replace(/\/+$/, '')
}

const projectPath = (what: string) =>
  z
    .string()
    .min(1)
    .refine(isProjectPath, { message: 'must be a path inside the project, relative to its root, with / separators (no leading /, no ..)' })
    .describe(what)

/**
 * External inputs: raw data read in place, outside the project (a mounted share, an export of a warehouse). Only a
 * declared one may be a stage's dep or params.yaml's dataset.raw; `mlskel check` manifests it with data/raw. An
 * absolute path, so that the pipeline, a training and `mlskel runs verify`'s clean checkout all read the same file.
 */
export const externalSchema = z
  .array(
    z
      .string()
      .min(1)
      .refine((path) => isAbsolute(path) && !path.includes('\0'), { message: 'must be an absolute path: an external input is read where it is (/mnt/shared/churn.csv)' })
      .describe('an absolute path to a file or folder'),
  )
  .describe('external inputs: raw data files or folders read in place from outside the project; list each in the deps of the stage that reads it')

export const stageSchema = z
  .strictObject({
    cmd: z.string().regex(/\S/, { message: 'cmd must be a non-empty shell command' }).describe('shell command run from the project root (through /bin/sh -c); node_modules/.bin is on its PATH'),
    deps: z
      .array(z.string().min(1).describe('a file or folder the stage reads, inside the project or declared under `external`; its content hash decides whether the stage runs again'))
      .optional()
      .describe('files and folders the stage reads, relative to the project root (or external inputs, by their absolute path)'),
    params: z
      .array(z.string().regex(PARAM_KEY, { message: 'must be a key of params.yaml, dotted for nested values (model.n_estimators)' }).describe('a key of params.yaml'))
      .optional()
      .describe('keys of params.yaml the stage uses; a change in their values makes it run again'),
    outs: z.array(projectPath('a file or folder the stage writes')).optional().describe('files and folders the stage writes, relative to the project root; each belongs to one stage only'),
    stop_grace_s: z
      .number()
      .int({ message: 'must be a whole number of seconds' })
      .min(0, { message: 'must be 0 seconds or more' })
      .max(3600, { message: 'must be at most 3600 seconds (an hour)' })
      .optional()
      .describe(`seconds the stage has to end after SIGTERM, when its mlskel run was killed outright, before SIGKILL (default ${DEFAULT_STOP_GRACE_S}): time to finish a write`),
  })
  .describe('one step of the pipeline')

/** mlskel.yaml's `stages:` section (the whole file's schema is composed in src/project/config.ts). */
export const stagesSchema = z
  .record(z.string().regex(STAGE_NAME), stageSchema, {
    error: (issue) => (issue.code === 'invalid_key' ? 'a stage name must be an identifier in kebab-case or snake_case, like generate-dataset or train_model' : undefined),
  })
  .describe('the stages, by name; the order between them comes from their deps and outs')

export type StageConfig = z.output<typeof stageSchema>

const digest = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a sha256 hex digest' })

export const stageRecordSchema = z.strictObject({
  cmd: z.string().describe('the command as it ran, arguments after -- included'),
  deps: z.record(z.string(), digest).default({}).describe('sha256 of each dep (a folder hashes its files)'),
  params: z.record(z.string(), z.unknown()).default({}).describe('the value of each declared params key, overrides applied'),
  overrides: z.record(z.string(), z.unknown()).optional().describe("--set overrides that touched this stage's params"),
  outs: z.record(z.string(), digest).default({}).describe('sha256 of each output after the run'),
  run_id: z.string().optional().describe('the run id of the metadata record the stage wrote in this run (a training), when it wrote one'),
  ran_at: z.string().describe('when the run started, ISO 8601'),
  duration_ms: z.number().describe('how long the command took'),
})

export const lockFileSchema = z
  .strictObject({
    schema_version: z.literal(1),
    stages: z.record(z.string(), stageRecordSchema).default({}),
  })
  .describe('mlskel.lock: the state of each stage at its last successful run, written by mlskel run')
