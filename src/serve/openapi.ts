// The prediction API described as OpenAPI 3.1, schema first: every route declares its schema (what it takes, what it
// answers, in which words), @fastify/swagger's dynamic mode makes the document of the routes, and the routes' answers
// are serialized by Fastify from the same response schemas. The request and answer schemas are shared schemas
// (components), generic until a model is served; the served model's replace them in the document: its inputs in order,
// each by its type (a number with its training range, a boolean, a category with the categories seen in training, a
// date), its classes, and an example request. Made again when the model changes, so /docs always shows what is served.
//
// Each input's schema in the document is the one its request validators compile (validate.ts, the encoder's
// valueSchemaOf), annotated: a description, and examples (a number's training range, a category's categories seen in
// training). The range and the categories are information, not limits: the server accepts values outside the range
// (drift is for monitoring to judge) and categories never seen in training (predicted as missing values), and every
// input takes null (a missing value); so the document says, and its schemas take the same values the server does.
import type { FastifyInstance, FastifySchema } from 'fastify'
import { valueSchemaOf, type InputField } from '../data/index.js'
import type { FeatureSpec } from '../models/index.js'
import type { ServedModel } from './model-holder.js'

export interface OpenApiOptions {
  /** The server's (mlskel's) version. */
  version: string
  /** The most rows a request may hold (more: 413). */
  maxRows: number
  /** Whether prediction routes take a bearer token (API_TOKEN). */
  auth: boolean
  /** The API's name (the project's); default "mlskel prediction API". */
  title?: string
}

type Schema = Record<string, unknown>

/** The shared schemas, by the name the document's components give them (and their $id in Fastify). */
export const COMPONENTS = ['Row', 'Record', 'PredictRequest', 'PredictResponse', 'InvocationsRequest', 'InvocationsResponse', 'Error'] as const
export type ComponentName = (typeof COMPONENTS)[number]

/** A reference to a shared schema: by $id among Fastify's shared schemas, or within the document. */
type Ref = (name: ComponentName) => Schema
const sharedRef: Ref = (name) => ({ $ref: `${name}#` })
const documentRef: Ref = (name) => ({ $ref: `#/components/schemas/${name}` })

/** Any raw value, before a model says which. */
const ANY_VALUE: Schema = { type: ['number', 'string', 'boolean', 'null'] }

/**
 * The schemas the routes refer to, with no model (for app.addSchema): each with its name as $id. In the document,
 * componentSchemas' replace them; what they do besides is serialize the answers (Fastify compiles the routes' response
 * schemas with fast-json-stringify), so they hold every key an answer has. An answer's arrays (predictions,
 * probabilities) are left to JSON.stringify whole: measured, fast-json-stringify's code per value takes two to four
 * times as long for 100 rows, and it throws on a NaN prediction, which JSON.stringify writes as null.
 */
export function sharedSchemas(maxRows: number): Schema[] {
  const schemas = componentSchemas(undefined, maxRows, sharedRef)
  const arraysWhole = (schema: Schema): Schema => ({
    ...schema,
    properties: Object.fromEntries(Object.entries(schema.properties as Record<string, Schema>).map(([key, value]) => [key, value.type === 'array' ? { description: value.description } : value])),
  })
  schemas.PredictResponse = arraysWhole(schemas.PredictResponse)
  schemas.InvocationsResponse = arraysWhole(schemas.InvocationsResponse)
  return COMPONENTS.map((name) => ({ $id: name, ...schemas[name] }))
}

/** The schemas of requests and answers for `model` (undefined: none loaded yet; generic then), by name. */
export function componentSchemas(model: ServedModel | undefined, maxRows: number, ref: Ref = documentRef): Record<ComponentName, Schema> {
  const names = model?.schema.names ?? []
  const inputs = model ? model.schema.fields.map((field) => describeInput(field, model)) : []
  const n = names.length
  const listed = inputs.map((input, i) => `${i}: ${names[i]} (${input.summary})`).join('; ')

  const row: Schema = model
    ? {
        type: 'array',
        description: `One row: ${n} values, the inputs in this order — ${listed}.`,
        prefixItems: inputs.map((input, i) => ({ title: names[i], ...input.schema })),
        minItems: n,
        maxItems: n,
      }
    : { type: 'array', description: 'One row: the inputs in the model\'s order (no model is loaded yet).', items: ANY_VALUE, minItems: 1 }
  const record: Schema = model
    ? {
        type: 'object',
        description: 'One row keyed by input name: every input, as the training data had it (null: a missing value).',
        properties: Object.fromEntries(inputs.map((input, i) => [names[i], input.schema])),
        required: names,
        additionalProperties: false,
      }
    : { type: 'object', description: 'One row keyed by input name (no model is loaded yet).', additionalProperties: ANY_VALUE }
  const rows = (description: string, items: Schema): Schema => ({ type: 'array', description, items, minItems: 1, maxItems: maxRows })
  const columns: Schema = {
    type: 'object',
    description: 'Columns: each input name mapped to its values, all of the same length.',
    ...(model ? { properties: Object.fromEntries(inputs.map((input, i) => [names[i], { type: 'array', items: input.schema, description: input.schema.description }])), required: names } : {}),
    additionalProperties: model ? false : { type: 'array', items: ANY_VALUE },
  }
  const answer: Schema =
    model?.classes !== undefined ? { description: 'a class label', enum: model.classes } : model ? { type: 'number', description: 'the predicted value' } : { type: ['string', 'number'] }
  const classes: Schema = model?.classes !== undefined ? { enum: model.classes } : { type: ['string', 'number'] }

  return {
    Row: row,
    Record: record,
    PredictRequest: {
      type: 'object',
      description: `\`features\`: one row (values in input order) or rows (arrays of them); or \`records\`: rows keyed by input name. Values are raw, as the training data had them; null is a missing value. At most ${maxRows} rows.`,
      properties: {
        features: { oneOf: [ref('Row'), rows('Rows, each in input order.', ref('Row'))] },
        records: { oneOf: [ref('Record'), rows('Rows keyed by input name.', ref('Record'))] },
        probabilities: { type: 'boolean', description: 'Classification: also answer the probability of each class, per row.', default: false },
      },
      oneOf: [{ required: ['features'] }, { required: ['records'] }],
      additionalProperties: false,
    },
    PredictResponse: {
      type: 'object',
      required: ['release', 'result', 'timing'],
      properties: {
        release: {
          type: 'object',
          required: ['model_id', 'git_commit'],
          properties: { model_id: { type: 'string', description: 'the model that answered' }, git_commit: { type: ['string', 'null'], description: 'the commit it was trained from' } },
        },
        result: { type: 'array', items: answer, description: 'one answer per row' },
        probabilities: {
          type: 'array',
          items: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
          description: `when asked for: per row, a probability per class${model?.classes ? `, in the order ${model.classes.map((c) => JSON.stringify(c)).join(', ')}` : ''}`,
        },
        classes: { type: 'array', items: classes, description: 'with probabilities: the classes, in their order' },
        timing: { type: 'number', description: 'seconds spent predicting' },
      },
    },
    InvocationsRequest: {
      description: `MLflow's scoring protocol: exactly one of the keys. At most ${maxRows} rows.`,
      oneOf: [
        {
          type: 'object',
          title: 'dataframe_split',
          required: ['dataframe_split'],
          additionalProperties: false,
          properties: {
            dataframe_split: {
              type: 'object',
              required: ['data'],
              additionalProperties: false,
              properties: {
                columns: { type: 'array', items: model ? { enum: names } : { type: 'string' }, description: 'the input names of the data\'s columns; absent: the model\'s input order' },
                data: rows('Rows, in the order of columns.', { type: 'array', items: ANY_VALUE, description: 'one row: each value as its input takes it (see Record)' }),
                index: { type: 'array', description: 'row labels (ignored)' },
              },
            },
          },
        },
        { type: 'object', title: 'dataframe_records', required: ['dataframe_records'], additionalProperties: false, properties: { dataframe_records: rows('Rows keyed by input name.', ref('Record')) } },
        { type: 'object', title: 'instances', required: ['instances'], additionalProperties: false, properties: { instances: { oneOf: [rows('Rows in input order.', ref('Row')), rows('Rows keyed by input name.', ref('Record')), columns] } } },
        { type: 'object', title: 'inputs', required: ['inputs'], additionalProperties: false, properties: { inputs: { oneOf: [rows('Rows in input order.', ref('Row')), rows('Rows keyed by input name.', ref('Record')), columns] } } },
      ],
    },
    InvocationsResponse: { type: 'object', required: ['predictions'], properties: { predictions: { type: 'array', items: answer, description: 'one answer per row' } } },
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', description: 'a stable MLSKEL_SERVE_* code' },
            message: { type: 'string', description: 'what is wrong, in words' },
            fix: { type: 'string', description: 'how to fix it' },
            details: {
              type: 'array',
              description: 'each problem found (hidden when the server runs with error details off)',
              items: {
                type: 'object',
                required: ['row', 'field', 'problem'],
                properties: { row: { type: ['integer', 'null'], description: '0-based row, when the problem is in one' }, field: { type: ['string', 'null'], description: 'the input or key' }, problem: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  }
}

/** The schemas of the routes (Fastify's route `schema`): what @fastify/swagger makes the document's paths of. */
export function routeSchemas(o: Pick<OpenApiOptions, 'maxRows' | 'auth'>) {
  const error = (description: string): Schema => ({ description, ...sharedRef('Error') })
  const predictionErrors = {
    400: error('Invalid input: a wrong number of values, unknown or missing names, a value its input does not take (a word for a number, a number for a date), no rows; or a body that is not valid JSON.'),
    ...(o.auth ? { 401: error('No bearer token, or a wrong one.') } : {}),
    413: error(`More than ${o.maxRows} rows, or a body larger than the server accepts.`),
    415: error('A Content-Type the route does not take.'),
    503: error('No model is loaded yet.'),
  }
  const security = o.auth ? { security: [{ bearer: [] }] } : {}
  // an object with the keys named, and whatever else an answer holds (serialized as it is)
  const object = (description: string, properties: Schema = {}): Schema => ({ description, type: 'object', properties, additionalProperties: true })
  const nullableString = { type: ['string', 'null'] }
  const health = (summary: string): FastifySchema => ({ summary, response: { 200: object('The server is alive.', { status: { type: 'string' } }) } })
  const ready = (summary: string): FastifySchema => ({
    summary,
    response: {
      200: object('A model is loaded.', { status: { type: 'string' }, model_id: { type: 'string' }, skipped_runs: { type: 'array', items: object('a newer run passed over', { run_id: { type: 'string' }, reason: { type: 'string' } }) } }),
      503: error('No model is loaded yet.'),
    },
  })
  return {
    predict: {
      summary: 'Predict rows (the mlskel request format)',
      operationId: 'predict',
      ...security,
      querystring: { type: 'object', properties: { probabilities: { type: 'boolean', description: 'Classification: also answer the probability of each class, per row (as the body\'s `probabilities`).' } } },
      body: { content: { 'application/json': { schema: sharedRef('PredictRequest') } } },
      response: { 200: { description: 'One answer per row.', ...sharedRef('PredictResponse') }, ...predictionErrors },
    },
    invocations: {
      summary: 'Predict rows (MLflow\'s scoring protocol)',
      operationId: 'invocations',
      ...security,
      body: {
        content: {
          'application/json': { schema: sharedRef('InvocationsRequest') },
          'text/csv': { schema: { type: 'string', description: csvDescription(o.maxRows) } },
        },
      },
      response: { 200: { description: 'One answer per row.', ...sharedRef('InvocationsResponse') }, ...predictionErrors },
    },
    health: health('Liveness'),
    livez: health('Liveness (alias of /health)'),
    ping: health('Liveness (alias of /health, as MLflow)'),
    ready: ready('Readiness: a model is loaded'),
    readyz: ready('Readiness (alias of /ready)'),
    version: {
      summary: 'Versions of the server and of the served model',
      response: { 200: object('Versions.', { mlskel: { type: 'string' }, node: { type: 'string' }, model_id: nullableString, run_id: nullableString, loaded_at: nullableString }) },
    },
    metadata: { summary: 'The served model\'s training record (models/metadata/<run_id>.json)', response: { 200: object('The record.'), 503: error('No model is loaded yet.') } },
    metrics: { summary: 'Prometheus metrics', response: { 200: { description: 'Metrics in the Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } } },
    openapi: { summary: 'This document', response: { 200: object('The OpenAPI 3.1 document.') } },
  } satisfies Record<string, FastifySchema>
}

/** @fastify/swagger's options for the document's frame: OpenAPI 3.1, the API's name, the bearer scheme. */
export function swaggerOptions(o: OpenApiOptions) {
  return {
    mode: 'dynamic' as const,
    openapi: {
      openapi: '3.1.0',
      info: { title: o.title ?? 'mlskel prediction API', version: o.version },
      ...(o.auth ? { components: { securitySchemes: { bearer: { type: 'http' as const, scheme: 'bearer', description: 'The API_TOKEN the server was started with.' } } } } : {}),
    },
    // shared schemas keep their names ($id) as the document's components
    refResolver: { buildLocalReference: (schema: { $id?: unknown }, _base: unknown, _fragment: unknown, i: number) => (typeof schema.$id === 'string' ? schema.$id : `def-${i}`) },
  }
}

/**
 * The OpenAPI 3.1 document of the API serving `model` (undefined: none loaded yet; the schemas are then generic):
 * the document @fastify/swagger made of `app`'s routes, with the model's schemas, its description and example requests.
 */
export function openApiDocument(app: FastifyInstance, model: ServedModel | undefined, o: OpenApiOptions): Record<string, unknown> {
  const base = app.swagger() as unknown as { info: Schema; paths: Record<string, Record<string, Schema>>; components?: { schemas?: Record<string, Schema> } }
  const names = model?.schema.names ?? []
  const example = model?.inputExample ?? []
  const exampleRows = example.map((r) => names.map((name) => r[name] ?? null))
  // a missing value is written as the training data's CSV wrote them: an empty cell, unless that was a value
  const missingText = model?.schema.missingText ?? new Set([''])
  const missingCell = missingText.has('') ? '' : ([...missingText][0] ?? '')
  const csvExample = model ? `${names.map(csvCell).join(',')}\n${exampleRows.map((r) => r.map((v) => (v === null ? csvCell(missingCell) : csvCell(String(v)))).join(',')).join('\n')}\n` : undefined
  const csvMissing = missingText.size > 0 ? `; a missing value is ${[...missingText].map((t) => (t === '' ? 'an empty cell' : JSON.stringify(t))).join(', ')}` : ''

  /** The base's operation at `path` with more in the content of its request body. */
  const withContent = (path: string, content: Record<string, Schema>) => {
    const operation = base.paths[path]!.post!
    const body = operation.requestBody as { content: Record<string, Schema> }
    const merged = Object.fromEntries(Object.entries(body.content).map(([type, media]) => [type, { ...media, ...content[type] }]))
    return { ...base.paths[path], post: { ...operation, requestBody: { ...body, content: merged } } }
  }
  return {
    ...base,
    info: {
      ...base.info,
      description: model
        ? `Serving model ${model.id} (run ${model.runId}, ${model.task}${model.gitCommit ? `, commit ${model.gitCommit}` : ''}): ${model.record.description}. Inputs in order: ${names.join(', ')}.`
        : 'No model is loaded yet: the request schemas are generic until one is.',
    },
    paths: {
      ...base.paths,
      '/predict': withContent('/predict', exampleRows.length > 0 ? { 'application/json': { examples: { row: { value: { features: exampleRows[0] } }, rows: { value: { features: exampleRows } }, records: { value: { records: example } } } } } : {}),
      '/invocations': withContent('/invocations', {
        ...(exampleRows.length > 0 ? { 'application/json': { examples: { dataframe_split: { value: { dataframe_split: { columns: names, data: exampleRows } } }, dataframe_records: { value: { dataframe_records: example } } } } } : {}),
        'text/csv': { schema: { type: 'string', description: csvDescription(o.maxRows, csvMissing) }, ...(csvExample ? { example: csvExample } : {}) },
      }),
    },
    components: { ...base.components, schemas: { ...base.components?.schemas, ...componentSchemas(model, o.maxRows) } },
  }
}

function csvDescription(maxRows: number, missing = ''): string {
  return `CSV with a header line naming the inputs, its cells written as in the training data's CSV${missing}; at most ${maxRows} rows.`
}

/** One input as a JSON schema, and in a few words for the row's description. */
function describeInput(field: InputField, model: ServedModel): { schema: Schema; summary: string } {
  // what the request validators take (validate.ts compiles the same value schema), with words and examples added:
  // the document never promises less or more than the server accepts
  const accepted = valueSchemaOf(field)
  const missing = field.missing ? 'null: a missing value' : 'null is read as a missing value (training saw none)'
  switch (field.type) {
    case 'number': {
      const range = numberRange(model, field.name)
      const text = range ? `training data range ${range.min} to ${range.max} (informative: values outside it are accepted)` : 'no recorded range'
      return { schema: { ...accepted, description: `a number; ${text}; ${missing}`, ...(range ? { examples: [range.min, range.max] } : {}) }, summary: range ? `a number, training data range ${range.min} to ${range.max}` : 'a number' }
    }
    case 'boolean':
      return { schema: { ...accepted, description: `true or false (1 and 0, "yes" and "no" are read too); ${missing}`, examples: [true, false] }, summary: 'true or false' }
    case 'category': {
      const spec = model.manifest.signature.features[field.column] as Extract<FeatureSpec, { type: 'category' }>
      const folded = spec.other ? `; ${spec.other.values.map((v) => JSON.stringify(String(v))).join(', ')} (rare in training) are read as ${JSON.stringify(String(spec.other.category))}` : ''
      return {
        schema: {
          ...accepted,
          description: `a category, one of the ${field.categories.length} seen in training (the examples)${folded}; any other value is accepted and predicted as a missing value; ${missing}`,
          examples: [...field.codes.keys()],
        },
        summary: 'a category',
      }
    }
    case 'datetime': {
      const parts = field.parts.map((part, i) => {
        const range = numberRange(model, model.manifest.signature.features[field.columns[i]!]!.name)
        return range ? `${part} (training data ${range.min} to ${range.max})` : part
      })
      const format = field.format === 'iso' ? '' : `, or ${field.format} (with an optional " %H:%M[:%S]") as the training data wrote it`
      return {
        schema: {
          ...accepted,
          // an annotation here, as in JSON Schema 2020-12: the server reads the formats the description lists
          format: 'date-time',
          description: `a date or timestamp: ISO 8601, a date ("2024-03-31") or a date and time ("2024-03-31T12:00:00", "2024-03-31 12:00")${format}; a zone offset is ignored (the time is read as written); the model takes its ${parts.join(', ')}; ${missing}`,
        },
        summary: 'a date or timestamp',
      }
    }
  }
}

/** The training data's range of a numeric model column, when the record has it. */
function numberRange(model: ServedModel, feature: string): { min: number; max: number } | undefined {
  const summary = model.featureSchema.find((f) => f.name === feature)
  return summary?.type === 'number' ? { min: summary.min, max: summary.max } : undefined
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}
