// The JSON Schemas mlskel publishes in schema/, generated from the zod schemas that validate each file format.
// `npm run schemas` writes them; a test keeps the published files equal to what the code would generate.
import { z } from 'zod'
import { checkReportSchema } from '../check/index.js'
import { metadataRecordSchema, predictionRecordSchema } from '../metadata/index.js'
import { paramsSchema } from '../params/index.js'
import { projectConfigSchema } from '../project/index.js'

const sources: Record<string, { schema: z.ZodType; title: string }> = {
  'mlskel.schema.json': { schema: projectConfigSchema, title: 'mlskel.yaml' },
  'params.schema.json': { schema: paramsSchema(), title: 'params.yaml' },
  'metadata.schema.json': { schema: metadataRecordSchema, title: 'mlskel model metadata record' },
  'prediction.schema.json': { schema: predictionRecordSchema, title: 'mlskel prediction metadata record' },
  'check.schema.json': { schema: checkReportSchema, title: 'mlskel check --json report' },
}

/** File name → JSON Schema (draft 2020-12) of the format as a user writes it (defaults optional). */
export function publishedSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(sources).map(([file, { schema, title }]) => [file, { title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) }]),
  )
}
