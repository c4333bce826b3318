// Prediction metadata (the ancestor's PredictionMetadata): which model predicted what input into what output, how
// many rows and how fast. One record beside the predictions, <output stem>.json, checked by its own zod schema
// (published as schema/prediction.schema.json).
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { z } from 'zod'
import { describeIssues, MlskelError } from '../errors/index.js'
import { writeFileAtomic } from '../fs/index.js'

export const PREDICTION_SCHEMA_VERSION = 1

const sha256 = z.string().regex(/^[0-9a-f]{64}$/)

export const predictionRecordSchema = z
  .looseObject({
    schema_version: z.literal(PREDICTION_SCHEMA_VERSION).describe('version of this record format'),
    event: z.literal('prediction').describe('what the record (and the log line) is about'),
    timestamp: z.iso.datetime().describe('when the record was written (ISO 8601, UTC)'),
    model_id: z.string().regex(/^[0-9a-f]{16}$/).describe('the model that predicted'),
    input: z.string().min(1).describe('the input file: relative to the project root (with / separators) when inside it, else absolute'),
    input_sha256: sha256.describe('SHA-256 of the input file: the input\'s identifier'),
    output: z.string().min(1).describe('the predictions file: relative to the project root when inside it, else absolute'),
    output_sha256: sha256.describe('SHA-256 of the predictions file: the output\'s identifier'),
    rows: z.int().min(0).describe('rows predicted'),
    seconds: z.number().min(0).describe('seconds the prediction took, reading and writing included'),
  })
  .describe('mlskel prediction metadata record: which model predicted what')

export type PredictionRecord = z.output<typeof predictionRecordSchema>

export interface RecordPredictionOptions {
  /** The project root; paths inside it are recorded relative to it. */
  root: string
  modelId: string
  /** The input file (absolute, or relative to root). */
  input: string
  inputSha256: string
  /** The predictions file (absolute, or relative to root). */
  output: string
  outputSha256: string
  rows: number
  seconds: number
  /** Where the record goes; default the output's folder. */
  outputDir?: string
}

/**
 * Write the metadata of a prediction to <outputDir>/<output stem>.json (atomically; <output name>.json when the
 * output itself is a .json file, so it is never overwritten) and return it. An invalid record is refused
 * (MLSKEL_METADATA_INVALID naming the field) and nothing is written.
 */
export async function recordPrediction(o: RecordPredictionOptions): Promise<PredictionRecord> {
  const output = resolve(o.root, o.output)
  const draft = {
    schema_version: PREDICTION_SCHEMA_VERSION,
    event: 'prediction',
    timestamp: new Date().toISOString(),
    model_id: o.modelId,
    input: label(o.root, o.input),
    input_sha256: o.inputSha256,
    output: label(o.root, o.output),
    output_sha256: o.outputSha256,
    rows: o.rows,
    seconds: o.seconds,
  }
  const parsed = predictionRecordSchema.safeParse(draft)
  if (!parsed.success) {
    const { field, text } = describeIssues(parsed.error)
    throw new MlskelError('MLSKEL_METADATA_INVALID', `the prediction record for ${draft.output} is invalid: ${text}`, { where: { field } })
  }
  await writeFileAtomic(predictionRecordPath(output, o.outputDir), `${JSON.stringify(parsed.data, null, 2)}\n`)
  return parsed.data
}

/** Where recordPrediction puts the record of the predictions in `output`. */
export function predictionRecordPath(output: string, outputDir: string = dirname(output)): string {
  const name = basename(output)
  const extension = extname(name)
  return join(outputDir, extension.toLowerCase() === '.json' ? `${name}.json` : `${basename(name, extension)}.json`)
}

function label(root: string, path: string): string {
  const absolute = resolve(root, path)
  const inside = relative(root, absolute)
  if (inside && !inside.startsWith('..') && !isAbsolute(inside)) return inside.split(sep).join('/')
  return absolute
}
