// The pipeline as a graph: stages linked by the paths they read and write, in a stable topological order, and
// the selection of what a run considers. Structural errors name their line in mlskel.yaml.
import { MlskelError, didYouMean, quote } from '../errors/index.js'
import { PROJECT_FILE } from '../project/files.js'

export interface Stage {
  name: string
  /** Position in mlskel.yaml: breaks ties between independent stages. */
  index: number
  cmd: string
  /** Normalized project-relative paths. */
  deps: string[]
  params: string[]
  outs: string[]
  /** Seconds between SIGTERM and SIGKILL for the stage outliving its run (mlskel.yaml's stop_grace_s); default when absent. */
  stopGraceS?: number
}

/** `stage` depends on `on` because its dep `dep` equals, lies inside or contains the out `out` of `on`. */
export interface Edge {
  stage: string
  on: string
  dep: string
  out: string
}

export interface Pipeline {
  root: string
  /** Every stage, in topological order (declaration order among independent stages). */
  stages: Stage[]
  /** Stage names in the order mlskel.yaml declares them. */
  declared: string[]
  byName: Map<string, Stage>
  /** For each stage, the edges to the stages it depends on. */
  upstream: Map<string, Edge[]>
  /** For each stage, the stages that depend on it. */
  downstream: Map<string, string[]>
  /** The value of every params key a stage declares, from params.yaml with overrides and defaults applied. */
  paramValues: Record<string, unknown>
  /** mlskel.yaml's `checks`, for `mlskel check`. */
  checks: Record<string, unknown> | undefined
  /** The line in mlskel.yaml of the value at `path` (the file is parsed on first use, for messages only). */
  lineOf(path: readonly (string | number)[]): Promise<number | undefined>
  /** The line in mlskel.yaml of `key` in the map at `path`. */
  lineOfKey(path: readonly (string | number)[], key: string): Promise<number | undefined>
}

export type LineOf = (path: readonly (string | number)[]) => number | undefined

/** Whether two project paths are the same, or one lies inside the other. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)
}

export interface Graph {
  order: Stage[]
  upstream: Map<string, Edge[]>
  downstream: Map<string, string[]>
}

/**
 * Link the stages by their paths and order them. Throws, with the line from `lineOf`, when a stage reads its own
 * outputs, when two outputs overlap, or when the stages form a cycle.
 */
export function buildGraph(declared: readonly Stage[], lineOf: LineOf): Graph {
  const at = (path: (string | number)[], field: string) => ({ file: PROJECT_FILE, line: lineOf(path), field })

  // 1. a stage reading its own outputs would never be up to date
  for (const stage of declared) {
    stage.deps.forEach((dep, i) => {
      const out = stage.outs.find((o) => overlaps(dep, o))
      if (out !== undefined) {
        throw new MlskelError('MLSKEL_PIPELINE_CYCLE', `stage ${quote(stage.name)} depends on its own output: dep ${quote(dep)} ${relation(dep, out)} out ${quote(out)}`, {
          where: at(['stages', stage.name, 'deps', i], `stages.${stage.name}.deps[${i}]`),
        })
      }
    })
  }

  // 2. every output belongs to one stage
  const outs = declared.flatMap((stage) => stage.outs.map((out, i) => ({ stage: stage.name, out, i })))
  for (let j = 0; j < outs.length; j++) {
    for (let k = 0; k < j; k++) {
      const [a, b] = [outs[k]!, outs[j]!]
      if (!overlaps(a.out, b.out)) continue
      const message =
        a.stage === b.stage
          ? `stage ${quote(a.stage)} lists ${a.out === b.out ? `output ${quote(a.out)} twice` : `outputs ${quote(a.out)} and ${quote(b.out)}, one inside the other`}`
          : a.out === b.out
            ? `stages ${quote(a.stage)} and ${quote(b.stage)} both write ${quote(a.out)}`
            : `stage ${quote(a.stage)} writes ${quote(a.out)} and stage ${quote(b.stage)} writes ${quote(b.out)}, one inside the other`
      throw new MlskelError('MLSKEL_PIPELINE_DUPLICATE_OUTPUT', message, {
        where: at(['stages', b.stage, 'outs', b.i], `stages.${b.stage}.outs[${b.i}]`),
      })
    }
  }

  // 3. edges, from paths
  const upstream = new Map<string, Edge[]>(declared.map((s) => [s.name, []]))
  const downstream = new Map<string, string[]>(declared.map((s) => [s.name, []]))
  for (const stage of declared) {
    for (const other of declared) {
      const edge = other === stage ? undefined : firstOverlap(stage, other)
      if (edge) {
        upstream.get(stage.name)!.push(edge)
        downstream.get(other.name)!.push(stage.name)
      }
    }
  }

  // 4. order, or the cycle that prevents one
  const order = topologicalOrder(declared, upstream)
  if (order.length < declared.length) {
    const placed = new Set(order.map((s) => s.name))
    throw cycleError(declared.filter((s) => !placed.has(s.name)), upstream, lineOf)
  }
  return { order, upstream, downstream }
}

function relation(a: string, b: string): string {
  return a === b ? 'is' : a.startsWith(`${b}/`) ? 'lies inside' : 'contains'
}

function firstOverlap(stage: Stage, on: Stage): Edge | undefined {
  for (const dep of stage.deps) {
    for (const out of on.outs) {
      if (overlaps(dep, out)) return { stage: stage.name, on: on.name, dep, out }
    }
  }
  return undefined
}

/** Kahn's algorithm, always taking the ready stage declared first, so the order is stable and readable. */
function topologicalOrder(stages: readonly Stage[], upstream: Map<string, Edge[]>): Stage[] {
  const order: Stage[] = []
  const done = new Set<string>()
  for (;;) {
    const next = stages.find((s) => !done.has(s.name) && upstream.get(s.name)!.every((e) => done.has(e.on)))
    if (!next) return order
    order.push(next)
    done.add(next.name)
  }
}

/** Walk upstream edges among the stages left unordered until one repeats: that loop is the cycle to show. */
function cycleError(left: Stage[], upstream: Map<string, Edge[]>, lineOf: LineOf): MlskelError {
  const leftNames = new Set(left.map((s) => s.name))
  const walk: Edge[] = []
  const seen = new Map<string, number>()
  let current = left[0]!.name
  while (!seen.has(current)) {
    seen.set(current, walk.length)
    // every stage left unordered waits on at least one other stage left unordered
    const edge = upstream.get(current)!.find((e) => leftNames.has(e.on))!
    walk.push(edge)
    current = edge.on
  }
  let cycle = walk.slice(seen.get(current))
  // start at the stage declared first, so the message does not depend on where the walk began
  const position = new Map(left.map((s, i) => [s.name, i]))
  const start = cycle.reduce((best, e, i) => (position.get(e.stage)! < position.get(cycle[best]!.stage)! ? i : best), 0)
  cycle = [...cycle.slice(start), ...cycle.slice(0, start)]
  const names = [...cycle.map((e) => e.stage), cycle[0]!.stage]
  const why = cycle.map((e) => `${quote(e.stage)} reads ${quote(e.dep)}, written by ${quote(e.on)}`).join('; ')
  const first = cycle[0]!
  const depIndex = left.find((s) => s.name === first.stage)!.deps.indexOf(first.dep)
  return new MlskelError('MLSKEL_PIPELINE_CYCLE', `stages depend on each other in a cycle: ${names.join(' → ')} (${why})`, {
    where: { file: PROJECT_FILE, line: lineOf(['stages', first.stage, 'deps', depIndex]), field: `stages.${first.stage}.deps[${depIndex}]` },
  })
}

export interface Selection {
  /** The stages to consider, in run order. */
  stages: Stage[]
  /** The stages named (all stages when none were named). */
  targets: Set<string>
}

/** The named stages (all when none), their upstream stages and, with `downstream`, the stages depending on them. */
export async function selectStages(pipeline: Pipeline, names: readonly string[], options: { downstream?: boolean } = {}): Promise<Selection> {
  for (const name of names) {
    if (!pipeline.byName.has(name)) {
      const known = pipeline.declared
      throw new MlskelError('MLSKEL_PIPELINE_UNKNOWN_STAGE', `no stage named ${quote(name)} in ${PROJECT_FILE} (stages: ${known.join(', ') || 'none'}).${didYouMean(name, known)}`, {
        where: { file: PROJECT_FILE, line: await pipeline.lineOfKey([], 'stages') },
      })
    }
  }
  const targets = new Set(names.length > 0 ? names : pipeline.declared)
  const wanted = new Set<string>(targets)
  if (options.downstream) {
    const queue = [...targets]
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      for (const next of pipeline.downstream.get(name)!) {
        if (!wanted.has(next)) queue.push(next)
        wanted.add(next)
      }
    }
  }
  const chosen = new Set<string>()
  const addWithUpstream = (name: string): void => {
    if (chosen.has(name)) return
    chosen.add(name)
    for (const edge of pipeline.upstream.get(name)!) addWithUpstream(edge.on)
  }
  for (const name of wanted) addWithUpstream(name)
  return { stages: pipeline.stages.filter((s) => chosen.has(s.name)), targets }
}
