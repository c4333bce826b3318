// Serving schema first (issue 15, item 6), proven through the server: a model's request validators are compiled when
// it swaps in (not by a request), and requests are validated by the served model's signature, whatever the previous
// one's; the OpenAPI document follows; the answers are serialized by the routes' response schemas; CSV is read by
// csv-parse; and every kind mlskel serves (its own, xgboost's, onnx's) predicts the rows validated once, without
// checking them again.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { emptyRow, encodeValue, inputSchemaOf, type InputSchema } from '../data/index.js'
import { recordTraining } from '../metadata/index.js'
import { checkedRowsPredictor, exportOnnx, readOnnxModel, readXgboostModel, saveModel, summarizeHoldOut, trainGradientBoosting, type Predictor } from '../models/index.js'
import { buildServer, servedModelOf } from './server.js'
import { irisProject, TYPED_SIGNATURE, typedProject, typedRows, IRIS_FEATURES } from './test-models.js'

// Which input schemas the server had validators made for, in order: requestReader compiles them (Ajv) on its first
// call for a schema, so a call is a compilation.
const compiled = vi.hoisted(() => [] as string[][])
vi.mock('./validate.js', async (original) => {
  const actual = await original<typeof import('./validate.js')>()
  const seen = new WeakSet<object>()
  return {
    ...actual,
    requestReader: (schema: InputSchema, maxRows: number) => {
      if (!seen.has(schema)) compiled.push([...schema.names])
      seen.add(schema)
      return actual.requestReader(schema, maxRows)
    },
  }
})

const servers: FastifyInstance[] = []
const folders: string[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })))
})

const TYPED_INPUTS = ['age', 'member', 'colour', 'signup']
const setosa = [5.1, 3.5, 1.4, 0.2]

async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

type Doc = { components: { schemas: { Record: { properties?: Record<string, unknown> }; Row: { prefixItems?: { title: string }[] } } }; info: { description: string } }

describe('a served model swapped for one of another signature', () => {
  it('has its validators compiled when it swaps in, before any request; requests are validated by its signature, and the document shows it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlskel-schema-first-'))
    folders.push(root)
    const iris = await irisProject(root)
    const typed = await typedProject(root)
    const first = (await iris.train(1)).model.id
    const app = await buildServer({ modelsDir: iris.modelsDir, metadataDir: iris.metadataDir })
    servers.push(app)
    const post = (payload: unknown, url = '/predict') => app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> })
    const doc = async () => (await app.inject('/openapi.json')).json<Doc>()

    expect(compiled).toEqual([IRIS_FEATURES])
    expect((await post({ features: setosa })).json().release.model_id).toBe(first)
    expect(Object.keys((await doc()).components.schemas.Record.properties!)).toEqual(IRIS_FEATURES)

    // a newer model of other inputs: compiled by the swap itself (nothing is asked of the server meanwhile)
    const second = (await typed.train(2)).model.id
    await until('the typed model\'s validators', () => compiled.length === 2)
    expect(compiled[1]).toEqual(TYPED_INPUTS)
    expect(servedModelOf(app)!.id).toBe(second)

    // iris's row is now refused value by value, as the typed model's inputs take them
    const refused = await post({ features: setosa })
    expect(refused.statusCode).toBe(400)
    expect(refused.json().error).toMatchObject({ code: 'MLSKEL_SERVE_INVALID_INPUT', fix: expect.any(String) })
    expect(refused.json().error.details).toEqual([
      { row: 0, field: 'member', problem: 'is number 3.5, not a boolean (true or false)' },
      { row: 0, field: 'signup', problem: expect.stringMatching(/^is number 0\.2, not a date or timestamp/) },
    ])
    expect((await post({ records: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] })).json().error.details).toContainEqual({ row: 0, field: 'age', problem: 'is missing' })
    const typedRecord = { age: 30, member: true, colour: 'red', signup: '2021-06-15' }
    const answered = await post({ records: [typedRecord] })
    expect(answered.statusCode).toBe(200)
    expect(answered.json().release.model_id).toBe(second)
    const typedDoc = await doc()
    expect(typedDoc.info.description).toContain(second)
    expect(Object.keys(typedDoc.components.schemas.Record.properties!)).toEqual(TYPED_INPUTS)
    expect(typedDoc.components.schemas.Row.prefixItems!.map((item) => item.title)).toEqual(TYPED_INPUTS)

    // and back to iris's inputs with a newer iris model: compiled once more, at its swap
    const third = (await iris.train(3)).model.id
    await until('the newer iris model\'s validators', () => compiled.length === 3)
    expect(compiled[2]).toEqual(IRIS_FEATURES)
    expect((await post({ features: setosa })).json()).toMatchObject({ release: { model_id: third }, result: ['setosa'] })
    expect((await post({ records: [typedRecord] })).json().error.details).toContainEqual({ row: 0, field: 'age', problem: 'is not a feature of the model (its features: sepal_length, sepal_width, petal_length, petal_width)' })
    expect(Object.keys((await doc()).components.schemas.Record.properties!)).toEqual(IRIS_FEATURES)
    // requests compile nothing
    expect(compiled).toHaveLength(3)
  }, 30_000)
})

describe('a served model\'s answers', () => {
  it('are written by the serializers Fastify compiled of the routes\' response schemas, errors too', async () => {
    const project = await irisProject()
    folders.push(project.root)
    await project.train(4)
    const app = await buildServer({ modelsDir: project.modelsDir, metadataDir: project.metadataDir })
    servers.push(app)
    const used: Record<string, boolean> = {}
    app.addHook('preSerialization', (request, reply, payload, done) => {
      used[`${request.method} ${request.url.split('?')[0]} ${reply.statusCode}`] = typeof reply.getSerializationFunction(String(reply.statusCode)) === 'function'
      done(null, payload)
    })
    // a route of no schema, for contrast: Fastify's default JSON.stringify
    app.get('/unschemed', async () => ({ a: 1 }))
    const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> })
    expect((await post('/predict?probabilities=true', { features: setosa })).json()).toMatchObject({ result: ['setosa'], classes: ['setosa', 'versicolor', 'virginica'] })
    expect((await post('/predict', { features: [1] })).statusCode).toBe(400)
    expect((await post('/invocations', { instances: [setosa] })).json()).toEqual({ predictions: ['setosa'] })
    expect((await post('/invocations', { instances: [] })).statusCode).toBe(400)
    for (const url of ['/health', '/ready', '/version', '/metadata', '/unschemed']) await app.inject(url)
    expect(used).toEqual({
      'POST /predict 200': true,
      'POST /predict 400': true,
      'POST /invocations 200': true,
      'POST /invocations 400': true,
      'GET /health 200': true,
      'GET /ready 200': true,
      'GET /version 200': true,
      'GET /metadata 200': true,
      'GET /unschemed 200': false,
    })
  })

  it('read text/csv with csv-parse: a quoted field holds commas, quotes and line breaks', async () => {
    const project = await typedProject()
    folders.push(project.root)
    await project.train(5)
    const app = await buildServer({ modelsDir: project.modelsDir, metadataDir: project.metadataDir })
    servers.push(app)
    const colour = 'dark, "deep"\nred'
    const csv = `age,member,colour,signup\r\n"4\n1",yes,"dark, ""deep""\nred",2021-06-15\r\n30,"no","red","15/06/2021"\r\n`
    const res = await app.inject({ method: 'POST', url: '/invocations', payload: csv, headers: { 'content-type': 'text/csv' } })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.details).toEqual([{ row: 0, field: 'age', problem: 'is "4\\n1", not a number' }])
    const fixed = csv.replace('"4\n1"', '41')
    const answered = await app.inject({ method: 'POST', url: '/invocations', payload: fixed, headers: { 'content-type': 'text/csv' } })
    expect(answered.statusCode).toBe(200)
    const records = [
      { age: 41, member: true, colour, signup: '2021-06-15' },
      { age: 30, member: false, colour: 'red', signup: '15/06/2021' },
    ]
    // the same answers as for the same values in JSON (each request counts its unseen colour)
    expect(answered.json()).toEqual((await app.inject({ method: 'POST', url: '/invocations', payload: { dataframe_records: records } })).json())
    expect((await app.inject('/metrics')).body).toMatch(/^mlskel_unseen_category_total\{feature="colour"\} 2$/m)
  })
})

describe('the kinds from elsewhere', () => {
  const typedColumns = (records: Record<string, unknown>[]) => {
    const schema = inputSchemaOf(TYPED_SIGNATURE)
    return records.map((record) => {
      const row = emptyRow(schema)
      for (const field of schema.fields) encodeValue(field, record[field.name] ?? null, row)
      return row
    })
  }

  async function serve(predictor: Predictor, o: { task: 'classification' | 'regression'; data: { X: number[][]; y: (string | number)[] }; inputExample: Record<string, string | number | boolean | null>[]; features: string[] }): Promise<FastifyInstance> {
    const root = await mkdtemp(join(tmpdir(), 'mlskel-schema-first-'))
    folders.push(root)
    const modelsDir = join(root, 'models')
    const metadataDir = join(modelsDir, 'metadata')
    const model = await saveModel(modelsDir, predictor, { description: predictor.kind, inputExample: o.inputExample })
    await recordTraining({
      root,
      metadataDir,
      model,
      description: `a ${predictor.kind} model`,
      task: o.task,
      hyperParameters: {},
      params: {},
      overrides: {},
      data: { location: 'data/raw/x.csv', identifier: 'a'.repeat(64), rows: o.data.X.length, features: o.features, target: 'y' },
      trainingData: o.data,
      evaluation: { hold_out: summarizeHoldOut(o.task, predictor, o.data) },
      testingStrategy: 'none (test fixture)',
      scores: {},
    })
    const app = await buildServer({ modelsDir, metadataDir })
    servers.push(app)
    return app
  }

  it('serve an onnx model through its functions for checked rows, as it predicts', async () => {
    const { records, churn } = typedRows()
    const data = { X: typedColumns(records), y: churn }
    const boosted = await trainGradientBoosting({ task: 'classification', signature: TYPED_SIGNATURE, data, seed: 1, hyperParameters: { max_iter: 10, n_jobs: 1 } })
    const { predictor } = readOnnxModel(exportOnnx(boosted, { modelId: 'exported' }))
    const app = await serve(predictor, { task: 'classification', data, inputExample: records.slice(0, 3), features: TYPED_SIGNATURE.features.map((f) => f.name) })
    const served = servedModelOf(app)!.predictor
    expect(served.kind).toBe('onnx')
    expect(checkedRowsPredictor(served)).not.toBe(served)
    const some = records.slice(0, 20)
    const res = await app.inject({ method: 'POST', url: '/predict', payload: { records: some, probabilities: true } })
    expect(res.statusCode).toBe(200)
    expect(res.json().result).toEqual(served.predict(typedColumns(some)))
    expect(res.json().result).toEqual(boosted.predict(typedColumns(some)))
    expect(res.json().probabilities).toEqual(served.predictProba!(typedColumns(some)))
    expect((await app.inject({ method: 'POST', url: '/predict', payload: { records: [{ ...records[0], member: 'maybe' }] } })).json().error.code).toBe('MLSKEL_SERVE_INVALID_INPUT')
  })

  it('serve an xgboost model through its functions for checked rows, as it predicts', async () => {
    // one stump: x < 0.5 (or missing) → -1, else 1; from a base score of 0.5
    const tree = {
      base_weights: [0, 0, 0], categories: [], categories_nodes: [], categories_segments: [], categories_sizes: [], default_left: [1, 0, 0], id: 0,
      left_children: [1, -1, -1], loss_changes: [0, 0, 0], parents: [2147483647, 0, 0], right_children: [2, -1, -1], split_conditions: [0.5, -1, 1],
      split_indices: [0, 0, 0], split_type: [0, 0, 0], sum_hessian: [1, 1, 1], tree_param: { num_deleted: '0', num_feature: '2', num_nodes: '3', size_leaf_vector: '0' },
    }
    const json = {
      learner: {
        attributes: {}, feature_names: ['x', 'y'], feature_types: ['float', 'float'],
        gradient_booster: { model: { gbtree_model_param: { num_parallel_tree: '1', num_trees: '1', size_leaf_vector: '0' }, tree_info: [0], trees: [tree] }, name: 'gbtree' },
        learner_model_param: { base_score: '5E-1', boost_from_average: '1', num_class: '0', num_feature: '2', num_target: '1' },
        objective: { name: 'reg:squarederror', reg_loss_param: { scale_pos_weight: '1' } },
      },
      version: [1, 7, 4],
    }
    const { predictor } = readXgboostModel(json)
    const data = { X: [[0, 0], [1, 1]], y: [-0.5, 1.5] }
    const app = await serve(predictor, { task: 'regression', data, inputExample: [{ x: 0, y: 0 }], features: ['x', 'y'] })
    const served = servedModelOf(app)!.predictor
    expect(served.kind).toBe('xgboost')
    expect(checkedRowsPredictor(served)).not.toBe(served)
    expect((await app.inject({ method: 'POST', url: '/predict', payload: { features: [[0.2, 9], [0.7, 9], [null, 1]] } })).json().result).toEqual([-0.5, 1.5, -0.5])
    const csv = await app.inject({ method: 'POST', url: '/invocations', payload: 'y,x\n1,0.7\n', headers: { 'content-type': 'text/csv' } })
    expect(csv.json()).toEqual({ predictions: [1.5] })
    expect((await app.inject({ method: 'POST', url: '/predict', payload: { features: [1, 'a'] } })).json().error.details).toEqual([{ row: 0, field: 'y', problem: 'is the string "a", not a number' }])
  })
})
