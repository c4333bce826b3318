// Real iris models for the serve tests: trained, saved and recorded through the library into a temp project, so a
// holder or server loads exactly what `mlskel run train` would leave behind.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recordTraining, type MetadataRecord } from '../metadata/index.js'
import { saveModel, summarizeHoldOut, trainRandomForest, type Dataset, type SavedModel, type Signature } from '../models/index.js'

/** The template's own copy of iris, so the tests need nothing outside the repository. */
export const IRIS_CSV = fileURLToPath(new URL('../../template/data/raw/iris.csv', import.meta.url))
export const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']

export function readIris(path = IRIS_CSV): { data: Dataset; signature: Signature } {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split(/\r?\n/)
  const columns = header!.split(',')
  const target = columns.length - 1
  const X: number[][] = []
  const y: string[] = []
  for (const line of lines) {
    const cells = line.split(',')
    X.push(cells.slice(0, target).map(Number))
    y.push(cells[target]!)
  }
  const classes = [...new Set(y)].sort()
  return { data: { X, y }, signature: { features: columns.slice(0, target).map((name) => ({ name, type: 'number' as const })), target: { name: columns[target]!, type: 'category', classes } } }
}

export interface IrisProject {
  root: string
  modelsDir: string
  metadataDir: string
  /** Trains an iris forest with this seed, saves it and records the training (after `beforeRecord`, e.g. to damage the model). */
  train(seed: number, o?: { nEstimators?: number; beforeRecord?: (model: SavedModel) => Promise<void> }): Promise<{ model: SavedModel; record: MetadataRecord }>
  remove(): Promise<void>
}

export async function irisProject(): Promise<IrisProject> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-serve-'))
  const modelsDir = join(root, 'models')
  const metadataDir = join(modelsDir, 'metadata')
  const { data, signature } = readIris()
  return {
    root,
    modelsDir,
    metadataDir,
    async train(seed, o = {}) {
      const nEstimators = o.nEstimators ?? 10
      const predictor = await trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: nEstimators, n_jobs: 1 }, seed, signature, data })
      const inputExample = data.X.slice(0, 3).map((row) => Object.fromEntries(signature.features.map((f, i) => [f.name, row[i]!])))
      const model = await saveModel(modelsDir, predictor, { description: 'iris', inputExample })
      await o.beforeRecord?.(model)
      const record = await recordTraining({
        root,
        metadataDir,
        model,
        description: 'random forest classifier predicting species',
        task: 'classification',
        hyperParameters: { n_estimators: nEstimators },
        params: { split: { seed } },
        overrides: {},
        data: { location: 'data/raw/iris.csv', identifier: 'a'.repeat(64), rows: data.X.length, features: IRIS_FEATURES, target: 'species' },
        trainingData: data,
        evaluation: { hold_out: summarizeHoldOut('classification', predictor, data) },
        testingStrategy: 'none (test fixture)',
        scores: { accuracy: { cv: 0.9 } },
      })
      return { model, record }
    },
    remove: () => rm(root, { recursive: true, force: true }),
  }
}
