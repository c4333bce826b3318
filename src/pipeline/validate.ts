// The full check of mlskel.yaml: its schema (zod), its graph, and its stages' params against params.yaml. This is
// the slow path of loading, imported only when the files changed since the last run that validated them.
import type { YamlSource } from '../config/index.js'
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import { isNode } from 'yaml'
import type { Overrides } from '../params/index.js'
import { normalizeExternal, PARAMS_FILE, parseProjectConfig, PROJECT_FILE, readParamsYaml } from '../project/index.js'
import { isAbsolute, resolve, sep } from 'node:path'
import { buildGraph, type Stage } from './graph.js'
import { isProjectPath, normalizeProjectPath } from './schema.js'

export interface ValidatedPipeline {
  source: YamlSource
  /** In declaration order. */
  stages: Stage[]
  paramValues: Record<string, unknown>
  checks: Record<string, unknown> | undefined
}

export async function validatePipeline(root: string, text: string, overrides: Overrides): Promise<ValidatedPipeline> {
  const { source, config } = parseProjectConfig(text)
  const stages = Object.entries(config.stages).map(([name, stage], index): Stage => ({
    name,
    index,
    cmd: stage.cmd,
    deps: (stage.deps ?? []).map(normalizeProjectPath),
    params: stage.params ?? [],
    outs: (stage.outs ?? []).map(normalizeProjectPath),
    ...(stage.stop_grace_s !== undefined ? { stopGraceS: stage.stop_grace_s } : {}),
  }))
  checkExternal(root, source, stages, (config.external ?? []).map(normalizeExternal))
  buildGraph(stages, (path) => source.lineOf(path))

  // params.yaml is read only when something needs it, and only for the keys the stages declare: what the values must
  // be is the project's to say (its stages validate params.yaml when they load it), not the pipeline's
  const paramValues: Record<string, unknown> = {}
  if (stages.some((s) => s.params.length > 0) || Object.keys(overrides).length > 0) {
    const params = await readParamsYaml(root, overrides)
    for (const stage of stages) {
      stage.params.forEach((key, i) => {
        const value = params.doc.getIn(key.split('.'))
        if (value === undefined) {
          const known = Object.keys((params.data ?? {}) as Record<string, unknown>)
          throw new MlskelError('MLSKEL_PIPELINE_UNKNOWN_PARAM', `stage ${quote(stage.name)} lists param ${quote(key)}, which ${PARAMS_FILE} does not have.${didYouMean(key.split('.')[0]!, known)}`, {
            where: { file: PROJECT_FILE, line: source.lineOf(['stages', stage.name, 'params', i]), field: `stages.${stage.name}.params[${i}]` },
          })
        }
        // YAML nodes become plain values
        paramValues[key] = JSON.parse(JSON.stringify(isNode(value) ? value.toJSON() : value)) ?? null
      })
    }
  }
  return { source, stages, paramValues, checks: config.checks }
}

/**
 * Deps outside the project must be declared external inputs, and every external input must be some stage's dep: its
 * hash is what makes the stage that reads it run again when it changes. An external input holding the project would
 * hash the project itself.
 */
function checkExternal(root: string, source: YamlSource, stages: readonly Stage[], external: readonly string[]): void {
  external.forEach((path, i) => {
    const abs = resolve(path)
    if (abs === resolve(root) || resolve(root).startsWith(`${abs === sep ? '' : abs}${sep}`)) {
      throw new MlskelError('MLSKEL_PIPELINE_INVALID', `external input ${quote(path)} holds the project itself: an external input is data outside the project`, {
        where: { file: PROJECT_FILE, line: source.lineOf(['external', i]), field: `external[${i}]` },
      })
    }
  })
  for (const stage of stages) {
    stage.deps.forEach((dep, i) => {
      if (isProjectPath(dep) || external.includes(dep)) return
      const where = { file: PROJECT_FILE, line: source.lineOf(['stages', stage.name, 'deps', i]), field: `stages.${stage.name}.deps[${i}]` }
      if (isAbsolute(dep)) {
        throw new MlskelError('MLSKEL_PIPELINE_EXTERNAL_UNDECLARED', `stage ${quote(stage.name)} reads ${quote(dep)}, outside the project, which mlskel.yaml does not declare under \`external:\``, { where })
      }
      throw new MlskelError('MLSKEL_PIPELINE_INVALID', `stage ${quote(stage.name)} dep ${quote(dep)} must be a path inside the project, relative to its root, with / separators (no ..), or an external input's absolute path, declared under \`external:\``, { where })
    })
  }
  external.forEach((path, i) => {
    if (stages.some((stage) => stage.deps.includes(path))) return
    throw new MlskelError('MLSKEL_PIPELINE_EXTERNAL_UNUSED', `external input ${quote(path)} is read by no stage: no stage lists it under \`deps\`, so a change in it would run nothing again`, {
      where: { file: PROJECT_FILE, line: source.lineOf(['external', i]), field: `external[${i}]` },
    })
  })
}
