// Loading the pipeline: mlskel.yaml read, validated and linked into a graph. What a run validated before is
// reused while mlskel.yaml, params.yaml, the overrides and mlskel itself are unchanged.
import { join } from 'node:path'
import type { YamlSource } from '../config/index.js'
import { MlskelError } from '../errors/index.js'
import { hashBytes } from '../hashing/index.js'
import type { Overrides } from '../params/index.js'
// files.ts, not the project's index: this is the no-op run's fast path, which loads neither zod nor YAML
import { PARAMS_FILE, PROJECT_FILE, readProjectText, readYamlText } from '../project/files.js'
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
  const [text, paramsText] = await Promise.all([readProjectText(root), readYamlText(join(root, PARAMS_FILE), PARAMS_FILE)])
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
    source ??= (await import('../project/index.js')).projectSource(text)
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
