// Typed settings from .env and the environment, with defaults; a bad value names its variable and where it was set.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { LOG_FORMATS } from '../logging/index.js'
import { z } from 'zod'
import { MlskelError, quote } from '../errors/index.js'
import { findProjectRoot } from '../project/files.js'

export { PROJECT_FILE, findProjectRoot } from '../project/files.js'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** The settings every mlskel project has. Extend it in the project's src/settings.ts for your own. */
export const settingsSchema = z.object({
  DATA_RAW: z.string().min(1).default('data/raw').describe('immutable input data'),
  DATA_STAGING: z.string().min(1).default('data/staging').describe('typed, validated, de-duplicated copies'),
  DATA_TRANSFORMED: z.string().min(1).default('data/transformed').describe('model-ready features and the train/test split'),
  DATA_PREDICTIONS: z.string().min(1).default('data/predictions').describe('prediction outputs'),
  MODEL_DIR: z.string().min(1).default('models').describe('one folder per trained model'),
  MODEL_METADATA_DIR: z.string().min(1).default('models/metadata').describe('one JSON record per training run'),
  API_HOST: z.string().min(1).default('0.0.0.0').describe('address the prediction API listens on'),
  API_PORT: z.coerce.number().int().min(1).max(65535).default(5000).describe('port the prediction API listens on'),
  API_TOKEN: z.string().optional().describe('when set (and not empty), the prediction API\'s /predict and /invocations need `Authorization: Bearer <API_TOKEN>`; health, readiness and metrics stay open'),
  API_MAX_ROWS: z.coerce.number().int().min(1).default(10_000).describe('most rows the prediction API takes in one request (more: 413)'),
  API_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1000).describe('most connections the prediction API holds open; a new one past it closes the oldest one not being answered, so the server keeps answering (health probes too) under a flood of connections'),
  API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000).describe('milliseconds a request (headers and body) has to arrive whole at the prediction API (later: 408, connection closed)'),
  API_ERROR_DETAILS: z.stringbool().optional().describe('whether the prediction API\'s error answers list each problem ({row, field, problem}); default true, false when NODE_ENV=production'),
  LOG_LEVEL: z.enum(logLevels).default('warn').describe('pino log level'),
  LOG_FORMAT: z.enum(LOG_FORMATS).optional().describe('log lines as readable text or JSON; unset: text on a terminal, JSON otherwise (CI, containers, log collectors)'),
})

export type Settings = z.output<typeof settingsSchema>

export interface LoadSettingsOptions {
  /** Project root; found from the current folder when absent. */
  root?: string
  env?: NodeJS.ProcessEnv
}

/**
 * Read settings: variables set in the environment win over those in the project's .env, which win over the
 * schema's defaults. Only the schema's keys are read.
 */
export function loadSettings<S extends z.ZodObject>(schema: S = settingsSchema as unknown as S, options: LoadSettingsOptions = {}): z.output<S> {
  const root = options.root ?? findProjectRoot()
  const envFile = join(root, '.env')
  const fileText = existsSync(envFile) ? readFileSync(envFile, 'utf8') : ''
  const fromFile = fileText ? parseEnv(fileText) : {}
  const env = options.env ?? process.env
  const input: Record<string, string | undefined> = {}
  for (const key of Object.keys(schema.shape)) input[key] = env[key] ?? (fromFile as Record<string, string | undefined>)[key]
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]!
  const key = String(issue.path[0])
  const inEnv = env[key] !== undefined
  const line = inEnv ? undefined : fileText.split('\n').findIndex((l) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=`).test(l)) + 1 || undefined
  throw new MlskelError('MLSKEL_SETTINGS_INVALID', `${key}=${quote(input[key])} (from ${inEnv ? 'the environment' : '.env'}): ${issue.message}`, {
    where: inEnv ? { field: key } : { file: '.env', line, field: key },
  })
}

export interface ProjectPaths {
  root: string
  raw: string
  staging: string
  transformed: string
  predictions: string
  models: string
  metadata: string
  /** mlskel's own state (hash cache, run lock): not committed. */
  state: string
}

/** Absolute paths of the project's folders, from its settings. */
export function projectPaths(root: string, settings: Pick<Settings, 'DATA_RAW' | 'DATA_STAGING' | 'DATA_TRANSFORMED' | 'DATA_PREDICTIONS' | 'MODEL_DIR' | 'MODEL_METADATA_DIR'>): ProjectPaths {
  return {
    root,
    raw: resolve(root, settings.DATA_RAW),
    staging: resolve(root, settings.DATA_STAGING),
    transformed: resolve(root, settings.DATA_TRANSFORMED),
    predictions: resolve(root, settings.DATA_PREDICTIONS),
    models: resolve(root, settings.MODEL_DIR),
    metadata: resolve(root, settings.MODEL_METADATA_DIR),
    state: join(root, '.mlskel'),
  }
}
