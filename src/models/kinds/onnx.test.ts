// onnx: models in the ONNX format, predicted by ONNX Runtime (onnxruntime-node, a dev dependency of mlskel). Always:
// graphs written here (models/onnx/proto.ts) prove how signatures are found (one input [N, F] or one per feature,
// labels, probabilities as a tensor or through a ZipMap, a batch fixed at 1) and every refusal; the model contract
// suite runs with mlskel's own trees exported to ONNX as the trainer. With PyTorch and ONNX for Python
// (python3-torch, python3-onnx): models they make in this run (scripts/fixtures/onnx_models.py), predicted as their
// producers predict them. CI installs both (.ci/run), and there their absence fails this file; elsewhere those parts
// skip, saying what to install.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PYTHON, requireTool } from '../../../tests/require-tool.js'
import { canonicalJson } from '../../json/index.js'
import { runModelContract, type ContractTrainInput } from '../contract/test-contract.js'
import { exportOnnx, loadSavedModel, readOnnxModel, saveModel, trainGradientBoosting, type Predictor, type ReadOnnxOptions } from '../index.js'
import { ELEM, type NodeSpec, type ValueInfoSpec } from '../onnx/proto.js'
import { createOnnxHost } from '../onnx/runtime.js'
import { mixed } from '../contract/test-contract.js'
import { classifierModel, graph, linearModel, linearNode, softmaxOf, tensor } from './test-onnx.js'
import { errorOf } from '../../errors/test-errors.js'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../../../scripts/fixtures/onnx_models.py', import.meta.url))

// ---------------------------------------------------------------------------------------------------------------
// Graphs written here (./test-onnx.ts)

const rows = [
  [0, 0, 0],
  [1, 2, 3],
  [-1.5, 0.25, 10],
  [0.125, -7, 2],
]
/** Exact in float32 too, for these rows (ONNX Runtime computes in float32). */
const linear = (r: number[]) => r[0]! + 2 * r[1]! + 3 * r[2]! + 0.5

describe('the onnx kind, on graphs written here', () => {
  it('reads a regression of one input [N, F]: features f0 … from its width, the producer as the file states it', () => {
    const { predictor, signature, task, producer } = readOnnxModel(graph({ nodes: [linearNode('x', 'y', [1, 2, 3], [0.5])], inputs: [tensor('x', ['N', 3])], outputs: [tensor('y', ['N', 1])], producer: ['skl2onnx', '1.16.0'] }))
    expect(task).toBe('regression')
    expect(producer).toEqual({ tool: 'skl2onnx', version: '1.16.0' })
    expect(signature).toEqual({ features: ['f0', 'f1', 'f2'].map((name) => ({ name, type: 'number' })), target: { name: 'target', type: 'number' } })
    expect(predictor.kind).toBe('onnx')
    expect(predictor.predict(rows)).toEqual(rows.map(linear))
    expect(predictor.predict([])).toEqual([])
    expect(predictor.predictProba).toBeUndefined()
  })

  it('takes the names, target and categories given; a category code the signature does not hold is fed as missing (NaN)', () => {
    const { predictor, signature } = readOnnxModel(linearModel(), { featureNames: ['a', 'b', 'c'], target: 'price', categories: { b: ['low', 'high'] } })
    expect(signature.features[1]).toEqual({ name: 'b', type: 'category', categories: ['low', 'high'] })
    expect(signature.target).toEqual({ name: 'price', type: 'number' })
    const [inside, outside, notWhole] = predictor.predict([
      [1, 1, 1],
      [1, 2, 1],
      [1, 0.5, 1],
    ])
    expect(inside).toBe(linear([1, 1, 1]))
    expect(outside).toBeNaN()
    expect(notWhole).toBeNaN()
  })

  it('reads one input per feature ([N, 1] or [N]), each of its own type, naming the features by the inputs; a width left open when names are given', () => {
    const concat: NodeSpec = { opType: 'Concat', domain: '', name: 'cat', inputs: ['sepal', 'petal', 'stem32'], outputs: ['x'], attributes: [{ name: 'axis', type: 'int', value: 1 }] }
    const cast: NodeSpec = { opType: 'Cast', domain: '', name: 'cast', inputs: ['stem'], outputs: ['stem32'], attributes: [{ name: 'to', type: 'int', value: ELEM.FLOAT }] }
    const columns = graph({
      nodes: [cast, concat, linearNode('x', 'y', [1, 2, 3], [0.5])],
      inputs: [tensor('sepal', ['N', 1]), tensor('petal', ['N', 1]), tensor('stem', ['N', 1], ELEM.DOUBLE)],
      outputs: [tensor('y', ['N', 1])],
    })
    const { predictor, signature } = readOnnxModel(columns)
    expect(signature.features.map((f) => f.name)).toEqual(['sepal', 'petal', 'stem'])
    expect(predictor.predict(rows)).toEqual(rows.map(linear))
    expect(errorOf(() => readOnnxModel(columns, { featureNames: ['sepal', 'petal', 'leaf'] })).message).toContain('the graph\'s input names are the model\'s')
    const open = readOnnxModel(linearModel(tensor('x', ['N', 'F'])), { featureNames: ['a', 'b', 'c'] })
    expect(open.predictor.predict(rows)).toEqual(rows.map(linear))
  })

  it('runs a model whose batch is fixed at 1 row by row, and says so', () => {
    const { predictor } = readOnnxModel(linearModel(tensor('x', [1, 3]), tensor('y', [1, 1])))
    expect(predictor.warnings).toEqual([expect.stringContaining('fixed at 1')])
    expect(predictor.predict(rows)).toEqual(rows.map(linear))
  })

  it('reads a classifier\'s label and probabilities, its classes from the classifier; probabilities sum to 1 in double', () => {
    const X = [
      [1, 0],
      [0, 1],
      [-1, -1],
      [0.2, 0.1],
    ]
    for (const labels of [
      [10, 20, 30],
      ['cat', 'dog', 'bird'],
    ]) {
      for (const zipmap of [false, true]) {
        const { predictor, signature, task } = readOnnxModel(classifierModel({ labels, zipmap }))
        expect(task).toBe('classification')
        expect(signature.target).toEqual({ name: 'target', type: 'category', classes: labels })
        expect(predictor.predict(X)).toEqual([labels[0], labels[1], labels[2], labels[0]])
        const proba = predictor.predictProba!(X)
        proba.forEach((p, i) => {
          expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12)
          softmaxOf(X[i]!).forEach((q, k) => expect(Math.abs(q - p[k]!)).toBeLessThan(1e-6))
        })
      }
    }
    // classes given rename the graph's labels, in its order
    const renamed = readOnnxModel(classifierModel({ labels: [10, 20, 30], zipmap: true }), { classes: ['a', 'b', 'c'] })
    expect(renamed.predictor.predict([[1, 0]])).toEqual(['a'])
  })

  it('takes one float output [N, K] as probabilities (a softmax), and one value per row as a binary classifier\'s when told', async () => {
    const softmax = graph({
      nodes: [linearNode('x', 'scores', [2, 0, 0, 2, -2, -2], [0, 0, 0.5]), { opType: 'Softmax', domain: '', name: 'sm', inputs: ['scores'], outputs: ['p'], attributes: [{ name: 'axis', type: 'int', value: 1 }] }],
      inputs: [tensor('x', ['N', 2])],
      outputs: [tensor('p', ['N', 3])],
    })
    const { predictor, signature } = readOnnxModel(softmax, { classes: ['x', 'y', 'z'] })
    expect(signature.target).toEqual({ name: 'target', type: 'category', classes: ['x', 'y', 'z'] })
    expect(predictor.predict([[1, 0], [0, 1], [-1, -1]])).toEqual(['x', 'y', 'z'])
    // a sigmoid: P(second class)
    const sigmoid = graph({
      nodes: [linearNode('x', 'z', [1, -1], [0]), { opType: 'Sigmoid', domain: '', name: 'sig', inputs: ['z'], outputs: ['p'], attributes: [] }],
      inputs: [tensor('x', ['N', 2])],
      outputs: [tensor('p', ['N', 1])],
    })
    expect(readOnnxModel(sigmoid).task).toBe('regression')
    const binary = readOnnxModel(sigmoid, { task: 'classification', classes: ['no', 'yes'] }).predictor
    expect(binary.predict([[2, 0], [0, 2]])).toEqual(['yes', 'no'])
    const p = 1 / (1 + Math.exp(-2))
    binary.predictProba!([[2, 0]])[0]!.forEach((v, k) => expect(Math.abs(v - [1 - p, p][k]!)).toBeLessThan(1e-6))
    const batch = await binary.predictBatch!([[2, 0], [0, 2]], { probabilities: true })
    expect(batch).toEqual({ predictions: binary.predict([[2, 0], [0, 2]]), probabilities: binary.predictProba!([[2, 0], [0, 2]]) })
  })

  it('refuses, at predict, outputs that are not probabilities, or labels outside its classes', () => {
    const logits = readOnnxModel(graph({ nodes: [linearNode('x', 'scores', [2, 0, 0, 2], [0, 0])], inputs: [tensor('x', ['N', 2])], outputs: [tensor('scores', ['N', 2])] })).predictor
    const notProbabilities = errorOf(() => logits.predict([[3, 0]]))
    expect(notProbabilities.code).toBe('MLSKEL_ONNX_RUN_FAILED')
    expect(notProbabilities.message).toContain('softmax')
    const argmax = graph({
      nodes: [linearNode('x', 'scores', [2, 0, 0, 2], [0, 0]), { opType: 'ArgMax', domain: '', name: 'am', inputs: ['scores'], outputs: ['label'], attributes: [{ name: 'axis', type: 'int', value: 1 }, { name: 'keepdims', type: 'int', value: 0 }] }],
      inputs: [tensor('x', ['N', 2])],
      outputs: [tensor('label', ['N'], ELEM.INT64)],
    })
    // a label alone is an index into the classes given
    const indexed = readOnnxModel(argmax, { classes: ['left', 'right'] }).predictor
    expect(indexed.predict([[1, 0], [0, 1]])).toEqual(['left', 'right'])
    expect(indexed.predictProba).toBeUndefined()
    const refused = errorOf(() => readOnnxModel(argmax))
    expect(refused.code).toBe('MLSKEL_ONNX_UNSUPPORTED')
    expect(refused.message).toContain('how many classes')
  })

  it('gives ONNX Runtime\'s own failure to predict as a coded error', () => {
    // a LinearRegressor of 2 coefficients for 3 features: ONNX Runtime loads it, and fails on a row
    const { predictor } = readOnnxModel(graph({ nodes: [linearNode('x', 'y', [1, 2], [0.5])], inputs: [tensor('x', ['N', 3])], outputs: [tensor('y', ['N', 1])] }))
    const failed = errorOf(() => predictor.predict([[1, 2, 3]]))
    expect(failed.code).toBe('MLSKEL_ONNX_RUN_FAILED')
    expect(failed.message).toContain('ONNX Runtime failed to predict')
    expect(failed.message).toContain('coefficients length (2)')
  })

  it('refuses inputs it cannot map, naming the input', () => {
    const cases: [ValueInfoSpec, string][] = [
      [tensor('ids', ['N', 3], ELEM.INT64), 'int64'],
      [tensor('text', ['N', 3], ELEM.STRING), 'string'],
      [tensor('image', ['N', 3, 3]), '2-D input'],
      [tensor('x', [4, 3]), 'exactly 4 rows'],
      [tensor('x', ['N', 'F']), 'not fixed'],
      [tensor('x', [3]), '2-D input'],
    ]
    for (const [input, message] of cases) {
      const refused = errorOf(() => readOnnxModel(linearModel(input)))
      expect(refused.code, input.name).toBe('MLSKEL_ONNX_UNSUPPORTED')
      expect(refused.message).toContain(`input "${input.name}"`)
      expect(refused.message).toContain(message)
      expect(refused.where?.field).toBe(`graph.input.${input.name}`)
    }
    const wide = graph({ nodes: [linearNode('a', 'y', [1], [0])], inputs: [tensor('a', ['N', 1]), tensor('b', ['N', 2])], outputs: [tensor('y', ['N', 1])] })
    expect(errorOf(() => readOnnxModel(wide)).message).toContain('input "b" is float [N, 2]; a model of several inputs must take one feature per input')
  })

  it('refuses outputs it cannot read as a prediction, naming them', () => {
    const x = tensor('x', ['N', 3])
    const node = (outputs: string[]): NodeSpec => ({ opType: 'Split', domain: '', name: 's', inputs: ['x'], outputs, attributes: [{ name: 'axis', type: 'int', value: 1 }] })
    const cases: [Uint8Array, string][] = [
      [graph({ nodes: [linearNode('x', 'y', [1, 2, 3], [0.5])], inputs: [x], outputs: [tensor('y', ['N', 1]), tensor('z', ['N', 1])] }), 'could each be its prediction'],
      [graph({ nodes: [{ opType: 'Cast', domain: '', name: 'c', inputs: ['x'], outputs: ['ids'], attributes: [{ name: 'to', type: 'int', value: ELEM.INT64 }] }], inputs: [x], outputs: [tensor('ids', ['N', 3], ELEM.INT64)] }), 'no output mlskel can read'],
      [graph({ nodes: [node(['a', 'b', 'c'])], inputs: [x], outputs: [tensor('a', ['N', 1], ELEM.INT64), tensor('b', ['N', 1], ELEM.INT64)] }), 'could each be its label'],
    ]
    for (const [bytes, message] of cases) {
      const refused = errorOf(() => readOnnxModel(bytes))
      expect(refused.code).toBe('MLSKEL_ONNX_UNSUPPORTED')
      expect(refused.message).toContain(message)
    }
  })

  it('refuses options that do not fit the graph', () => {
    const cases: [Uint8Array, ReadOnnxOptions, string][] = [
      [linearModel(), { featureNames: ['a', 'b'] }, '2 features given for the input "x" of width 3'],
      [linearModel(), { featureNames: ['a', 'a', 'b'] }, 'repeat'],
      [linearModel(), { classes: ['a', 'b'] }, 'classes are given'],
      [linearModel(), { task: 'regression', categories: { z: ['a'] } }, '"z", which is not a feature'],
      [classifierModel({ labels: [1, 2, 3], zipmap: false }), { classes: ['a', 'b'] }, '2 classes given'],
      [classifierModel({ labels: [1, 2, 3], zipmap: false }), { task: 'regression' }, 'given as regression'],
    ]
    for (const [bytes, options, message] of cases) {
      const refused = errorOf(() => readOnnxModel(bytes, options))
      expect(refused.code, message).toBe('MLSKEL_ONNX_SIGNATURE_MISMATCH')
      expect(refused.message).toContain(message)
    }
  })

  it('refuses a damaged file, and a graph ONNX Runtime cannot load', () => {
    const bytes = linearModel()
    for (const damaged of [bytes.subarray(0, bytes.length - 5), new TextEncoder().encode('{"not": "onnx"}'), new Uint8Array(0)]) {
      const refused = errorOf(() => readOnnxModel(damaged))
      expect(refused.code).toBe('MLSKEL_ONNX_MALFORMED')
      expect(refused.message).toContain('not an ONNX model')
    }
    const unknownOp = graph({ nodes: [{ opType: 'NoSuchOperator', domain: 'ai.onnx.ml', name: 'n', inputs: ['x'], outputs: ['y'], attributes: [] }], inputs: [tensor('x', ['N', 3])], outputs: [tensor('y', ['N', 1])] })
    const refused = errorOf(() => readOnnxModel(unknownOp))
    expect(refused.code).toBe('MLSKEL_ONNX_UNSUPPORTED')
    expect(refused.message).toContain('ONNX Runtime cannot load the model')
    expect(refused.message).toContain('NoSuchOperator')
  })

  it('says to install onnxruntime-node (and how, where its install script cannot download) when it is missing or cannot load', () => {
    const missing = createOnnxHost({
      resolveRuntime: () => {
        throw Object.assign(new Error("Cannot find module 'onnxruntime-node'\nRequire stack: …"), { code: 'MODULE_NOT_FOUND' })
      },
    })
    const refused = errorOf(() => missing.open(linearModel(), {}))
    expect(refused.code).toBe('MLSKEL_ONNX_RUNTIME_MISSING')
    expect(refused.message).toContain('onnxruntime-node, which is not installed')
    expect(refused.fix).toContain('npm install onnxruntime-node')
    expect(refused.fix).toContain('ONNXRUNTIME_NODE_INSTALL=skip')
    const broken = createOnnxHost({ resolveRuntime: () => join(tmpdir(), 'no-such-onnxruntime', 'index.js') })
    const unloadable = errorOf(() => broken.open(linearModel(), {}))
    expect(unloadable.code).toBe('MLSKEL_ONNX_RUNTIME_MISSING')
    expect(unloadable.message).toContain('cannot be loaded')
  })

  it('keeps the process alive only while it waits for an answer: a script that opened and ran a model ends', async () => {
    // A listener added to a Worker refs it again: the host unref'd its worker before adding them, so a process that
    // had opened an ONNX model lived on after its work (`mlskel models import x.onnx` and `mlskel report delivery` of
    // an ONNX model ended 15 s late, when a collection released the model). A process of its own (this one has other
    // tests' hosts and workers), with the host from the sources through tsx, as this file has it: the build bundles
    // runtime.ts into a chunk with no entry point of its own.
    const dir = await mkdtemp(join(tmpdir(), 'mlskel-onnx-exit-'))
    try {
      await writeFile(join(dir, 'linear.onnx'), linearModel())
      const runtime = fileURLToPath(new URL('../onnx/runtime.ts', import.meta.url))
      const tsx = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
      const script = `import { readFileSync } from 'node:fs'
import { createOnnxHost } from ${JSON.stringify(runtime)}
const session = createOnnxHost().open(readFileSync(${JSON.stringify(join(dir, 'linear.onnx'))}), {})
const x = { type: 'float32', data: new Float32Array([1, 1, 1]), dims: [1, 3] }
const sync = session.run({ x }, ['y']).y.data[0]
const afterSync = process.getActiveResourcesInfo()
const async = (await session.runAsync({ x }, ['y'])).y.data[0]
console.log(JSON.stringify({ sync, async, afterSync, afterAsync: process.getActiveResourcesInfo() }))
`
      // it must end by itself: killed after 20 s, it prints what it had open all the same
      // (a file: a worker thread inherits the process's execArgv, which for `node -e` holds the script)
      await writeFile(join(dir, 'script.mjs'), script)
      const ended = await run(process.execPath, ['--import', tsx, join(dir, 'script.mjs')], { timeout: 20_000 }).then(
        ({ stdout }) => ({ stdout, killed: false }),
        (error: { stdout?: string; killed?: boolean }) => ({ stdout: error.stdout ?? '', killed: error.killed ?? true }),
      )
      const seen = JSON.parse(ended.stdout) as { sync: number; async: number; afterSync: string[]; afterAsync: string[] }
      expect([seen.sync, seen.async]).toEqual([6.5, 6.5])
      for (const resources of [seen.afterSync, seen.afterAsync]) expect(resources.filter((kind) => kind === 'MessagePort' || kind === 'Worker')).toEqual([])
      expect(ended.killed).toBe(false)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  describe('in the model store', () => {
    let dir = ''
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mlskel-onnx-kind-'))
    })
    afterAll(() => rm(dir, { recursive: true, force: true }))

    it('keeps the file\'s bytes in model.json (hashed by the manifest) and loads them back to the same predictor', async () => {
      const bytes = classifierModel({ labels: ['cat', 'dog', 'bird'], zipmap: true })
      const { predictor } = readOnnxModel(bytes)
      const saved = await saveModel(dir, predictor, { description: 'onnx', inputExample: [] })
      const json = JSON.parse(await readFile(join(saved.dir, 'model.json'), 'utf8')) as { kind: string; onnx: string }
      expect(json.kind).toBe('onnx')
      expect(Buffer.from(json.onnx, 'base64').equals(Buffer.from(bytes))).toBe(true)
      const { predictor: loaded } = await loadSavedModel(dir, saved.id)
      expect(loaded.predictProba!([[1, 0], [0.3, 0.2]])).toEqual(predictor.predictProba!([[1, 0], [0.3, 0.2]]))
      expect(canonicalJson(loaded.toJSON())).toBe(canonicalJson(predictor.toJSON()))
    })

    it('refuses as corrupt a model.json whose signature does not fit its graph', async () => {
      const { predictor } = readOnnxModel(linearModel())
      const saved = await saveModel(dir, predictor, { description: 'onnx', inputExample: [] })
      const file = join(saved.dir, 'model.json')
      const json = JSON.parse(await readFile(file, 'utf8')) as { signature: { features: unknown[] } }
      json.signature.features.pop()
      const text = JSON.stringify(json)
      await writeFile(file, text)
      const manifestFile = join(saved.dir, 'manifest.json')
      const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { files: { model: { sha256: string; size: number } } }
      manifest.files.model = { ...manifest.files.model, sha256: createHash('sha256').update(text).digest('hex'), size: Buffer.byteLength(text) }
      await writeFile(manifestFile, JSON.stringify(manifest))
      await expect(loadSavedModel(dir, saved.id)).rejects.toMatchObject({ code: 'MLSKEL_MODEL_CORRUPT', message: expect.stringContaining('its signature does not fit its ONNX model') })
    })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The model contract, with mlskel's own gradient boosting exported to ONNX as the trainer

async function trainExported(o: ContractTrainInput): Promise<Predictor> {
  const model = await trainGradientBoosting({ task: o.task, signature: o.signature, data: o.data, seed: o.seed, hyperParameters: { max_iter: 30, n_jobs: o.nJobs } })
  const id = createHash('sha256').update(canonicalJson(model.toJSON())).digest('hex').slice(0, 16)
  return readOnnxModel(exportOnnx(model, { modelId: id })).predictor
}

runModelContract({
  kind: 'onnx',
  train: trainExported,
  uncheckedRows: true,
  // the ONNX file cut short
  damage: (model) => (model.onnx = Buffer.from(String(model.onnx), 'base64').subarray(0, 100).toString('base64')),
})

describe('an exported mlskel model read back', () => {
  it('carries its signature: categories, names and classes come back from the file', async () => {
    const m = mixed()
    const predictor = await trainExported({ task: 'classification', signature: m.signature, data: m.data, seed: 1, nJobs: 1 })
    expect(predictor.signature).toEqual(m.signature)
    const bytes = Buffer.from((predictor.toJSON() as { onnx: string }).onnx, 'base64')
    expect(errorOf(() => readOnnxModel(bytes, { featureNames: ['a', 'b', 'c', 'd', 'e'] })).message).toContain('the file\'s are the model\'s')
    expect(errorOf(() => readOnnxModel(bytes, { classes: ['x', 'y', 'z'] })).code).toBe('MLSKEL_ONNX_SIGNATURE_MISMATCH')
    expect(readOnnxModel(bytes, { featureNames: m.signature.features.map((f) => f.name) }).signature).toEqual(m.signature)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Models made by PyTorch and onnx.helper in this run

interface Expected {
  task: 'classification' | 'regression'
  X: number[][]
  predict?: number[]
  proba?: number[][]
  labels?: (string | number)[]
  classes?: string[]
  feature_names?: string[]
}

const FIXTURES = ['torch-mlp-regression', 'torch-mlp-regression-batch1', 'torch-mlp-softmax', 'torch-sigmoid-binary', 'helper-linear', 'helper-linear-columns', 'helper-zipmap-classifier']
const python = requireTool('onnx', 'torch')

describe.skipIf(python.skip)('the onnx kind against PyTorch and onnx.helper', () => {
  let dir = ''
  beforeAll(async () => {
    python.assert()
    dir = await mkdtemp(join(tmpdir(), 'mlskel-onnx-fixtures-'))
    await run(PYTHON, [SCRIPT, dir], { env: { ...process.env, OMP_NUM_THREADS: '1' } })
  }, 120_000)
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined))

  it('made every fixture', async () => {
    const files = await readdir(dir)
    for (const name of FIXTURES) expect(files).toContain(`${name}.onnx`)
    expect(JSON.parse(await readFile(join(dir, 'versions.json'), 'utf8'))).toMatchObject({ torch: expect.stringMatching(/^\d+\.\d+/), onnx: expect.stringMatching(/^\d+\.\d+/) })
  })

  it.each(FIXTURES)('%s: predictions equal its producer\'s within 1e-5', async (name) => {
    const expected = JSON.parse(await readFile(join(dir, `${name}.expected.json`), 'utf8')) as Expected
    const { predictor, task, producer, signature } = readOnnxModel(await readFile(join(dir, `${name}.onnx`)), { task: expected.task })
    expect(task).toBe(expected.task)
    expect(producer.tool).toBe(name.startsWith('torch') ? 'pytorch' : 'onnx.helper')
    if (expected.feature_names) expect(signature.features.map((f) => f.name)).toEqual(expected.feature_names)
    if (expected.classes) expect(signature.target).toMatchObject({ classes: expected.classes })
    const X = expected.X
    if (expected.task === 'regression') {
      const predicted = predictor.predict(X).map(Number)
      expect(predicted.reduce((m, v, i) => Math.max(m, Math.abs(v - expected.predict![i]!)), 0)).toBeLessThanOrEqual(1e-5)
    } else {
      const proba = predictor.predictProba!(X).flat()
      const theirs = expected.proba!.flat()
      expect(proba.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i]!)), 0)).toBeLessThanOrEqual(1e-5)
      expect(predictor.predict(X)).toEqual(expected.labels)
    }
    if (name.endsWith('batch1')) expect(predictor.warnings).toEqual([expect.stringContaining('fixed at 1')])
    const batch = await predictor.predictBatch!(X, { probabilities: true })
    expect(batch.predictions).toEqual(predictor.predict(X))
  })
})
