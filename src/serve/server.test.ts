import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer, servedModelOf, type ServeOptions } from './server.js'
import { irisProject, readIris, typedProject, type IrisProject } from './test-models.js'
import type { Logger } from '../logging/index.js'
import { recordTraining, type MetadataRecord } from '../metadata/index.js'
import { registerModelKind, saveModel, summarizeHoldOut, withUncheckedRows, type Predictor, type Signature } from '../models/index.js'
import { valueSchemaOf } from '../data/index.js'

let project: IrisProject
let record: MetadataRecord
let app: FastifyInstance
const { data } = readIris()
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']
const CLASSES = ['setosa', 'versicolor', 'virginica']
const setosa = [5.1, 3.5, 1.4, 0.2]
const virginica = [6.3, 3.3, 6.0, 2.5]
const asRecord = (row: number[]) => Object.fromEntries(FEATURES.map((name, i) => [name, row[i]]))

const servers: FastifyInstance[] = []
async function server(extra: Partial<ServeOptions> = {}): Promise<FastifyInstance> {
  const built = await buildServer({ modelsDir: project.modelsDir, metadataDir: project.metadataDir, ...extra })
  servers.push(built)
  return built
}

beforeAll(async () => {
  project = await irisProject()
  ;({ record } = await project.train(42))
  app = await server()
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await project.remove()
})

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload: payload as Record<string, unknown>, headers })

describe('POST /predict', () => {
  it('predicts one row given as features in signature order', async () => {
    const res = await post('/predict', { features: setosa })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toEqual({ release: { model_id: record.model_id, git_commit: record.git.commit }, result: ['setosa'], timing: expect.any(Number) })
    expect(body.timing).toBeGreaterThanOrEqual(0)
    expect(body.timing).toBeLessThan(1)
  })

  it('predicts rows given as arrays', async () => {
    const res = await post('/predict', { features: [setosa, virginica] })
    expect(res.json().result).toEqual(['setosa', 'virginica'])
  })

  it('predicts rows given as records keyed by feature name, in any key order', async () => {
    const shuffled = { petal_width: 2.5, sepal_length: 6.3, petal_length: 6.0, sepal_width: 3.3 }
    const res = await post('/predict', { records: [asRecord(setosa), shuffled] })
    expect(res.statusCode).toBe(200)
    expect(res.json().result).toEqual(['setosa', 'virginica'])
  })

  it('gives the same answers as the model for the whole training set', async () => {
    const res = await post('/predict', { features: data.X })
    expect(res.statusCode).toBe(200)
    const { result } = res.json() as { result: string[] }
    const agree = result.filter((label, i) => label === data.y[i]).length
    expect(result).toHaveLength(data.X.length)
    expect(agree / result.length).toBeGreaterThan(0.9)
  })

  it('adds class probabilities and the classes when asked, in the query or the body', async () => {
    for (const res of [await post('/predict?probabilities=true', { features: [setosa, virginica] }), await post('/predict', { features: [setosa, virginica], probabilities: true })]) {
      expect(res.statusCode).toBe(200)
      const body = res.json()
      expect(body.classes).toEqual(CLASSES)
      expect(body.probabilities).toHaveLength(2)
      for (const p of body.probabilities as number[][]) {
        expect(p).toHaveLength(3)
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
      }
      expect(body.probabilities[0][0]).toBeGreaterThan(0.5)
    }
    expect((await post('/predict?probabilities=false', { features: setosa })).json()).not.toHaveProperty('probabilities')
  })
})

describe('POST /invocations (MLflow scoring protocol)', () => {
  const expected = { predictions: ['setosa', 'virginica'] }

  it('reads dataframe_split, with columns in any order or none', async () => {
    expect((await post('/invocations', { dataframe_split: { columns: FEATURES, data: [setosa, virginica] } })).json()).toEqual(expected)
    const reordered = [...FEATURES].reverse()
    expect((await post('/invocations', { dataframe_split: { columns: reordered, data: [[...setosa].reverse(), [...virginica].reverse()], index: [0, 1] } })).json()).toEqual(expected)
    expect((await post('/invocations', { dataframe_split: { data: [setosa, virginica] } })).json()).toEqual(expected)
  })

  it('reads dataframe_records', async () => {
    expect((await post('/invocations', { dataframe_records: [asRecord(setosa), asRecord(virginica)] })).json()).toEqual(expected)
  })

  it('reads instances and inputs, as rows, records or columns', async () => {
    for (const key of ['instances', 'inputs']) {
      expect((await post('/invocations', { [key]: [setosa, virginica] })).json()).toEqual(expected)
      expect((await post('/invocations', { [key]: [asRecord(setosa), asRecord(virginica)] })).json()).toEqual(expected)
      const columns = Object.fromEntries(FEATURES.map((name, i) => [name, [setosa[i], virginica[i]]]))
      expect((await post('/invocations', { [key]: columns })).json()).toEqual(expected)
    }
  })

  it('reads CSV with a header row of feature names', async () => {
    const csv = `${[...FEATURES].reverse().join(',')}\r\n${[...setosa].reverse().join(',')}\r\n"${virginica[3]}",${virginica[2]},${virginica[1]},${virginica[0]}\n\n`
    const res = await app.inject({ method: 'POST', url: '/invocations', payload: csv, headers: { 'content-type': 'text/csv' } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual(expected)
  })

  it('answers 415 for another content type', async () => {
    const res = await app.inject({ method: 'POST', url: '/invocations', payload: '<rows/>', headers: { 'content-type': 'application/xml' } })
    expect(res.statusCode).toBe(415)
    expect(res.json().error.code).toBe('MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE')
  })
})

describe('operations routes', () => {
  it('answers liveness on /health, /livez and /ping', async () => {
    for (const url of ['/health', '/livez', '/ping']) {
      const res = await app.inject({ url })
      expect(res.statusCode, url).toBe(200)
      expect(res.json()).toEqual({ status: 'ok' })
    }
  })

  it('is ready when a model is loaded', async () => {
    for (const url of ['/ready', '/readyz']) expect((await app.inject({ url })).json()).toEqual({ status: 'ready', model_id: record.model_id })
  })

  it('tells its version, node and the served model', async () => {
    expect((await app.inject({ url: '/version' })).json()).toMatchObject({ mlskel: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.versions.node, model_id: record.model_id, run_id: record.run_id })
  })

  it('gives the served model\'s training record', async () => {
    expect((await app.inject({ url: '/metadata' })).json()).toEqual(record)
  })
})

interface BadRequest {
  name: string
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  url?: string
  /** JSON bodies are given as text, so the corpus can hold malformed ones. */
  body?: string
  contentType?: string
  headers?: Record<string, string>
  status: number
  code: string
  /** A detail the answer must list. */
  detail?: { row?: number | null; field?: string | null; problem?: RegExp }
}

const json = (value: unknown) => JSON.stringify(value)
const rows = (n: number) => json({ features: Array.from({ length: n }, () => setosa) })

const corpus: BadRequest[] = [
  // malformed bodies
  { name: 'truncated JSON', body: '{"features": [5.1, 3.5', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'JSON with a trailing comma', body: '{"features": [5.1, 3.5, 1.4, 0.2],}', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'single-quoted JSON', body: "{'features': [5.1, 3.5, 1.4, 0.2]}", status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'a bare NaN in JSON', body: '{"features": [NaN, 3.5, 1.4, 0.2]}', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'an empty body said to be JSON', body: '', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'no body at all', body: undefined, contentType: '', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'a JSON array as the body', body: json([setosa]), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'a JSON string as the body', body: json('5.1,3.5,1.4,0.2'), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'JSON null as the body', body: 'null', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'a __proto__ key (prototype poisoning)', body: '{"features": [5.1, 3.5, 1.4, 0.2], "__proto__": {"admin": true}}', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  // shape of the /predict body
  { name: 'neither features nor records', body: json({ rows: [setosa] }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST', detail: { field: 'rows' } },
  { name: 'an empty object', body: '{}', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'both features and records', body: json({ features: setosa, records: [asRecord(setosa)] }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'features as a string', body: json({ features: '5.1,3.5,1.4,0.2' }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST', detail: { field: 'features' } },
  { name: 'features as a number', body: json({ features: 5.1 }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'records as a string', body: json({ records: 'all' }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'probabilities not a boolean', body: json({ features: setosa, probabilities: 'yes' }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST', detail: { field: 'probabilities' } },
  { name: 'probabilities=maybe in the query', url: '/predict?probabilities=maybe', body: json({ features: setosa }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  // empty input
  { name: 'no rows in features', body: json({ features: [] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { problem: /no rows/ } },
  { name: 'no rows in records', body: json({ records: [] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT' },
  { name: 'an empty row', body: json({ features: [[]] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0, problem: /0 values, the model takes 4/ } },
  // wrong number of features
  { name: 'three features in one row', body: json({ features: [5.1, 3.5, 1.4] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0, problem: /has 3 values, the model takes 4/ } },
  { name: 'five features in one row', body: json({ features: [5.1, 3.5, 1.4, 0.2, 9] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0 } },
  { name: 'a short second row', body: json({ features: [setosa, [1, 2]] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 1 } },
  { name: 'a row that is not an array', body: json({ features: [setosa, 5] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 1, problem: /not an array/ } },
  // wrong values
  { name: 'a number as a string', body: json({ features: [5.1, '3.5', 1.4, 0.2] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'sepal_width', problem: /not strings/ } },
  { name: '"NaN" as a string', body: json({ features: [5.1, 'NaN', 1.4, 0.2] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'sepal_width', problem: /NaN and Infinity/ } },
  { name: '"Infinity" as a string', body: json({ features: [[5.1, 3.5, 1.4, '-Infinity']] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'petal_width', problem: /NaN and Infinity/ } },
  { name: 'a number too large for a double (parses to Infinity)', body: '{"features": [5.1, 3.5, 1e400, 0.2]}', status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'petal_length', problem: /finite/ } },
  { name: 'a word', body: json({ features: [5.1, 'wide', 1.4, 0.2] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'sepal_width', problem: /not a number/ } },
  { name: 'a boolean', body: json({ features: [5.1, true, 1.4, 0.2] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'sepal_width' } },
  { name: 'a nested array', body: json({ features: [[5.1, [3.5], 1.4, 0.2]] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'sepal_width' } },
  { name: 'an object as a value', body: json({ features: [[5.1, { v: 3.5 }, 1.4, 0.2]] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT' },
  // records
  { name: 'a missing feature in a record', body: json({ records: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4 }] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0, field: 'petal_width', problem: /missing/ } },
  { name: 'an unknown feature in a record', body: json({ records: [{ ...asRecord(setosa), colour: 1 }] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'colour', problem: /not a feature/ } },
  { name: 'a misspelt feature in a record', body: json({ records: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_widht: 0.2 }] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'petal_widht', problem: /did you mean "petal_width"/ } },
  { name: 'a boolean in a record', body: json({ records: [{ ...asRecord(setosa), petal_length: false }] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'petal_length', problem: /boolean false, not a number/ } },
  { name: 'a record that is an array', body: json({ records: [setosa] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0 } },
  { name: 'a bad value in the third record', body: json({ records: [asRecord(setosa), asRecord(setosa), { ...asRecord(setosa), sepal_length: '5' }] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 2, field: 'sepal_length' } },
  // size
  { name: 'more rows than API_MAX_ROWS', body: rows(101), status: 413, code: 'MLSKEL_SERVE_TOO_MANY_ROWS' },
  { name: 'a body over the size limit', body: json({ features: setosa, padding: 'x'.repeat(70_000) }), status: 413, code: 'MLSKEL_SERVE_BODY_TOO_LARGE' },
  // content types
  { name: 'text/plain to /predict', body: json({ features: setosa }), contentType: 'text/plain', status: 415, code: 'MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'CSV to /predict', body: 'a,b\n1,2\n', contentType: 'text/csv', status: 415, code: 'MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form data to /predict', body: 'features=5.1', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'XML to /invocations', url: '/invocations', body: '<x/>', contentType: 'application/xml', status: 415, code: 'MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE' },
  // /invocations shapes
  { name: 'no MLflow key', url: '/invocations', body: json({ features: setosa }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'two MLflow keys', url: '/invocations', body: json({ instances: [setosa], inputs: [setosa] }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'dataframe_split without data', url: '/invocations', body: json({ dataframe_split: { columns: FEATURES } }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'dataframe_split with an unknown column', url: '/invocations', body: json({ dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: [setosa] } }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: null, field: 'a' } },
  { name: 'dataframe_split with a short row', url: '/invocations', body: json({ dataframe_split: { columns: FEATURES, data: [[1, 2, 3]] } }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0 } },
  { name: 'dataframe_records as an object', url: '/invocations', body: json({ dataframe_records: asRecord(setosa) }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'instances with a string number', url: '/invocations', body: json({ instances: [[5.1, 3.5, '1.4', 0.2]] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'petal_length' } },
  { name: 'inputs as columns of unequal length', url: '/invocations', body: json({ inputs: { sepal_length: [1, 2], sepal_width: [1], petal_length: [1, 2], petal_width: [1, 2] } }), status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  { name: 'empty instances', url: '/invocations', body: json({ instances: [] }), status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT' },
  { name: 'CSV without rows', url: '/invocations', body: `${FEATURES.join(',')}\n`, contentType: 'text/csv', status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT' },
  { name: 'CSV with a missing column', url: '/invocations', body: `sepal_length,sepal_width,petal_length\n1,2,3\n`, contentType: 'text/csv', status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'petal_width' } },
  { name: 'CSV with a word', url: '/invocations', body: `${FEATURES.join(',')}\n1,2,three,4\n`, contentType: 'text/csv', status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0, field: 'petal_length' } },
  { name: 'CSV with Infinity', url: '/invocations', body: `${FEATURES.join(',')}\n1,Infinity,3,4\n`, contentType: 'text/csv', status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { field: 'sepal_width', problem: /"Infinity", not a number/ } },
  { name: 'CSV with too many fields', url: '/invocations', body: `${FEATURES.join(',')}\n1,2,3,4,5\n`, contentType: 'text/csv', status: 400, code: 'MLSKEL_SERVE_INVALID_INPUT', detail: { row: 0 } },
  { name: 'an empty CSV', url: '/invocations', body: '\n', contentType: 'text/csv', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
  // routes
  { name: 'an unknown route', method: 'GET', url: '/predictions', status: 404, code: 'MLSKEL_SERVE_ROUTE_NOT_FOUND' },
  { name: 'GET /predict', method: 'GET', url: '/predict', status: 405, code: 'MLSKEL_SERVE_METHOD_NOT_ALLOWED' },
  { name: 'DELETE /health', method: 'DELETE', url: '/health', status: 405, code: 'MLSKEL_SERVE_METHOD_NOT_ALLOWED' },
  { name: 'a malformed URL escape', method: 'GET', url: '/%E0%A4%A', status: 400, code: 'MLSKEL_SERVE_MALFORMED_REQUEST' },
]

describe('a corpus of bad requests', () => {
  let strict: FastifyInstance
  beforeAll(async () => {
    strict = await server({ maxRows: 100, bodyLimit: 64 * 1024 })
  })

  it(`has at least 40 cases (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40)
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length)
  })

  it.each(corpus.map((c) => [c.name, c] as const))('%s: a 4xx with a JSON error, and the server stays healthy', async (_name, c) => {
    const contentType = c.contentType ?? (c.method === undefined || c.method === 'POST' ? 'application/json' : '')
    const res = await strict.inject({
      method: c.method ?? 'POST',
      url: c.url ?? '/predict',
      ...(c.body === undefined ? {} : { payload: c.body }),
      headers: { ...(contentType ? { 'content-type': contentType } : {}), ...c.headers },
    })
    expect(res.statusCode).toBe(c.status)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const body = res.json() as { error: { code: string; message: string; fix: string; details?: { row: number | null; field: string | null; problem: string }[] } }
    expect(body.error).toMatchObject({ code: c.code, message: expect.any(String), fix: expect.any(String) })
    expect(body.error.message.length).toBeGreaterThan(5)
    if (c.detail) {
      const { problem, ...place } = c.detail
      expect(body.error.details).toContainEqual(expect.objectContaining({ ...place, ...(problem ? { problem: expect.stringMatching(problem) } : {}) }))
    }
    for (const detail of body.error.details ?? []) expect(Object.keys(detail).sort()).toEqual(['field', 'problem', 'row'])
    expect((await strict.inject({ url: '/health' })).statusCode).toBe(200)
    const good = await strict.inject({ method: 'POST', url: '/predict', payload: { features: setosa } })
    expect(good.statusCode).toBe(200)
    expect(good.json().result).toEqual(['setosa'])
  })

  it('answers a route called with another method 405, naming the methods it takes in Allow', async () => {
    const get = await strict.inject({ method: 'GET', url: '/predict?probabilities=true' })
    expect(get.statusCode).toBe(405)
    expect(get.headers.allow).toBe('POST')
    expect(get.json().error.message).toBe('/predict takes POST, not GET')
    const put = await strict.inject({ method: 'PUT', url: '/health' })
    expect(put.headers.allow).toBe('GET, HEAD')
  })

  it('lists every bad value of a request, not only the first', async () => {
    const res = await strict.inject({ method: 'POST', url: '/predict', payload: { features: [[true, 1, 2, 3], [1, 2, 3, 4], [1, 'x', 3, 'NaN']] } })
    expect(res.json().error.details).toEqual([
      { row: 0, field: 'sepal_length', problem: expect.stringContaining('boolean') },
      { row: 2, field: 'sepal_width', problem: expect.any(String) },
      { row: 2, field: 'petal_width', problem: expect.any(String) },
    ])
    expect(res.json().error.message).toMatch(/^row 0, field "sepal_length": .*and 2 more problems/)
  })

  it('accepts values outside the training range', async () => {
    const res = await strict.inject({ method: 'POST', url: '/predict', payload: { features: [100, -5, 0, 1e6] } })
    expect(res.statusCode).toBe(200)
  })

  it('takes null, an empty CSV cell and a missing-value token as missing values, predicted through the missing path', async () => {
    const json = await strict.inject({ method: 'POST', url: '/predict', payload: { features: [[5.1, null, 1.4, 0.2], [null, null, null, null]] } })
    expect(json.statusCode).toBe(200)
    expect(json.json().result).toHaveLength(2)
    expect(json.json().result[0]).toBe('setosa')
    const record = await strict.inject({ method: 'POST', url: '/predict', payload: { records: [{ ...asRecord(setosa), petal_length: null }] } })
    expect(record.statusCode).toBe(200)
    const csv = await strict.inject({ method: 'POST', url: '/invocations', payload: `${FEATURES.join(',')}\n5.1,,1.4,0.2\n5.1,NaN,1.4,NA\n`, headers: { 'content-type': 'text/csv' } })
    expect(csv.statusCode).toBe(200)
    expect(csv.json().predictions).toHaveLength(2)
  })
})

describe('options', () => {
  it('hides details when errorDetails is false', async () => {
    const quiet = await server({ errorDetails: false })
    const res = await quiet.inject({ method: 'POST', url: '/predict', payload: { features: [5.1, 'wide', 1.4, 0.2] } })
    expect(res.statusCode).toBe(400)
    expect(res.json().error).not.toHaveProperty('details')
    expect(res.json().error.code).toBe('MLSKEL_SERVE_INVALID_INPUT')
  })

  it('asks prediction routes, and only them, for the bearer token when API_TOKEN is set', async () => {
    const guarded = await server({ apiToken: 's3cret-token' })
    const predict = (authorization?: string) => guarded.inject({ method: 'POST', url: '/predict', payload: { features: setosa }, headers: authorization ? { authorization } : {} })
    for (const authorization of [undefined, 'Bearer wrong', 'Bearer s3cret-toke', 'Basic s3cret-token', 's3cret-token']) {
      const res = await predict(authorization)
      expect(res.statusCode, String(authorization)).toBe(401)
      expect(res.json().error.code).toBe('MLSKEL_SERVE_UNAUTHORIZED')
      expect(res.headers['www-authenticate']).toBe('Bearer')
    }
    expect((await predict('Bearer s3cret-token')).statusCode).toBe(200)
    expect((await predict('bearer s3cret-token')).statusCode).toBe(200)
    const invocations = await guarded.inject({ method: 'POST', url: '/invocations', payload: { instances: [setosa] } })
    expect(invocations.statusCode).toBe(401)
    for (const url of ['/health', '/ready', '/version', '/metadata']) expect((await guarded.inject({ url })).statusCode, url).toBe(200)
  })

  it('needs no token when none is set', async () => {
    expect((await post('/predict', { features: setosa }, { authorization: 'Bearer anything' })).statusCode).toBe(200)
  })

  it('refuses bad configuration when built', async () => {
    await expect(buildServer({ modelsDir: project.modelsDir, metadataDir: project.metadataDir, maxRows: 0 })).rejects.toThrow(/maxRows/)
    await expect(buildServer({ modelsDir: project.modelsDir, metadataDir: project.metadataDir, bodyLimit: 1.5 })).rejects.toThrow(/bodyLimit/)
  })
})

describe('without a model', () => {
  it('is alive but not ready, and answers predictions with 503', async () => {
    const empty = await irisProject()
    try {
      const bare = await server({ modelsDir: empty.modelsDir, metadataDir: empty.metadataDir })
      expect((await bare.inject({ url: '/health' })).statusCode).toBe(200)
      const ready = await bare.inject({ url: '/ready' })
      expect(ready.statusCode).toBe(503)
      expect(ready.json().error.code).toBe('MLSKEL_SERVE_NOT_READY')
      expect((await bare.inject({ method: 'POST', url: '/predict', payload: { features: setosa } })).statusCode).toBe(503)
      expect((await bare.inject({ url: '/version' })).json().model_id).toBeNull()
      await bare.close()
    } finally {
      await empty.remove()
    }
  })

  it('fails to build when a model is required', async () => {
    const empty = await irisProject()
    try {
      await expect(buildServer({ modelsDir: empty.modelsDir, metadataDir: empty.metadataDir, requireModel: true })).rejects.toMatchObject({ code: 'MLSKEL_MODEL_NOT_FOUND' })
    } finally {
      await empty.remove()
    }
  })
})

describe('over a real socket', () => {
  it('answers /predict on 127.0.0.1 and closes', async () => {
    const live = await buildServer({ modelsDir: project.modelsDir, metadataDir: project.metadataDir })
    try {
      const address = await live.listen({ host: '127.0.0.1', port: 0 })
      const res = await fetch(`${address}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: [setosa, virginica] }) })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { result: string[] }).result).toEqual(['setosa', 'virginica'])
      const bad = await fetch(`${address}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"features": [' })
      expect(bad.status).toBe(400)
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('MLSKEL_SERVE_MALFORMED_REQUEST')
    } finally {
      await live.close()
    }
  })
})

describe('observability', () => {
  it('counts requests by route and status, and predictions by class, in /metrics', async () => {
    const own = await server()
    await own.inject({ method: 'POST', url: '/predict', payload: { features: [setosa, virginica, setosa] } })
    await own.inject({ method: 'POST', url: '/predict', payload: { features: [1, 2] } })
    const text = (await own.inject({ url: '/metrics' })).body
    expect(text).toMatch(/mlskel_http_requests_total\{[^}]*route="\/predict"[^}]*status="200"[^}]*\} 1/)
    expect(text).toMatch(/mlskel_http_requests_total\{[^}]*route="\/predict"[^}]*status="400"[^}]*\} 1/)
    expect(text).toMatch(/mlskel_predictions_total\{class="setosa"\} 2/)
    expect(text).toContain(`model_id="${record.model_id}"`)
  })

  it('serves the OpenAPI document and the docs page, open even with a token', async () => {
    const guarded = await server({ apiToken: 't' })
    const doc = await guarded.inject({ url: '/openapi.json' })
    expect(doc.statusCode).toBe(200)
    expect(doc.json().openapi).toMatch(/^3\.1/)
    expect((await guarded.inject({ url: '/docs' })).statusCode).toBeLessThan(400)
  })
})

describe('a newer model', () => {
  it('is swapped in while requests run: none fails, and answers name the new model after the swap', async () => {
    const swapping = await irisProject()
    try {
      const first = (await swapping.train(1)).model.id
      const live = await server({ modelsDir: swapping.modelsDir, metadataDir: swapping.metadataDir })
      const seen: string[] = []
      const statuses = new Set<number>()
      let stop = false
      const load = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const res = await live.inject({ method: 'POST', url: '/predict', payload: { features: [setosa, virginica] } })
          statuses.add(res.statusCode)
          seen.push((res.json() as { release: { model_id: string } }).release.model_id)
        }
      })
      const second = (await swapping.train(2)).model.id
      expect(second).not.toBe(first)
      const deadline = Date.now() + 10_000
      while (seen.at(-1) !== second && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      const swappedAt = seen.length
      await new Promise((resolve) => setTimeout(resolve, 50))
      stop = true
      await Promise.all(load)
      expect([...statuses]).toEqual([200])
      expect(seen[0]).toBe(first)
      expect(seen.at(-1)).toBe(second)
      expect(seen.slice(swappedAt).every((id) => id === second)).toBe(true)
      expect((await live.inject({ url: '/version' })).json().model_id).toBe(second)
    } finally {
      await swapping.remove()
    }
  }, 20_000)
})

describe('logs', () => {
  function capture(level: 'info' | 'debug' | 'warn'): { logger: Logger; lines: () => Record<string, unknown>[] } {
    let text = ''
    const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) })
    return { logger: pino({ level }, stream), lines: () => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) }
  }

  it('writes one line per prediction request with the model, rows and timing, and the inputs only at debug', async () => {
    for (const level of ['info', 'debug'] as const) {
      const { logger, lines } = capture(level)
      const logged = await server({ logger })
      await logged.inject({ method: 'POST', url: '/predict', payload: { features: [setosa, virginica] } })
      await logged.inject({ url: '/health' })
      const predictions = lines().filter((line) => line.msg === 'prediction')
      expect(predictions, level).toEqual([expect.objectContaining({ level: 30, route: '/predict', model_id: record.model_id, rows: 2, timing: expect.any(Number) })])
      if (level === 'debug') expect(predictions[0]!.inputs).toEqual([setosa, virginica])
      else expect(predictions[0]).not.toHaveProperty('inputs')
      expect(lines().filter((line) => line.msg === 'incoming request' || line.msg === 'request completed')).toEqual([])
    }
  })

  it('logs nothing per request at the default level, warn', async () => {
    const { logger, lines } = capture('warn')
    const quiet = await server({ logger })
    await quiet.inject({ method: 'POST', url: '/predict', payload: { features: setosa } })
    await quiet.inject({ method: 'POST', url: '/predict', payload: { features: [1] } })
    expect(lines()).toEqual([])
  })
})

describe('a model kind of the project\'s own', () => {
  it('is served once its loader is registered, here a regression', async () => {
    const signature: Signature = { features: [{ name: 'x', type: 'number' }, { name: 'y', type: 'number' }], target: { name: 'z', type: 'number' } }
    const linear = (weights: number[]): Predictor => ({
      kind: 'test-linear',
      signature,
      predict: (X) => X.map((row) => row.reduce((sum, v, i) => sum + v * weights[i]!, 0)),
      toJSON: () => ({ weights }),
    })
    registerModelKind('test-linear', (json) => linear((json as { weights: number[] }).weights))
    const custom = await irisProject()
    try {
      const predictor = linear([2, 1])
      const model = await saveModel(custom.modelsDir, predictor, { description: 'linear', inputExample: [{ x: 1, y: 2 }] })
      const trainingData = { X: [[0, 0], [1, 1], [2, 3]], y: [0, 3, 7] }
      await recordTraining({
        root: custom.root,
        metadataDir: custom.metadataDir,
        model,
        description: 'z = 2x + y',
        task: 'regression',
        hyperParameters: {},
        params: {},
        overrides: {},
        data: { location: 'data/raw/xy.csv', identifier: 'a'.repeat(64), rows: 3, features: ['x', 'y'], target: 'z' },
        trainingData,
        evaluation: { hold_out: summarizeHoldOut('regression', predictor, trainingData) },
        testingStrategy: 'none (test fixture)',
        scores: { r2: { cv: 1 } },
      })
      const own = await server({ modelsDir: custom.modelsDir, metadataDir: custom.metadataDir })
      const res = await own.inject({ method: 'POST', url: '/predict', payload: { records: [{ x: 1, y: 2 }, { y: 0, x: 10 }] } })
      expect(res.json()).toMatchObject({ release: { model_id: model.id }, result: [4, 20] })
      expect((await own.inject({ method: 'POST', url: '/invocations', payload: { inputs: { x: [3], y: [1] } } })).json()).toEqual({ predictions: [7] })
      const proba = await own.inject({ method: 'POST', url: '/predict?probabilities=true', payload: { features: [1, 2] } })
      expect(proba.statusCode).toBe(400)
      expect(proba.json().error.details).toEqual([{ row: null, field: 'probabilities', problem: 'only classification models give probabilities' }])
    } finally {
      await custom.remove()
    }
  })
})

describe('validating once', () => {
  it('predicts the rows it validated through the kind\'s functions for checked rows, not the predictor\'s checking ones', async () => {
    const signature: Signature = { features: [{ name: 'x', type: 'number' }, { name: 'y', type: 'number' }], target: { name: 'z', type: 'number' } }
    const calls = { checking: 0, unchecked: 0 }
    const sum = (X: number[][]) => X.map((row) => row[0]! + row[1]!)
    const counted = (): Predictor =>
      withUncheckedRows(
        { kind: 'test-counted', signature, predict: (X) => (calls.checking++, sum(X)), toJSON: () => ({}) },
        { predict: (X) => (calls.unchecked++, sum(X)) },
      )
    registerModelKind('test-counted', () => counted())
    const custom = await irisProject()
    try {
      const predictor = counted()
      const model = await saveModel(custom.modelsDir, predictor, { description: 'sum', inputExample: [{ x: 1, y: 2 }] })
      const trainingData = { X: [[0, 0], [1, 1]], y: [0, 2] }
      await recordTraining({
        root: custom.root,
        metadataDir: custom.metadataDir,
        model,
        description: 'z = x + y',
        task: 'regression',
        hyperParameters: {},
        params: {},
        overrides: {},
        data: { location: 'data/raw/xy.csv', identifier: 'a'.repeat(64), rows: 2, features: ['x', 'y'], target: 'z' },
        trainingData,
        evaluation: { hold_out: summarizeHoldOut('regression', predictor, trainingData) },
        testingStrategy: 'none (test fixture)',
        scores: { r2: { cv: 1 } },
      })
      const own = await server({ modelsDir: custom.modelsDir, metadataDir: custom.metadataDir })
      const checkedOnLoad = calls.checking
      expect((await own.inject({ method: 'POST', url: '/predict', payload: { features: [1, 2] } })).json().result).toEqual([3])
      // a missing value makes this model's answer NaN, which JSON writes as null
      expect((await own.inject({ method: 'POST', url: '/predict', payload: { records: [{ x: 1, y: 2 }, { y: null, x: 1 }] } })).json().result).toEqual([3, null])
      expect((await own.inject({ method: 'POST', url: '/invocations', payload: 'y,x\n1,"\n2"\n', headers: { 'content-type': 'text/csv' } })).json()).toEqual({ predictions: [3] })
      expect(calls).toEqual({ checking: checkedOnLoad, unchecked: 3 })
    } finally {
      await custom.remove()
    }
  })
})

describe('a model of typed inputs (number, boolean, category, datetime)', () => {
  let typed: IrisProject
  let served: FastifyInstance
  beforeAll(async () => {
    typed = await typedProject()
    await typed.train(7)
    served = await server({ modelsDir: typed.modelsDir, metadataDir: typed.metadataDir })
  })
  afterAll(() => typed.remove())

  const send = (url: string, payload: unknown) => served.inject({ method: 'POST', url, payload: payload as Record<string, unknown> })
  const unseenLine = async () => /^mlskel_unseen_category_total\{feature="colour"\} .*$/m.exec((await served.inject({ url: '/metrics' })).body)?.[0]
  // raw values as the training data had them: a folded rare category, an unseen one, nulls, dates in both forms
  const records = [
    { age: 62, member: false, colour: 'blue', signup: '2021-06-15' },
    { age: 30, member: true, colour: 'red', signup: '15/06/2021' },
    { age: null, member: true, colour: 'teal', signup: null },
    { age: 45, member: null, colour: 'purple', signup: '2023-01-02T08:30:00' },
  ]
  // the model's columns for them, by hand: age, member, colour code ((other), blue, green, red), year, month, weekday
  const columns = [
    [62, 0, 1, 2021, 6, 1],
    [30, 1, 3, 2021, 6, 1],
    [NaN, 1, 0, NaN, NaN, NaN],
    [45, NaN, NaN, 2023, 1, 0],
  ]

  it('predicts records of raw values, nulls and an unseen category among them, as the model does their columns, and counts the unseen value', async () => {
    const res = await send('/predict', { records, probabilities: true })
    expect(res.statusCode).toBe(200)
    const body = res.json() as { result: string[]; probabilities: number[][]; classes: string[] }
    expect(body.classes).toEqual(['no', 'yes'])
    const predictor = servedModelOf(served)!.predictor
    expect(body.result).toEqual(predictor.predict(columns))
    expect(body.probabilities).toEqual(predictor.predictProba!(columns))
    expect(body.result[1]).toBe('yes') // red churns
    expect(await unseenLine()).toBe('mlskel_unseen_category_total{feature="colour"} 1')
  })

  it('gives the same answers for the same values in every body format, CSV with empty cells and tokens included', async () => {
    const expected = servedModelOf(served)!.predictor.predict(columns)
    const names = ['age', 'member', 'colour', 'signup']
    const arrays = records.map((r) => names.map((name) => r[name as keyof typeof r]))
    expect((await send('/predict', { features: arrays })).json().result).toEqual(expected)
    expect((await send('/predict', { features: arrays[1] })).json().result).toEqual([expected[1]])
    expect((await send('/invocations', { dataframe_split: { columns: [...names].reverse(), data: arrays.map((a) => [...a].reverse()) } })).json()).toEqual({ predictions: expected })
    expect((await send('/invocations', { dataframe_records: records })).json()).toEqual({ predictions: expected })
    expect((await send('/invocations', { inputs: Object.fromEntries(names.map((name, i) => [name, arrays.map((a) => a[i])])) })).json()).toEqual({ predictions: expected })
    const csv = 'signup,colour,member,age\n2021-06-15,blue,false,62\n15/06/2021,"red",yes,30\n,teal,true,\n2023-01-02 08:30,purple,?,45\n'
    const res = await served.inject({ method: 'POST', url: '/invocations', payload: csv, headers: { 'content-type': 'text/csv' } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ predictions: expected })
  })

  it('answers 400 for a value its input does not take, naming the row, the input and what it takes, and counts nothing of a refused request', async () => {
    const before = await unseenLine()
    const res = await send('/predict', { records: [records[0], { age: 'abc', member: true, colour: 'purple', signup: 3 }] })
    expect(res.statusCode).toBe(400)
    const { error } = res.json() as { error: { code: string; message: string; details: unknown[] } }
    expect(error.code).toBe('MLSKEL_SERVE_INVALID_INPUT')
    expect(error.message).toMatch(/^row 1, field "age": is the string "abc", not a number \(and 1 more problem, in details\)$/)
    expect(error.details).toEqual([
      { row: 1, field: 'age', problem: 'is the string "abc", not a number' },
      { row: 1, field: 'signup', problem: expect.stringMatching(/^is number 3, not a date or timestamp \(an ISO 8601 string such as "2024-03-31"/) },
    ])
    const csv = await served.inject({ method: 'POST', url: '/invocations', payload: 'age,member,colour,signup\n1,2,red,2024-01-01\n', headers: { 'content-type': 'text/csv' } })
    expect(csv.json().error.details).toEqual([{ row: 0, field: 'member', problem: 'is "2", not a boolean (true or false)' }])
    expect(await unseenLine()).toBe(before)
  })

  it('describes each input by its type in /openapi.json, with the raw input example', async () => {
    const doc = (await served.inject({ url: '/openapi.json' })).json() as {
      components: { schemas: { Record: { properties: Record<string, Record<string, unknown>>; required: string[] }; Row: { prefixItems: { title: string }[] } } }
      paths: { '/predict': { post: { requestBody: { content: { 'application/json': { examples: { records: { value: unknown } } } } } } } }
    }
    const { Record: record, Row: row } = doc.components.schemas
    expect(record.required).toEqual(['age', 'member', 'colour', 'signup'])
    expect(row.prefixItems.map((item) => item.title)).toEqual(['age', 'member', 'colour', 'signup'])
    // each input's schema is the one its request validators compile, with words and examples added
    const { fields } = servedModelOf(served)!.schema
    for (const field of fields) {
      const { description: _description, examples: _examples, format: _format, ...constraints } = record.properties[field.name]!
      expect(constraints, field.name).toEqual(valueSchemaOf(field))
    }
    expect(record.properties.age).toMatchObject({ type: ['number', 'null'], examples: [expect.any(Number), expect.any(Number)] })
    expect(record.properties.member).toMatchObject({ examples: [true, false], description: expect.stringContaining('"yes" and "no" are read too') })
    const colour = record.properties.colour as { examples: string[]; description: string }
    expect(colour.examples).toEqual(['(other)', 'blue', 'green', 'red', 'mauve', 'teal'])
    expect(colour.description).toMatch(/"mauve", "teal" \(rare in training\) are read as "\(other\)"; any other value is accepted and predicted as a missing value/)
    expect(record.properties.signup).toMatchObject({ type: ['string', 'null'], format: 'date-time', description: expect.stringContaining('%d/%m/%Y') })
    expect(doc.paths['/predict'].post.requestBody.content['application/json'].examples.records.value).toEqual({ records: servedModelOf(served)!.inputExample })
  })
})
