// Real models for the serve tests: iris (plain numbers), and a typed model of every input type, trained, saved and
// recorded through the library into a temp project, so a holder or server loads exactly what `mlskel run train`
// would leave behind.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { emptyRow, encodeValue, inputSchemaOf } from '../data/encode.js'
import { recordTraining, type MetadataRecord } from '../metadata/index.js'
import { saveModel, summarizeHoldOut, trainModel, trainRandomForest, type Dataset, type Predictor, type RawValue, type SavedModel, type Signature } from '../models/index.js'

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

export interface ServeProject {
  root: string
  modelsDir: string
  metadataDir: string
  /** Trains a forest with this seed, saves it and records the training (after `beforeRecord`, e.g. to damage the model). */
  train(seed: number, o?: { nEstimators?: number; beforeRecord?: (model: SavedModel) => Promise<void> }): Promise<{ model: SavedModel; record: MetadataRecord }>
  remove(): Promise<void>
}

export type IrisProject = ServeProject

/** What a project trains: its data set, as raw input rows for the example, and its record's words. */
interface Fixture {
  /** The saved model's description. */
  name: string
  task: 'classification'
  signature: Signature
  data: Dataset
  inputExample: Record<string, RawValue>[]
  description: string
  location: string
  target: string
}

/** A project whose model is iris's; `root`: in that project folder (beside another fixture's models). */
export async function irisProject(root?: string): Promise<IrisProject> {
  const { data, signature } = readIris()
  const inputExample = data.X.slice(0, 3).map((row) => Object.fromEntries(signature.features.map((f, i) => [f.name, row[i]!])))
  return project({ name: 'iris', task: 'classification', signature, data, inputExample, description: 'random forest classifier predicting species', location: 'data/raw/iris.csv', target: 'species' }, (seed, nEstimators) =>
    trainRandomForest({ task: 'classification', hyperParameters: { n_estimators: nEstimators, n_jobs: 1 }, seed, signature, data }),
    root,
  )
}

/**
 * A model of every input type: `age` (a number, sometimes missing), `member` (a boolean), `colour` (a category;
 * "teal" and "mauve" rare, folded into "(other)") and `signup` (a datetime written day-first, the model taking its
 * year, month and weekday). Churn is "yes" for red, and for older non-members.
 */
export const TYPED_SIGNATURE: Signature = {
  features: [
    { name: 'age', type: 'number', missing: true },
    { name: 'member', type: 'boolean', missing: false },
    { name: 'colour', type: 'category', categories: ['(other)', 'blue', 'green', 'red'], other: { category: '(other)', values: ['mauve', 'teal'] }, missing: false },
    { name: 'signup_year', type: 'number', datetime: { column: 'signup', part: 'year', format: '%d/%m/%Y' }, missing: false },
    { name: 'signup_month', type: 'number', datetime: { column: 'signup', part: 'month', format: '%d/%m/%Y' }, missing: false },
    { name: 'signup_weekday', type: 'number', datetime: { column: 'signup', part: 'weekday', format: '%d/%m/%Y' }, missing: false },
  ],
  target: { name: 'churn', type: 'category', classes: ['no', 'yes'] },
  read: { missing_values: ['', 'NA', '?'], decimal: '.' },
}

/** The typed model's training rows as raw values (as JSON would give them; dates day-first), and their churn. */
export function typedRows(n = 200): { records: Record<string, RawValue>[]; churn: string[] } {
  const colours = ['blue', 'green', 'red', 'teal', 'mauve', 'blue', 'green']
  const records: Record<string, RawValue>[] = []
  const churn: string[] = []
  for (let i = 0; i < n; i++) {
    const age = i % 9 === 4 ? null : 18 + ((i * 37) % 60)
    const member = i % 3 === 0
    const colour = colours[i % colours.length]!
    const day = String(1 + ((i * 7) % 28)).padStart(2, '0')
    const month = String(1 + (i % 12)).padStart(2, '0')
    records.push({ age, member, colour, signup: `${day}/${month}/${2019 + (i % 6)}` })
    churn.push(colour === 'red' || (age !== null && age > 55 && !member) ? 'yes' : 'no')
  }
  return { records, churn }
}

/** A project whose model is TYPED_SIGNATURE's, trained through trainModel on rows the encoder read; `root` as irisProject's. */
export async function typedProject(root?: string): Promise<ServeProject> {
  const signature = TYPED_SIGNATURE
  const schema = inputSchemaOf(signature)
  const { records, churn } = typedRows()
  const X = records.map((record) => {
    const row = emptyRow(schema)
    for (const field of schema.fields) {
      const problem = encodeValue(field, record[field.name] ?? null, row)
      if (problem) throw new Error(`typed fixture: ${field.name} ${problem}`)
    }
    return row
  })
  const data = { X, y: churn }
  return project({ name: 'churn', task: 'classification', signature, data, inputExample: records.slice(0, 5), description: 'random forest classifier predicting churn', location: 'data/raw/churn.csv', target: 'churn' }, (seed, nEstimators) =>
    trainModel({ task: 'classification', model: { type: 'random_forest', n_estimators: nEstimators, n_jobs: 1 }, seed, signature, data }),
    root,
  )
}

async function project(fixture: Fixture, fit: (seed: number, nEstimators: number) => Promise<Predictor>, given?: string): Promise<ServeProject> {
  const root = given ?? (await mkdtemp(join(tmpdir(), 'mlskel-serve-')))
  const modelsDir = join(root, 'models')
  const metadataDir = join(modelsDir, 'metadata')
  const { task, signature, data } = fixture
  return {
    root,
    modelsDir,
    metadataDir,
    async train(seed, o = {}) {
      const nEstimators = o.nEstimators ?? 10
      const predictor = await fit(seed, nEstimators)
      const model = await saveModel(modelsDir, predictor, { description: fixture.name, inputExample: fixture.inputExample })
      await o.beforeRecord?.(model)
      const record = await recordTraining({
        root,
        metadataDir,
        model,
        description: fixture.description,
        task,
        hyperParameters: { n_estimators: nEstimators },
        params: { split: { seed } },
        overrides: {},
        data: { location: fixture.location, identifier: 'a'.repeat(64), rows: data.X.length, features: signature.features.map((f) => f.name), target: fixture.target },
        trainingData: data,
        evaluation: { hold_out: summarizeHoldOut(task, predictor, data) },
        testingStrategy: 'none (test fixture)',
        scores: { accuracy: { cv: 0.9 } },
      })
      return { model, record }
    },
    remove: () => rm(root, { recursive: true, force: true }),
  }
}
