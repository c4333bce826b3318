// Loading the pipeline: mlskel.yaml read, validated and linked into a graph. What a run validated before is
// reused while mlskel.yaml, params.yaml, the overrides and mlskel itself are unchanged.
import { readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { YamlSource } from '../config/index.js'
import { MlskelError } from '../errors/index.js'
import { hashBytes } from '../hashing/index.js'
import type { Overrides } from '../params/index.js'
import { MAX_YAML_BYTES, PARAMS_FILE, PROJECT_FILE } from '../settings/root.js'
import { MLSKEL_VERSION, type StateCache } from './cache.js'
import { buildGraph, type Pipeline, type Stage } from './graph.js'

export interface LoadPipelineOptions {
  /** params.yaml overrides (`--set`), applied before the stages' params are read. */
  overrides?: Overrides
  /** What earlier runs validated; when given, it is used and updated (the caller saves it). */
  cache?: StateCache
}

/** Read, validate and link mlskel.yaml at `root`; any structural problem throws with its file and line. */
export async function loadPipeline(root: string, options: LoadPipelineOptions = {}): Promise<Pipeline> {
  const overrides = options.overrides ?? {}
  const [text, paramsText] = await Promise.all([readText(join(root, PROJECT_FILE)), readText(join(root, PARAMS_FILE))])
  if (text === undefined) {
    throw new MlskelError('MLSKEL_FILE_MISSING', `${PROJECT_FILE} does not exist in ${root}; it declares the pipeline's stages`, {
      where: { file: PROJECT_FILE },
      fix: 'Run the command in an mlskel project, or add mlskel.yaml with a `stages:` map (`mlskel init` adds one).',
    })
  }
  const key = hashBytes(JSON.stringify([MLSKEL_VERSION, text, paramsText ?? null, Object.entries(overrides).sort(([a], [b]) => (a < b ? -1 : 1))]))

  let source: YamlSource | undefined
  let cached = options.cache?.pipeline?.key === key ? options.cache.pipeline : undefined
  if (!cached) {
    const { validatePipeline } = await import('./validate.js')
    const validated = await validatePipeline(root, text, overrides)
    source = validated.source
    cached = { key, stages: validated.stages, paramValues: validated.paramValues, ...(validated.checks ? { checks: validated.checks } : {}) }
    options.cache?.setPipeline(cached)
  }
  const parsed = async (): Promise<YamlSource> => {
    source ??= (await import('../config/index.js')).parseYaml(text, PROJECT_FILE)
    return source
  }
  const declared: Stage[] = cached.stages
  const graph = buildGraph(declared, () => undefined)
  return {
    root,
    stages: graph.order,
    declared: declared.map((s) => s.name),
    byName: new Map(declared.map((s) => [s.name, s])),
    upstream: graph.upstream,
    downstream: graph.downstream,
    paramValues: cached.paramValues,
    checks: cached.checks,
    lineOf: async (path) => (await parsed()).lineOf(path),
    lineOfKey: async (path, key) => (await parsed()).lineOfKey(path, key),
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    const size = (await stat(path)).size
    if (size > MAX_YAML_BYTES) {
      throw new MlskelError('MLSKEL_YAML_TOO_LARGE', `${basename(path)} is ${(size / 1024 / 1024).toFixed(1)} MiB; mlskel reads YAML files of at most ${MAX_YAML_BYTES / 1024 / 1024} MiB`, { where: { file: basename(path) } })
    }
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
