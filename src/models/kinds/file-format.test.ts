// What `mlskel models import` asks of the kinds that read files made elsewhere: which kind reads a file (by its
// content), a whole signature given to a reader (checked against the file, then kept), and whether a saved model
// holds the file it was imported from.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modelFileFormat, modelHoldsFile, readOnnxModel, readXgboostModel, saveModel, type Signature } from '../index.js'
import { classifierModel, linearModel } from './test-onnx.js'
import { xgbModel } from './test-xgboost.js'
import { errorOf } from '../../errors/test-errors.js'

/** A classifier of 3 named features: x0 < 0.5 → margin −1, else +1 (binary:logistic). */
const named = xgbModel({ objective: 'binary:logistic', names: ['a', 'b', 'c'], trees: [{ f: 0, t: 0.5, left: { leaf: -1 }, right: { leaf: 1 } }] })
const text = (json: unknown) => new TextEncoder().encode(JSON.stringify(json))

describe('modelFileFormat', () => {
  it('tells XGBoost\'s JSON and ONNX apart by content, whatever the file is called', () => {
    expect(modelFileFormat(text(named))).toEqual({ format: 'xgboost' })
    // whitespace and a byte order mark before the JSON
    expect(modelFileFormat(new Uint8Array([0xef, 0xbb, 0xbf, 0x0a, 0x20, ...text(named)]))).toEqual({ format: 'xgboost' })
    expect(modelFileFormat(linearModel())).toEqual({ format: 'onnx' })
  })

  it('says what a file it does not read looks like', () => {
    const why = (bytes: Uint8Array) => {
      const found = modelFileFormat(bytes)
      return found.format === null ? found.why : `read as ${found.format}`
    }
    expect(why(new Uint8Array())).toBe('the file is empty')
    expect(why(text({ weights: [1, 2] }))).toContain('not an XGBoost model')
    expect(why(new Uint8Array([0x7b, 0x4c, 0, 0, 0, 0, 0, 0, 0, 7, ...new TextEncoder().encode('learner')]))).toContain('UBJSON')
    expect(why(new TextEncoder().encode('binf\u0000\u0000'))).toContain('old binary format')
    expect(why(new Uint8Array([0x80, 0x04, 0x95, 0x10]))).toContain('pickle')
    expect(why(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14]))).toContain('zip')
    expect(why(new TextEncoder().encode('sepal_length,species\n5.1,setosa\n'))).toContain('neither')
  })
})

describe('a whole signature given to a reader', () => {
  const signature: Signature = {
    features: [
      { name: 'a', type: 'number', missing: true },
      { name: 'b', type: 'boolean' },
      { name: 'c', type: 'category', categories: ['x', 'y'], other: { category: 'y', values: ['z'] } },
    ],
    target: { name: 'churned', type: 'category', classes: ['no', 'yes'] },
    read: { missing_values: ['NA'], decimal: ',' },
  }

  it('is checked against an XGBoost file and kept as it is', () => {
    const result = readXgboostModel(text(named), { signature })
    expect(result.signature).toEqual(signature)
    expect(result.predictor.predict([[0, 1, 0], [1, 0, 1]])).toEqual(['no', 'yes'])
    expect(result.named).toBe(true)
    expect(readXgboostModel(text(xgbModel({ trees: [{ leaf: 1 }] }))).named).toBe(false)
  })

  it('is refused when it does not fit the XGBoost file, or comes with other options', () => {
    const renamed = errorOf(() => readXgboostModel(text(named), { signature: { ...signature, features: [{ name: 'z', type: 'number' }, ...signature.features.slice(1)] } }))
    expect(renamed).toMatchObject({ code: 'MLSKEL_XGBOOST_SIGNATURE_MISMATCH', where: { field: 'signature.features.0.name' } })
    const regression = errorOf(() => readXgboostModel(text(named), { signature: { ...signature, target: { name: 'y', type: 'number' } } }))
    expect(regression).toMatchObject({ code: 'MLSKEL_XGBOOST_SIGNATURE_MISMATCH', where: { field: 'signature.target' } })
    expect(errorOf(() => readXgboostModel(text(named), { signature, target: 'y' }))).toMatchObject({ code: 'MLSKEL_XGBOOST_SIGNATURE_MISMATCH', where: { field: 'target' } })
  })

  it('is checked against an ONNX graph and kept as it is; the file says whether it names features and classes', () => {
    const regression: Signature = { features: ['p', 'q', 'r'].map((name) => ({ name, type: 'number' as const })), target: { name: 'price', type: 'number' }, read: { missing_values: [''], decimal: '.' } }
    const result = readOnnxModel(linearModel(), { signature: regression })
    expect(result.signature).toEqual(regression)
    expect(result.predictor.predict([[1, 1, 1]])).toEqual([6.5])
    expect(result).toMatchObject({ named: false, labelled: false })
    expect(readOnnxModel(classifierModel({ labels: ['a', 'b', 'c'], zipmap: false }))).toMatchObject({ named: false, labelled: true })
    // one value per row is a binary classifier's probability when told so (a sigmoid), never three classes
    const classes = errorOf(() => readOnnxModel(linearModel(), { signature: { ...regression, target: { name: 'price', type: 'category', classes: ['a', 'b', 'c'] } } }))
    expect(classes.code).toMatch(/^MLSKEL_ONNX_(SIGNATURE_MISMATCH|UNSUPPORTED)$/)
    const count = errorOf(() => readOnnxModel(linearModel(), { signature: { ...regression, features: regression.features.slice(1) } }))
    expect(count.code).toBe('MLSKEL_ONNX_SIGNATURE_MISMATCH')
  })
})

describe('whether a saved model holds the file it was imported from', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlskel-holds-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('compares an XGBoost file value for value (model.json keeps it parsed), an ONNX file to the byte', async () => {
    // as XGBoost writes it: its own spacing, and a categorical split's condition as a bare NaN
    const file = new TextEncoder().encode(JSON.stringify(named, null, 1))
    const xgb = await saveModel(dir, readXgboostModel(file).predictor, { description: 'x', inputExample: [] })
    expect(await modelHoldsFile(dir, xgb.id, file)).toBe(true)
    const other = xgbModel({ objective: 'binary:logistic', names: ['a', 'b', 'c'], trees: [{ f: 0, t: 0.75, left: { leaf: -1 }, right: { leaf: 1 } }] })
    expect(await modelHoldsFile(dir, xgb.id, text(other))).toBe(false)
    expect(await modelHoldsFile(dir, xgb.id, new TextEncoder().encode('{ not json'))).toBe(false)

    const onnx = linearModel()
    const saved = await saveModel(dir, readOnnxModel(onnx).predictor, { description: 'o', inputExample: [] })
    expect(await modelHoldsFile(dir, saved.id, onnx)).toBe(true)
    const changed = onnx.slice()
    changed[changed.length - 1]! ^= 1
    expect(await modelHoldsFile(dir, saved.id, changed)).toBe(false)
  })
})
