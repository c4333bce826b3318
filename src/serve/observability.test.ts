import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMetrics, type ServeMetrics } from './metrics.js'
import { loadServedModel, type ModelHolder, type ServedModel } from './model-holder.js'
import { DOCS_CSP } from './observability.js'
import { openApiDocument } from './openapi.js'
import { buildServer } from './server.js'
import { irisProject, IRIS_FEATURES, type IrisProject } from './test-models.js'

let project: IrisProject
let first: ServedModel
let second: ServedModel
const servers: FastifyInstance[] = []

beforeAll(async () => {
  project = await irisProject()
  await project.train(1)
  first = await loadServedModel(project)
  await project.train(2)
  second = await loadServedModel(project)
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await project.remove()
})

function stubHolder(model: ServedModel | undefined): ModelHolder & { model: ServedModel | undefined } {
  return {
    model,
    current() {
      return this.model
    },
    start: async () => undefined,
    close: async () => undefined,
  }
}

// the document is made of the routes (@fastify/swagger's dynamic mode): the whole API, with the holder given
async function app(holder: ModelHolder, metrics: ServeMetrics = createMetrics({ defaultMetrics: false }), auth = false): Promise<FastifyInstance> {
  const server = await buildServer({ modelsDir: '', metadataDir: '', holder, metrics, version: '1.2.3', maxRows: 10_000, ...(auth ? { apiToken: 'token' } : {}) })
  await server.ready()
  servers.push(server)
  return server
}

type Doc = {
  openapi: string
  info: { version: string; description: string }
  paths: Record<string, Record<string, { security?: unknown; requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>
  components: { schemas: Record<string, { properties?: Record<string, { examples?: number[]; type?: string | string[] }>; description?: string; minItems?: number; maxItems?: number }>; securitySchemes?: unknown }
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document whose request schemas come from the served model', async () => {
    const server = await app(stubHolder(first))
    const response = await server.inject('/openapi.json')
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    const doc = response.json<Doc>()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.version).toBe('1.2.3')
    expect(doc.info.description).toContain(first.id)
    for (const path of ['/predict', '/invocations', '/health', '/livez', '/ping', '/ready', '/readyz', '/version', '/metadata', '/metrics', '/openapi.json']) expect(doc.paths, path).toHaveProperty([path])
    expect(Object.keys(doc.paths['/invocations']!.post!.requestBody!.content)).toEqual(['application/json', 'text/csv'])
    expect(doc.paths['/predict']!.post!.responses).toHaveProperty(['400'])
    expect(doc.paths['/predict']!.post!.responses).toHaveProperty(['413'])

    const record = doc.components.schemas.Record!
    expect(Object.keys(record.properties!)).toEqual(IRIS_FEATURES)
    for (const feature of first.featureSchema) {
      // what the validators take (null: a missing value), the training range as examples: information, not limits
      expect(record.properties![feature.name]).toMatchObject({ type: ['number', 'null'], examples: [feature.min, feature.max] })
      expect(record.properties![feature.name]).not.toHaveProperty('minimum')
    }
    const row = doc.components.schemas.Row!
    expect(row).toMatchObject({ minItems: 4, maxItems: 4 })
    expect(row.description).toContain('0: sepal_length')
    expect(row.description).toContain('3: petal_width')
    expect(JSON.stringify(doc.components.schemas.PredictResponse)).toContain('"enum":["setosa","versicolor","virginica"]')
    expect(JSON.stringify(doc.components.schemas.Error)).toContain('"problem"')
    expect(doc.components.securitySchemes).toBeUndefined()
    expect(doc.paths['/predict']!.post!.security).toBeUndefined()
  })

  it('declares the bearer scheme on the prediction routes when they take a token', async () => {
    const doc = (await (await app(stubHolder(first), undefined, true)).inject('/openapi.json')).json<Doc>()
    expect(doc.components.securitySchemes).toEqual({ bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }) })
    expect(doc.paths['/predict']!.post!.security).toEqual([{ bearer: [] }])
    expect(doc.paths['/invocations']!.post!.security).toEqual([{ bearer: [] }])
    expect(doc.paths['/health']!.get!.security).toBeUndefined()
    expect(doc.paths['/predict']!.post!.responses).toHaveProperty(['401'])
  })

  it('follows the served model when it is swapped', async () => {
    const holder = stubHolder(undefined)
    const server = await app(holder)
    expect((await server.inject('/openapi.json')).json<Doc>().info.description).toContain('No model is loaded')
    holder.model = first
    expect((await server.inject('/openapi.json')).json<Doc>().info.description).toContain(first.id)
    holder.model = second
    expect((await server.inject('/openapi.json')).json<Doc>().info.description).toContain(second.id)
    expect((await server.inject('/docs/json')).json<Doc>().info.description).toContain(second.id)
  })

  it('is JSON-serializable and generic without a model', async () => {
    const doc = openApiDocument(await app(stubHolder(undefined)), undefined, { version: '0', maxRows: 5, auth: false }) as Doc
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc)
    expect(doc.components.schemas.Record!.properties).toBeUndefined()
  })
})

describe('GET /docs', () => {
  it('serves Swagger UI whose assets all resolve on this server, with a same-origin CSP', async () => {
    const server = await app(stubHolder(first))
    const page = await server.inject('/docs')
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toBe(DOCS_CSP)
    const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]!)
    expect(assets.length).toBeGreaterThanOrEqual(4)
    for (const asset of assets) {
      expect(asset, 'served locally').toMatch(/^\/docs\//)
      const response = await server.inject(asset)
      expect(response.statusCode, asset).toBe(200)
      expect(response.body.length, asset).toBeGreaterThan(0)
    }
    expect(page.body).not.toMatch(/https?:\/\//)
    const initializer = await server.inject('/docs/static/swagger-initializer.js')
    expect(initializer.body).toContain("resolveUrl('./json')")
    const spec = await server.inject('/docs/json')
    expect(spec.json()).toEqual((await server.inject('/openapi.json')).json())
  })
})

describe('GET /metrics', () => {
  it('answers the Prometheus text format with the observed metrics', async () => {
    const metrics = createMetrics()
    const server = await app(stubHolder(first), metrics)
    metrics.setModel(first.id)
    metrics.observeRequest('/predict', 'POST', 200, 0.001)
    metrics.countPredictions('classification', ['setosa', 'virginica'])
    metrics.observeRows(2)
    const response = await server.inject('/metrics')
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    for (const name of ['mlskel_http_requests_total', 'mlskel_http_request_duration_seconds_bucket', 'mlskel_predictions_total{class="setosa"} 1', 'mlskel_prediction_rows_count 1', `mlskel_model_info{model_id="${first.id}"} 1`, 'process_resident_memory_bytes']) {
      expect(response.body).toContain(name)
    }
  })
})
