// The prediction API described as OpenAPI 3.1, built from the served model: its feature names in order, their
// types and training ranges, its classes. Rebuilt when the model changes, so /docs always shows what is served.
//
// Ranges are given as `minimum`/`maximum` because that is how OpenAPI tools display them, but they are the
// training data's range, for information: the server accepts values outside it (drift is for monitoring to judge).
import type { ServedModel } from './model-holder.js'

export interface OpenApiOptions {
  /** The server's (mlskel's) version. */
  version: string
  /** The most rows a request may hold (more: 413). */
  maxRows: number
  /** Whether prediction routes take a bearer token (API_TOKEN). */
  auth: boolean
}

type Schema = Record<string, unknown>

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: Schema, extra: Schema = {}) => ({ 'application/json': { schema, ...extra } })

/** The OpenAPI 3.1 document of the API serving `model` (undefined: none loaded yet; the schemas are then generic). */
export function openApiDocument(model: ServedModel | undefined, o: OpenApiOptions): Record<string, unknown> {
  const features = model?.features ?? []
  const ranges = new Map((model?.featureSchema ?? []).map((f) => [f.name, f]))
  const range = (name: string) => {
    const f = ranges.get(name)
    return f ? `training data range ${f.min} to ${f.max} (informative: values outside it are accepted)` : 'no recorded range'
  }
  const n = features.length
  const listed = features.map((name, i) => `${i}: ${name} (${range(name)})`).join('; ')

  const row: Schema = model
    ? {
        type: 'array',
        description: `One row: ${n} numbers, the features in this order — ${listed}.`,
        items: { type: 'number' },
        prefixItems: features.map((name) => ({ type: 'number', title: name, description: range(name) })),
        minItems: n,
        maxItems: n,
      }
    : { type: 'array', description: 'One row: the features as numbers, in the model\'s order (no model is loaded yet).', items: { type: 'number' }, minItems: 1 }
  const record: Schema = model
    ? {
        type: 'object',
        description: 'One row keyed by feature name: every feature, as a number.',
        properties: Object.fromEntries(
          features.map((name) => {
            const f = ranges.get(name)
            return [name, { type: 'number', description: range(name), ...(f ? { minimum: f.min, maximum: f.max } : {}) }]
          }),
        ),
        required: features,
        additionalProperties: false,
      }
    : { type: 'object', description: 'One row keyed by feature name (no model is loaded yet).', additionalProperties: { type: 'number' } }
  const rows = (description: string, items: Schema): Schema => ({ type: 'array', description, items, minItems: 1, maxItems: o.maxRows })
  const columns: Schema = {
    type: 'object',
    description: 'Columns: each feature name mapped to its values, all of the same length.',
    ...(model ? { properties: Object.fromEntries(features.map((name) => [name, { type: 'array', items: { type: 'number' }, description: range(name) }])), required: features } : {}),
    additionalProperties: model ? false : { type: 'array', items: { type: 'number' } },
  }
  const answer: Schema =
    model?.classes !== undefined ? { description: 'a class label', enum: model.classes } : model ? { type: 'number', description: 'the predicted value' } : { type: ['string', 'number'] }

  const example = model?.record.input_example ?? []
  const exampleRows = example.map((r) => features.map((name) => r[name]))

  const schemas: Record<string, Schema> = {
    Row: row,
    Record: record,
    PredictRequest: {
      type: 'object',
      description: `\`features\`: one row (numbers in feature order) or rows (arrays of them); or \`records\`: rows keyed by feature name. At most ${o.maxRows} rows.`,
      properties: {
        features: { oneOf: [ref('Row'), rows('Rows, each in feature order.', ref('Row'))] },
        records: { oneOf: [ref('Record'), rows('Rows keyed by feature name.', ref('Record'))] },
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
        timing: { type: 'number', description: 'seconds spent predicting' },
      },
    },
    InvocationsRequest: {
      description: `MLflow's scoring protocol: exactly one of the keys. At most ${o.maxRows} rows.`,
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
                columns: { type: 'array', items: model ? { enum: features } : { type: 'string' }, description: 'the feature names of the data\'s columns; absent: the model\'s order' },
                data: rows('Rows, in the order of columns.', { type: 'array', items: { type: 'number' } }),
                index: { type: 'array', description: 'row labels (ignored)' },
              },
            },
          },
        },
        { type: 'object', title: 'dataframe_records', required: ['dataframe_records'], additionalProperties: false, properties: { dataframe_records: rows('Rows keyed by feature name.', ref('Record')) } },
        { type: 'object', title: 'instances', required: ['instances'], additionalProperties: false, properties: { instances: { oneOf: [rows('Rows in feature order.', ref('Row')), rows('Rows keyed by feature name.', ref('Record')), columns] } } },
        { type: 'object', title: 'inputs', required: ['inputs'], additionalProperties: false, properties: { inputs: { oneOf: [rows('Rows in feature order.', ref('Row')), rows('Rows keyed by feature name.', ref('Record')), columns] } } },
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
                properties: { row: { type: ['integer', 'null'], description: '0-based row, when the problem is in one' }, field: { type: ['string', 'null'], description: 'the feature or key' }, problem: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  }

  const error = (description: string) => ({ description, content: json(ref('Error')) })
  const predictionErrors = {
    '400': error('Invalid input: wrong number of features, unknown or missing names, values that are not numbers, no rows; or a body that is not valid JSON.'),
    ...(o.auth ? { '401': error('No bearer token, or a wrong one.') } : {}),
    '413': error(`More than ${o.maxRows} rows, or a body larger than the server accepts.`),
    '415': error('A Content-Type the route does not take.'),
    '503': error('No model is loaded yet.'),
  }
  const security = o.auth ? { security: [{ bearer: [] }] } : {}
  const plain = (summary: string, description: string, content: Record<string, unknown> = json({ type: 'object' })) => ({ get: { summary, responses: { '200': { description, content } } } })
  const health = (summary: string) => plain(summary, 'The server is alive.')
  const ready = (summary: string) => ({ get: { summary, responses: { '200': { description: 'A model is loaded.', content: json({ type: 'object' }) }, '503': error('No model is loaded yet.') } } })

  const csvExample = model ? `${features.join(',')}\n${exampleRows.map((r) => r.join(',')).join('\n')}\n` : undefined
  return {
    openapi: '3.1.0',
    info: {
      title: 'mlskel prediction API',
      version: o.version,
      description: model
        ? `Serving model ${model.id} (run ${model.runId}, ${model.task}${model.gitCommit ? `, commit ${model.gitCommit}` : ''}): ${model.record.description}. Features in order: ${features.join(', ')}.`
        : 'No model is loaded yet: the request schemas are generic until one is.',
    },
    paths: {
      '/predict': {
        post: {
          summary: 'Predict rows (the mlskel request format)',
          operationId: 'predict',
          ...security,
          requestBody: {
            required: true,
            content: json(ref('PredictRequest'), exampleRows.length > 0 ? { examples: { row: { value: { features: exampleRows[0] } }, rows: { value: { features: exampleRows } }, records: { value: { records: example } } } } : {}),
          },
          responses: { '200': { description: 'One answer per row.', content: json(ref('PredictResponse')) }, ...predictionErrors },
        },
      },
      '/invocations': {
        post: {
          summary: 'Predict rows (MLflow\'s scoring protocol)',
          operationId: 'invocations',
          ...security,
          requestBody: {
            required: true,
            content: {
              ...json(ref('InvocationsRequest'), exampleRows.length > 0 ? { examples: { dataframe_split: { value: { dataframe_split: { columns: features, data: exampleRows } } }, dataframe_records: { value: { dataframe_records: example } } } } : {}),
              'text/csv': { schema: { type: 'string', description: `CSV with a header line naming the features; at most ${o.maxRows} rows.` }, ...(csvExample ? { example: csvExample } : {}) },
            },
          },
          responses: { '200': { description: 'One answer per row.', content: json(ref('InvocationsResponse')) }, ...predictionErrors },
        },
      },
      '/health': health('Liveness'),
      '/livez': health('Liveness (alias of /health)'),
      '/ping': health('Liveness (alias of /health, as MLflow)'),
      '/ready': ready('Readiness: a model is loaded'),
      '/readyz': ready('Readiness (alias of /ready)'),
      '/version': plain('Versions of the server and of the served model', 'Versions.'),
      '/metadata': { get: { summary: 'The served model\'s training record (models/metadata/<run_id>.json)', responses: { '200': { description: 'The record.', content: json({ type: 'object' }) }, '503': error('No model is loaded yet.') } } },
      '/metrics': plain('Prometheus metrics', 'Metrics in the Prometheus text format.', { 'text/plain': { schema: { type: 'string' } } }),
      '/openapi.json': plain('This document', 'The OpenAPI 3.1 document.'),
    },
    components: {
      schemas,
      ...(o.auth ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The API_TOKEN the server was started with.' } } } : {}),
    },
  }
}
