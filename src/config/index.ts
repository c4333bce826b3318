// YAML files validated by zod schemas, with errors that point at the file, the line and the field; and YAML written.
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml'
import type { z } from 'zod'
import { MlskelError, didYouMean, quote, type ErrorCode, fieldPath } from '../errors/index.js'
import { MAX_YAML_BYTES, readYamlText, yamlTooLarge } from '../project/files.js'

export type Path = readonly (string | number)[]

/**
 * YAML's stringify, for the modules that load this one lazily (mlskel.lock's writer): a dynamic import('yaml') of
 * the bundled CommonJS package would give its default export only.
 */
export { stringify as stringifyYaml } from 'yaml'

/** A parsed YAML file that remembers where each value came from. */
export class YamlSource {
  constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  get data(): unknown {
    return toJS(this.doc, this.file)
  }

  /** The 1-based line of the value at `path`, or of the nearest ancestor that exists. */
  lineOf(path: Path): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined
      if (node?.range) return this.lines.linePos(node.range[0]).line
    }
    return undefined
  }

  /** The line of a key in the map at `path` (for unknown keys, which have no value node of their own). */
  lineOfKey(path: Path, key: string): number | undefined {
    const parent = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true)
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isScalar(item.key) && item.key.value === key && item.key.range) return this.lines.linePos(item.key.range[0]).line
      }
    }
    return this.lineOf(path)
  }
}

/** Aliases expanded per document at most (yaml's guard against "billion laughs"). */
const MAX_ALIAS_COUNT = 100

export async function readYaml(file: string, displayName = file): Promise<YamlSource> {
  const text = await readYamlText(file, displayName)
  if (text === undefined) throw new MlskelError('MLSKEL_FILE_MISSING', `${displayName} does not exist`, { where: { file: displayName } })
  return parseYaml(text, displayName)
}

export function parseYaml(text: string, displayName: string): YamlSource {
  if (Buffer.byteLength(text) > MAX_YAML_BYTES) throw yamlTooLarge(displayName, Buffer.byteLength(text))
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const first = doc.errors[0]
  if (first) {
    const line = lines.linePos(first.pos[0]).line
    throw new MlskelError('MLSKEL_YAML_SYNTAX', `${displayName} is not valid YAML: ${first.message.split('\n')[0]}`, { where: { file: displayName, line } })
  }
  const source = new YamlSource(displayName, doc, lines)
  // expanded once here, so that an alias bomb is refused as the file is read, with its name
  toJS(doc, displayName)
  return source
}

/** The document as plain data, with aliases expanded at most MAX_ALIAS_COUNT times. */
function toJS(doc: Document.Parsed, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (error) {
    if (error instanceof ReferenceError) {
      throw new MlskelError('MLSKEL_YAML_SYNTAX', `its aliases (*name) expand too many times (${error.message}); mlskel expands at most ${MAX_ALIAS_COUNT}`, { where: { file }, fix: 'Write the values out instead of nesting aliases of aliases.' })
    }
    throw error
  }
}

/** Dotted field name for messages: dataset.features[2]. */
export const fieldName = (path: Path): string => fieldPath(path)

/**
 * Validate `source` against `schema`; on failure throw `code` naming the first problem's file, line and field,
 * with every problem listed in the message.
 */
export function validateYaml<S extends z.ZodType>(source: YamlSource, schema: S, code: ErrorCode): z.output<S> {
  const result = schema.safeParse(source.data ?? {})
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => describeIssue(source, schema, issue))
  const [first] = problems
  const more = problems.length > 1 ? `\n${problems.slice(1).map((p) => `  also ${source.file}:${p.line ?? '?'} ${p.field}: ${p.text}`).join('\n')}` : ''
  throw new MlskelError(code, `${first!.text}${more}`, { where: { file: source.file, line: first!.line, field: first!.field || undefined } })
}

interface Problem {
  field: string
  line: number | undefined
  text: string
}

function describeIssue(source: YamlSource, schema: z.ZodType, issue: z.core.$ZodIssue): Problem {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!
    const known = objectKeysAt(schema, path, source.data)
    return {
      field: fieldName([...path, key]),
      line: source.lineOfKey(path, key),
      text: `unknown key ${quote(key)}${issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).map((k) => quote(k)).join(', ')})` : ''}.${known ? didYouMean(key, known) : ''}`,
    }
  }
  const value = source.doc.getIn(path)
  const got = value === undefined ? 'it is missing' : `got ${quote(value)}`
  return { field: fieldName(path), line: source.lineOf(path), text: `${issue.message} (${got})` }
}

/**
 * The keys an object schema declares at `path`, looking through defaults, optionals, arrays, records, and
 * discriminated unions (the option the data's discriminator picks: params.yaml's `model:` by its `type`).
 */
function objectKeysAt(schema: z.ZodType, path: Path, data: unknown): string[] | undefined {
  let def: z.core.$ZodTypeDef | undefined = pickOption(unwrap(schema), data)
  let value = data
  for (const part of path) {
    if (!def) return undefined
    if (def.type === 'object') def = unwrap((def as unknown as { shape: Record<string, z.ZodType> }).shape[part as string])
    else if (def.type === 'array') def = unwrap((def as unknown as { element: z.ZodType }).element)
    else if (def.type === 'record') def = unwrap((def as unknown as { valueType: z.ZodType }).valueType)
    else return undefined
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[part] : undefined
    def = def && pickOption(def, value)
  }
  return def?.type === 'object' ? Object.keys((def as unknown as { shape: Record<string, unknown> }).shape) : undefined
}

/** A discriminated union's option for `value` (by its discriminator; absent: the option that defaults it), else `def`. */
function pickOption(def: z.core.$ZodTypeDef, value: unknown): z.core.$ZodTypeDef | undefined {
  if (def.type !== 'union') return def
  const { options, discriminator } = def as unknown as { options: z.ZodType[]; discriminator?: string }
  if (!discriminator) return undefined
  const wanted = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : undefined
  for (const option of options) {
    const optionDef = unwrap(option)
    const key = (optionDef as unknown as { shape?: Record<string, z.ZodType> }).shape?.[discriminator]
    const keyDef = (key as unknown as { _zod: { def: z.core.$ZodTypeDef } } | undefined)?._zod.def
    if (!keyDef) continue
    if (wanted === undefined ? keyDef.type === 'default' : (unwrap(key) as unknown as { values?: unknown[] }).values?.includes(wanted)) return optionDef
  }
  return undefined
}

function unwrap(schema: z.ZodType | undefined): z.core.$ZodTypeDef {
  let def = (schema as unknown as { _zod: { def: z.core.$ZodTypeDef } } | undefined)?._zod.def
  while (def && (def.type === 'default' || def.type === 'optional' || def.type === 'nullable' || def.type === 'prefault' || def.type === 'pipe')) {
    const inner = def.type === 'pipe' ? (def as unknown as { in: z.ZodType }).in : (def as unknown as { innerType: z.ZodType }).innerType
    def = (inner as unknown as { _zod: { def: z.core.$ZodTypeDef } })._zod.def
  }
  return def as z.core.$ZodTypeDef
}
