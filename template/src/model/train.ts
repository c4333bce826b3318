// train: fit the model of params.yaml (gradient boosting or a random forest) on the training split, score it (k-fold
// cross-validation on the training split, hold-out on the test split), save it under models/ and record its
// metadata in models/metadata/. Long trainings print progress on stderr.
import { performance } from 'node:perf_hooks'
import { join, resolve } from 'node:path'
import {
  combineScores,
  crossValidate,
  describeKind,
  loadParams,
  MlskelError,
  recordTraining,
  runScript,
  saveModel,
  scoreHoldOut,
  stageContext,
  trainModel,
  trainingProgress,
  type Dataset,
  type Params,
  type SavedModel,
  type Scores,
} from 'mlskel'
import { checkDatasetMatches, foldStrategy, formatTable, inputColumns, projectRelative, readDatasetDescription, readExamples, readTable, signatureOf, withDuckDB, type DatasetDescription, type Db, type Value } from '../helpers/index.js'
import { loadProject } from '../settings.js'

export interface TrainOptions {
  /** Project root; found from the current folder when absent. */
  root?: string
  /** params.yaml overrides by dotted key, when not run by `mlskel run` (which hands over its --set). */
  overrides?: Record<string, unknown>
  /** Print the scores and where the model went on stdout, and progress and warnings on stderr (the CLI does; tests need not). */
  print?: boolean
}

export interface TrainResult {
  model: SavedModel
  scores: Scores
  /** The training run, as named in its metadata record. */
  runId: string
  /** The metadata record's file, relative to the project root. */
  recordFile: string
}

export async function train(options: TrainOptions = {}): Promise<TrainResult> {
  // 1. settings, params and the data set generate-dataset made from them
  const { root, paths } = loadProject(options.root)
  // what `mlskel run` handed this stage (its run id, --set overrides, the hashes of its deps), or made here
  const stage = await stageContext({ root, env: process.env, argv: process.argv, ...(options.overrides ? { overrides: options.overrides } : {}) })
  const loaded = await loadParams(root, { overrides: stage.overrides })
  const { params } = loaded
  const description = await readDatasetDescription(paths.transformed, root)
  checkDatasetMatches(description, params, projectRelative(root, resolve(paths.raw, params.dataset.raw)))
  const { task } = params
  const signature = signatureOf(description)
  const durations: Record<string, number> = {}
  const timed = async <T>(phase: string, work: () => T | Promise<T>): Promise<T> => {
    const start = performance.now()
    const result = await work()
    durations[phase] = Number(((performance.now() - start) / 1000).toFixed(3))
    return result
  }

  const { trainSet, testSet, strategy } = await timed('load_data', () =>
    withDuckDB(async (db) => ({
      trainSet: await readExamples(db, root, description.files.train, description),
      testSet: await readExamples(db, root, description.files.test, description),
      strategy: await foldStrategy(db, root, description),
    })),
  )

  // 2. cross-validate on the training split, fit on all of it, score on the held-out test split
  const report = options.print ? trainingProgress({ prefix: 'train: ' }) : undefined
  const folds = params.split.cv_folds
  const fit = (data: Dataset, fold: number | null) =>
    trainModel({ task, model: params.model, seed: params.split.seed, signature, data, onProgress: (p) => report?.(p, fold === null ? 'final fit' : `fold ${fold}/${folds}`) })
  const cv = await timed('cross_validation', () => crossValidate({ task, folds: params.split.cv_folds, seed: params.split.seed, data: trainSet, strategy, train: (data, fold) => fit(data, fold) }))
  const predictor = await timed('fit', () => fit(trainSet, null))
  for (const warning of predictor.warnings ?? []) if (options.print) console.error(`train: warning: ${warning}`)
  const { scores: holdOut, summary: holdOutSummary } = await timed('evaluate', () => scoreHoldOut(task, predictor, testSet))
  const scores = combineScores({ cv, hold_out: holdOut })

  // 3. save the model, then the record that links it to the code, data, params and scores
  const modelDescription = describeModel(params, description)
  const inputExample = await withDuckDB((db) => rawExample(db, root, description))
  const model = await timed('save', () => saveModel(paths.models, predictor, { description: modelDescription, inputExample }))
  const files = description.files
  // the runner hashed the files of this stage's deps already; the raw file's hash is the data set's own
  const rawHash = description.files.raw_sha256
  const [stagingHash, trainHash, testHash] = await Promise.all([files.staging, files.train, files.test].map((file) => stage.hash(file)))
  const record = await recordTraining({
    root,
    runId: stage.runId,
    command: stage.command,
    metadataDir: paths.metadata,
    model,
    description: modelDescription,
    task,
    hyperParameters: params.model,
    params,
    overrides: loaded.overrides,
    data: {
      location: files.raw,
      identifier: rawHash!,
      rows: description.rows.kept,
      features: signature.features.map((f) => f.name),
      columns: description.columns.map((c) => ({ name: c.name, type: c.type, missing: c.missing })),
      dropped: { missing_target: description.rows.missing_target, invalid_values: description.rows.invalid_values, duplicates: description.rows.duplicates },
      ...(description.target.type === 'category' ? { class_counts: description.target.counts } : {}),
      target: signature.target.name,
      inputs: [
        { path: files.raw, sha256: rawHash! },
        { path: files.staging, sha256: stagingHash! },
        { path: files.train, sha256: trainHash! },
        { path: files.test, sha256: testHash! },
      ],
      missing: description.missing,
    },
    trainingData: trainSet,
    evaluation: { hold_out: holdOutSummary },
    ...(predictor.importances ? { importances: predictor.importances() } : {}),
    warnings: predictor.warnings ?? [],
    testingStrategy: testingStrategy(params),
    scores,
    durations,
    // data outputs are rebuilt by the pipeline, so they never make the code dirty (wherever .env puts them)
    gitExclude: [...stage.pipelineOutputs, ...[paths.staging, paths.transformed, paths.predictions].map((dir) => projectRelative(root, dir))],
  })
  const result: TrainResult = { model, scores, runId: record.run_id, recordFile: projectRelative(root, join(paths.metadata, `${record.run_id}.json`)) }
  if (options.print) console.log(summary(result, root))
  return result
}

/** The first rows of the test split as the served model takes them: raw values by input column, null for missing. */
async function rawExample(db: Db, root: string, description: DatasetDescription): Promise<Record<string, Value>[]> {
  const columns = inputColumns(description)
  const table = await readTable(db, resolve(root, description.files.test), columns)
  return table.rows.slice(0, 3).map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])))
}

export function describeModel(params: Params, description: DatasetDescription): string {
  const inputs = inputColumns(description).length
  return `${describeKind(params.model.type, params.task)} predicting ${description.target.name} from ${inputs} column${inputs === 1 ? '' : 's'} of ${description.files.raw}`
}

export function testingStrategy(params: Params): string {
  const { cv_folds, test_size, seed, strategy, column } = params.split
  const how = strategy === 'time' ? `, forward in time by ${column}` : strategy === 'group' ? `, whole groups of ${column}` : ''
  return `${cv_folds}-fold cross-validation on the training split${how}; hold-out on ${Math.round(test_size * 100)}% test split (${strategy === 'time' ? `the latest by ${column}, ` : strategy === 'group' ? `by group, ` : ''}seed ${seed})`
}

function summary(result: TrainResult, root: string): string {
  const metrics = Object.keys(result.scores)
  const table = formatTable([['metric', 'cv', 'hold_out'], ...metrics.map((m) => [m, result.scores[m]!.cv ?? '', result.scores[m]!.hold_out ?? ''])])
  return [`train: model ${result.model.id}`, '', table, '', `model:  ${projectRelative(root, result.model.dir)}/`, `record: ${result.recordFile}`].join('\n')
}

export async function main(argv: string[]): Promise<void> {
  const unknown = argv.filter((arg) => arg !== '--verbose')
  if (unknown.length > 0) throw new MlskelError('MLSKEL_USAGE', `train takes no arguments (got ${unknown.join(' ')}); it reads params.yaml (override with mlskel run --set key=value)`)
  await train({ print: true })
}

await runScript(import.meta.url, main)
