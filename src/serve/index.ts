// The prediction API (`mlskel serve`): the server (buildServer, which tests inject into), its entry (startServer,
// the only code that listens), request validation, the model holder with its hot swap, metrics and OpenAPI.
export { buildServer, servedModelOf, DEFAULT_MAX_ROWS, DEFAULT_BODY_LIMIT, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, CONNECTION_TIMEOUT_MS, type ServeOptions } from './server.js'
export { startServer, DEFAULT_DRAIN_MS, type StartServerOptions, type RunningServer } from './start.js'
export { ServeError, errorBody, toServeError, MAX_DETAILS, type Problem, type ErrorBody, type ServeErrorCode } from './errors.js'
export { readPredictBody, readInvocationsBody, readCsv, fromArrays, fromRecords, type PredictRequest } from './validate.js'
// what the readers take: the served model's inputs, and who is told of unseen categories (also in the main entry)
export { inputSchemaOf, type InputSchema, type UnseenCategory } from '../data/index.js'
// what they give: rows checked against the model's inputs, which its kind predicts without checking them again
export type { CheckedRows } from '../models/index.js'
export { createModelHolder, loadServedModel, type ModelHolder, type ModelHolderOptions, type LoadServedModelOptions, type ServedModel } from './model-holder.js'
export { createMetrics, type ServeMetrics, type MetricsOptions } from './metrics.js'
export { openApiDocument, type OpenApiOptions } from './openapi.js'
export { observabilityRoutes, type ObservabilityOptions } from './observability.js'
