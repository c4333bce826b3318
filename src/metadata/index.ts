// Training metadata: one JSON record per trained model in models/metadata/, linking the model to the code, data,
// parameters, environment and scores that produced it. One zod schema is the source of the type, the checks on
// write and on read, and the published JSON Schema (schema/metadata.schema.json).
import { readFile, readdir, rm } from 'node:fs/promises'
import { basename, isAbsolute, join, relative, sep } from 'node:path'
import { z } from 'zod'
import { COLUMN_TYPES, type ColumnType } from '../data/index.js'
import { describeIssues, MlskelError } from '../errors/index.js'
import { TEMP_PREFIX, writeFileAtomic } from '../fs/index.js'
import { sortKeys } from '../json/index.js'
import { METRIC_NAME_PATTERN, SPLIT_NAME_PATTERN, abandonPendingModel, claimPendingModel, listModelIds, loadSavedModel, rawValue, settlePendingModel, summarizeFeatures, summarizeTarget, validateScores, type Dataset, type Evaluation, type FeatureImportance, type HoldOutSummary, type LoadedModel, type SavedModel, type Scores } from '../models/index.js'
import { getAt, type Task } from '../params/index.js'
import { LOCK_FILE } from '../project/index.js'
import { newRunId, portableCommand, RUN_ID_PATTERN } from '../stage/index.js'

export { newRunId, portableCommand, RUN_ID_PATTERN }
import { environmentOf, LOCKFILES, type Environment } from './environment.js'
import { DEFAULT_DIFF_CAP_BYTES, gitState, type GitState, type WorkingTreeDiff } from './git.js'

/** The project's git state at a record's writing, with its diff from the commit. */
type ProjectGit = GitState & { diff: WorkingTreeDiff | null }

export const METADATA_SCHEMA_VERSION = 1

const sha256 = z.string().regex(/^[0-9a-f]{64}$/)

/** How a model came to a project: trained by its pipeline, or imported from a file made elsewhere. */
export const MODEL_SOURCES = ['trained', 'imported'] as const
export type ModelSource = (typeof MODEL_SOURCES)[number]

/** The fields a record of each source may leave null: those that describe a training (its data, target, strategy, hold-out). */
interface SourceFields {
  source: ModelSource
  imported?: unknown
  data: { location: string | null; identifier: string | null; rows: number | null }
  testing_strategy: string | null
  target: unknown
  evaluation: { hold_out: unknown }
}

/**
 * A trained model's record has every training field, and no `imported`; an imported one has its `imported`. (The
 * published JSON Schema cannot say this; the field descriptions do, and mlskel checks it on write and on read.)
 */
function sourceRules(record: SourceFields, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: record })
  if (record.source === 'imported') {
    if (record.imported === undefined) issue(['imported'], 'a record of source imported says what was imported')
    return
  }
  if (record.imported !== undefined) issue(['imported'], 'only a record of source imported has it')
  const nulls: [(string | number)[], unknown][] = [
    [['data', 'location'], record.data.location],
    [['data', 'identifier'], record.data.identifier],
    [['data', 'rows'], record.data.rows],
    [['testing_strategy'], record.testing_strategy],
    [['target'], record.target],
    [['evaluation', 'hold_out'], record.evaluation.hold_out],
  ]
  for (const [path, value] of nulls) if (value === null) issue(path, 'is null, which only an imported model\'s record may be')
}

/** run ids: UTC time to the millisecond, then 6 random hex digits: 20261126T174233.123Z-3fa9c1. */

export const metadataRecordSchema = z
  .looseObject({
    schema_version: z.literal(METADATA_SCHEMA_VERSION).describe('version of this record format'),
    run_id: z.string().regex(RUN_ID_PATTERN).describe('this training run: UTC time then a random suffix; sorts by time as text'),
    timestamp: z.iso.datetime().describe('when the record was written (ISO 8601, UTC)'),
    description: z.string().describe('what the model is, in words'),
    task: z.enum(['classification', 'regression']).describe('what the model does'),

    model_id: z.string().regex(/^[0-9a-f]{16}$/).describe('the model: first 16 hex digits of the SHA-256 of its model.json'),
    model_type: z.string().min(1).describe('the model kind, e.g. gradient_boosting or random_forest'),
    model_location: z.string().min(1).describe('the model\'s folder, relative to the project root, with / separators'),
    model_hash: sha256.describe('SHA-256 of model.json'),
    model_size: z.int().min(0).describe('bytes of the model\'s folder'),
    source: z
      .enum(MODEL_SOURCES)
      .default('trained')
      .describe('how the model came to the project: trained by its pipeline, or imported (`mlskel models import`: trained elsewhere, so the fields that describe a training are empty or null); absent in records written before imports: trained'),
    imported: z
      .looseObject({
        file: z.string().min(1).describe('the imported file\'s name (never its path on the importing machine)'),
        path: z.string().min(1).nullable().describe('where the file was, relative to the project root, when it was inside the project; null when it was outside (only its name is recorded)'),
        sha256: sha256.describe('SHA-256 of the imported file, as it was'),
        size: z.int().min(0).describe('bytes of the imported file'),
        tool: z.string().min(1).describe('the tool that produced the file, as the file states it (xgboost; an ONNX file\'s producer_name, e.g. pytorch); "unknown" when it states none'),
        tool_version: z.string().min(1).describe('that tool\'s version, as the file states it; "unknown" when it states none'),
        signature: z.enum(['file', 'data', 'project']).describe('where the signature came from: the file alone, the --data file\'s columns, or the project\'s data set (data/transformed/dataset.json)'),
        hold_out: z
          .looseObject({
            path: z.string().min(1).describe('the data scored on: relative to the project root, or its file name when outside the project; its SHA-256 is in data.inputs'),
            from: z.enum(['data', 'project']).describe('--data, or the project\'s own test split'),
            dropped: z.record(z.string(), z.int().min(0)).describe('rows left out, by reason (missing_target, invalid_values)'),
          })
          .nullable()
          .describe('the hold-out data mlskel scored the model on at import; null when it had none'),
      })
      .optional()
      .describe('source imported: what was imported, and from what (absent for a trained model)'),

    hyper_parameters: z.record(z.string(), z.unknown()).describe('hyper-parameters the model was trained with'),
    params: z.unknown().describe('params.yaml as resolved for this run (defaults filled, overrides applied)'),
    overrides: z.record(z.string(), z.unknown()).describe('`mlskel run --set` overrides applied to params.yaml, by dotted key'),
    seed: z.int().nullable().describe('seed of the split, folds and model; null when unknown'),

    data: z
      .looseObject({
        location: z.string().min(1).nullable().describe('the input data the model was trained from, relative to the project root; null for an imported model (its training data is not known)'),
        identifier: sha256.nullable().describe('SHA-256 of the input data\'s content; null for an imported model'),
        rows: z.int().min(0).nullable().describe('number of rows; null for an imported model'),
        n_features: z.int().min(0).describe('number of features'),
        features: z.array(z.string()).describe('feature names, in the model\'s column order'),
        target: z.string().describe('the column predicted'),
        inputs: z.array(z.strictObject({ path: z.string().min(1), sha256 })).describe('every input file and its content hash (raw data, splits, ...; an imported model\'s hold-out data), paths relative to the project root'),
        columns: z
          .array(z.strictObject({ name: z.string(), type: z.enum(COLUMN_TYPES), missing: z.int().min(0) }))
          .optional()
          .describe('every column of the raw data: its type (inferred or declared) and its missing values'),
        dropped: z
          .record(z.string(), z.int().min(0))
          .optional()
          .describe('raw rows left out of the data set, by reason (e.g. missing_target, invalid_values, duplicates)'),
        class_counts: z
          .record(z.string(), z.record(z.string(), z.int().min(0)))
          .optional()
          .describe('classification: rows per class in each split (train, test)'),
      })
      .describe('the data the model was trained on'),

    testing_strategy: z
      .string()
      .nullable()
      .describe('how the scores were measured, e.g. 5-fold cross-validation on the train split, and a 20% hold-out; an imported model: the hold-out mlskel scored it on, or null when it has no scores'),
    scores: z
      .record(z.string().regex(METRIC_NAME_PATTERN), z.record(z.string().regex(SPLIT_NAME_PATTERN), z.number()))
      .describe('{ metric: { split: value } }: known metric names or custom_*, splits cv, hold_out or custom_*'),
    durations: z.record(z.string(), z.number().min(0)).describe('seconds spent per phase (e.g. load, cross_validation, fit)'),

    git: z
      .looseObject({
        commit: z.string().nullable().describe('HEAD commit; null outside git or before the first commit'),
        branch: z.string().nullable().describe('current branch; null when detached or outside git'),
        remote_url: z.string().nullable().describe('fetch URL of the branch\'s remote (else origin, else the first remote), credentials removed; null when there is none'),
        dirty: z.boolean().nullable().describe('whether the project\'s files differed from the commit (tracked changes and untracked files not ignored; what mlskel writes during a run does not count); null outside git'),
        diff: z
          .looseObject({
            file: z.string().nullable().describe('the patch, a file beside this record (<run_id>.diff); null when it was over the cap and so not saved (never a partial patch)'),
            sha256: sha256.describe('SHA-256 of the whole patch (also when it was not saved)'),
            bytes: z.int().min(0).describe('size of the whole patch in bytes'),
            cap_bytes: z.int().min(0).describe('the largest patch saved, in bytes'),
            truncated: z.boolean().describe('true when the patch was over the cap, so not saved'),
          })
          .nullable()
          .describe('when dirty: the difference from the commit as a binary patch, paths relative to the repository top; `git apply --binary <file>` at the top of a clean checkout of the commit reproduces the files. null when clean or outside git'),
      })
      .describe('the code the model was trained from'),
    command: z.array(z.string()).describe('the command line of the training process'),
    environment: z
      .looseObject({
        node: z.string().describe('Node.js version'),
        os: z.string().describe('operating system (process.platform)'),
        arch: z.string().describe('CPU architecture'),
        cpu: z.string().describe('CPU model name'),
        cpus: z.int().min(0).describe('number of logical CPUs'),
        lockfile: z
          .strictObject({ file: z.enum(LOCKFILES), sha256 })
          .nullable()
          .describe('the project\'s lockfile and its SHA-256; null when it has none'),
        dependencies: z.record(z.string(), z.string()).describe('installed versions of mlskel, @duckdb/node-api, zod and random-js, as loaded from the project; absent ones are left out'),
        mlskel: z.string().describe('version of the mlskel library that wrote this record'),
      })
      .describe('where the model was trained'),

    feature_schema: z
      .array(
        z.discriminatedUnion('type', [
          z.looseObject({
            name: z.string().min(1),
            type: z.literal('number'),
            min: z.number().describe('smallest value in the training data'),
            max: z.number().describe('largest value in the training data'),
            missing: z.int().min(0).describe('values missing in the training data, or missing or not a number in the raw data for this column'),
          }),
          z.looseObject({
            name: z.string().min(1),
            type: z.literal('category'),
            categories: z.array(z.union([z.string(), z.number()])).describe('the categories, in code order'),
            counts: z.record(z.string(), z.int().min(0)).describe('training rows per category'),
            missing: z.int().min(0).describe('values missing in the training data, or missing in the raw data for this column'),
          }),
        ]),
      )
      .describe('per feature, in the model\'s column order: what training saw; the server validates inputs with it and reports draw it; empty for an imported model (its training data is not known)'),
    target: z
      .union([
        z.looseObject({
          name: z.string().min(1),
          type: z.literal('category'),
          classes: z.array(z.union([z.string(), z.number()])).describe('class labels, in the order of predicted probabilities'),
          counts: z.record(z.string(), z.int().min(0)).describe('training rows per class'),
        }),
        z.looseObject({ name: z.string().min(1), type: z.literal('number'), min: z.number(), max: z.number(), mean: z.number() }),
      ])
      .nullable()
      .describe('the target in the training data: its classes and their counts, or its range and mean; null for an imported model (its classes are in the manifest\'s signature)'),
    input_example: z.array(z.record(z.string(), rawValue)).describe('a few input rows, raw values keyed by input column (as in the model\'s manifest; null: a missing value)'),
    importances: z
      .array(z.strictObject({ feature: z.string(), gain: z.number().min(0).describe('share of the model\'s total split gain'), splits: z.int().min(0).describe('splits on the feature, over all trees') }))
      .optional()
      .describe('per feature, in the model\'s column order: how much the model uses it (tree kinds); absent when the kind does not say'),
    warnings: z.array(z.string()).optional().describe('what training noticed that the user should know: a model predicting a single class, a rare class without class_weight'),
    evaluation: z
      .looseObject({
        hold_out: z
          .union([
            z.looseObject({
              rows: z.int().min(0),
              confusion_matrix: z.strictObject({
                labels: z.array(z.union([z.string(), z.number()])).describe('the classes, in the order of the rows and columns'),
                matrix: z.array(z.array(z.int().min(0))).describe('counts: rows are the actual class, columns the predicted one'),
              }),
              per_class: z
                .array(z.strictObject({ label: z.union([z.string(), z.number()]), precision: z.number(), recall: z.number(), f1: z.number(), support: z.int().min(0) }))
                .optional()
                .describe('per class: precision, recall, f1 and the hold-out rows of that class (scikit-learn\'s classification report; 0 where undefined)'),
            }),
            z.looseObject({
              rows: z.int().min(0),
              residuals: z
                .strictObject({ mean: z.number(), std: z.number(), min: z.number(), max: z.number(), p05: z.number(), p50: z.number(), p95: z.number(), mean_absolute: z.number() })
                .describe('statistics of actual − predicted'),
            }),
          ])
          .nullable()
          .describe('the hold-out predictions summarized: a confusion matrix (classification) or the residuals (regression); null for an imported model scored on no data'),
      })
      .describe('what reports need of the model\'s predictions on held-out data'),
  })
  .superRefine(sourceRules)
  .describe('mlskel model metadata record: what produced a trained or imported model')

export type MetadataRecord = z.output<typeof metadataRecordSchema>

export interface RecordTrainingOptions {
  /** The project root; locations in the record are relative to it, and the git state is that of its files. */
  root: string
  metadataDir: string
  model: SavedModel
  description: string
  task: Task
  hyperParameters: Record<string, unknown>
  /** params.yaml as resolved. */
  params: unknown
  /** This run's id: the stage's (stageContext().runId) when `mlskel run` started it, so mlskel.lock can name the record; default a new one. */
  runId?: string
  /** How the training was started, as stageContext().command gives it (no machine paths); default none recorded. */
  command?: string[]
  /** The --set overrides the params were resolved with (stageContext().overrides); default none. */
  overrides?: Record<string, unknown>
  /** Defaults to params.split.seed when that is a whole number. */
  seed?: number
  data: {
    /** Path of the input data, relative to root. */
    location: string
    /** Its content SHA-256. */
    identifier: string
    rows: number
    features: string[]
    target: string
    /** e.g. the raw CSV, the train and test splits; paths relative to root. */
    inputs?: { path: string; sha256: string }[]
    /** Per column (by name): values missing or not a number in the raw data; recorded in feature_schema. */
    missing?: Record<string, number>
    /** Every raw column's type and missing values (recorded as data.columns; `mlskel runs diff` compares them). */
    columns?: { name: string; type: ColumnType; missing: number }[]
    /** Raw rows left out, by reason. */
    dropped?: Record<string, number>
    /** Classification: rows per class, per split. */
    class_counts?: Record<string, Record<string, number>>
  }
  /** The rows the model was fit on: the feature schema's ranges and the target's classes or range come from them. */
  trainingData: Dataset
  /** The hold-out summary: `{ hold_out: summary }` of `scoreHoldOut(task, predictor, testSet)` (or summarizeHoldOut's). */
  evaluation: Evaluation
  /** The model's feature importances (predictor.importances()), when its kind gives them. */
  importances?: FeatureImportance[]
  /** What training warned about (predictor.warnings). */
  warnings?: readonly string[]
  testingStrategy: string
  scores: Scores
  /** Seconds per phase. */
  durations?: Record<string, number>
  /** The largest diff (bytes) saved beside a dirty record; default 5 MiB. A larger one is not saved (truncated: true). */
  diffCapBytes?: number
  /**
   * More paths (relative to root) that do not make the record dirty, beyond what mlskel writes (the model's folder,
   * the metadata folder, mlskel.lock, .mlskel/): the pipeline's outputs (stageContext().pipelineOutputs), data folders.
   */
  gitExclude?: string[]
}

/**
 * Write the metadata record of a training run to <metadataDir>/<run_id>.json (atomically) and return it. When the
 * project's files differ from the git commit, the difference is saved beside it as <run_id>.diff (unless over
 * the cap); the record is written after it, so a record never names a diff that is not there. The record commits the
 * model saveModel saved: if it cannot be written, the model folder that save created is removed again.
 */
export async function recordTraining(o: RecordTrainingOptions): Promise<MetadataRecord> {
  validateScores(o.scores)
  const runId = checkedRunId(o.runId)
  const modelLocation = toPosix(relative(o.root, o.model.dir))
  const seed = o.seed ?? getAt(o.params, 'split.seed')
  const signature = o.model.manifest.signature
  // the data inputs are recorded by their hashes: an uncommitted raw file is not code, and a copy of it in the diff
  // would put megabytes of data in models/metadata for every training (runs verify copies inputs from the project)
  const inputs = (o.data.inputs ?? []).map((input) => input.path)
  const { git, environment } = await projectState(o, modelLocation, [...inputs, ...(o.gitExclude ?? [])])
  const draft = {
    ...modelFields(o, runId, modelLocation),
    hyper_parameters: sortKeys(o.hyperParameters),
    params: sortKeys(o.params ?? null),
    overrides: sortKeys(o.overrides ?? {}),
    seed: typeof seed === 'number' && Number.isInteger(seed) ? seed : null,
    data: {
      location: toPosix(o.data.location),
      identifier: o.data.identifier,
      rows: o.data.rows,
      n_features: o.data.features.length,
      features: o.data.features,
      target: o.data.target,
      inputs: (o.data.inputs ?? []).map((input) => ({ path: toPosix(input.path), sha256: input.sha256 })),
      ...(o.data.columns ? { columns: o.data.columns } : {}),
      ...(o.data.dropped ? { dropped: o.data.dropped } : {}),
      ...(o.data.class_counts ? { class_counts: o.data.class_counts } : {}),
    },
    testing_strategy: o.testingStrategy,
    scores: o.scores,
    durations: o.durations ?? {},
    git: recordedGit(git, runId),
    command: portableCommand(o.command ?? [], o.root),
    environment,
    feature_schema: summarizeFeatures(signature, o.trainingData, o.data.missing),
    target: summarizeTarget(signature, o.trainingData),
    input_example: o.model.manifest.input_example,
    ...(o.importances ? { importances: o.importances } : {}),
    ...(o.warnings ? { warnings: [...o.warnings] } : {}),
    evaluation: o.evaluation,
  }
  return commitRecord(o, runId, draft, git)
}

export interface RecordImportOptions {
  /** The project root; locations in the record are relative to it, and the git state is that of its files. */
  root: string
  metadataDir: string
  /** The imported model, saved (pending until this record commits it). */
  model: SavedModel
  description: string
  task: Task
  /** What was imported: the file (its name, and its project-relative path when it was inside the project), its hash, size and producer. */
  imported: ImportedFile
  /** The hold-out data mlskel scored the model on (absent: none): its file's path and hash, its summary and scores. */
  holdOut?: {
    /** Relative to the project root, or the file's name when it is outside the project. */
    path: string
    sha256: string
    from: 'data' | 'project'
    /** Rows left out, by reason. */
    dropped: Record<string, number>
    summary: HoldOutSummary
    /** { metric: value } on the hold-out rows (evaluate). */
    scores: Record<string, number>
  }
  runId?: string
  /** The import's command line (portableCommand keeps no machine paths); default none recorded. */
  command?: string[]
  importances?: FeatureImportance[]
  /** What the import noticed (the kind's warnings, classes the file does not name). */
  warnings?: readonly string[]
  durations?: Record<string, number>
  diffCapBytes?: number
  /** More paths (relative to root) that do not make the record dirty: the pipeline's outputs, data folders. */
  gitExclude?: string[]
}

/** What a record keeps of an imported file. */
export interface ImportedFile {
  file: string
  path: string | null
  sha256: string
  size: number
  tool: string
  tool_version: string
  signature: 'file' | 'data' | 'project'
}

/**
 * Write the metadata record of an imported model (`mlskel models import`): source imported, what was imported, the
 * project's git state and environment at import, the signature's features and target, and the hold-out scores and
 * summary when there was data to score on. What only a training has (hyper-parameters, params, seed, the training
 * data, cross-validation) is empty or null: the model was trained elsewhere. Commits the model as recordTraining does.
 */
export async function recordImport(o: RecordImportOptions): Promise<MetadataRecord> {
  const scores: Scores = o.holdOut ? Object.fromEntries(Object.entries(o.holdOut.scores).map(([metric, value]) => [metric, { hold_out: value }])) : {}
  validateScores(scores)
  const runId = checkedRunId(o.runId)
  const modelLocation = toPosix(relative(o.root, o.model.dir))
  const signature = o.model.manifest.signature
  const projectPaths = [o.imported.path, o.holdOut?.path].filter((p): p is string => p !== undefined && p !== null)
  const { git, environment } = await projectState(o, modelLocation, [...projectPaths, ...(o.gitExclude ?? [])])
  const holdOut = o.holdOut
  const draft = {
    ...modelFields(o, runId, modelLocation),
    source: 'imported',
    imported: { ...o.imported, hold_out: holdOut ? { path: toPosix(holdOut.path), from: holdOut.from, dropped: holdOut.dropped } : null },
    hyper_parameters: {},
    params: null,
    overrides: {},
    seed: null,
    data: {
      location: null,
      identifier: null,
      rows: null,
      n_features: signature.features.length,
      features: signature.features.map((f) => f.name),
      target: signature.target.name,
      inputs: holdOut ? [{ path: toPosix(holdOut.path), sha256: holdOut.sha256 }] : [],
    },
    testing_strategy: holdOut ? `hold-out: scored by mlskel at import on ${toPosix(holdOut.path)} (${holdOut.summary.rows} rows); trained elsewhere, so no cross-validation` : null,
    scores,
    durations: o.durations ?? {},
    git: recordedGit(git, runId),
    command: portableCommand(o.command ?? [], o.root),
    environment,
    feature_schema: [],
    target: null,
    input_example: o.model.manifest.input_example,
    ...(o.importances ? { importances: o.importances } : {}),
    ...(o.warnings && o.warnings.length > 0 ? { warnings: [...o.warnings] } : {}),
    evaluation: { hold_out: holdOut ? holdOut.summary : null },
  }
  return commitRecord(o, runId, draft, git)
}

function checkedRunId(given: string | undefined): string {
  const runId = given ?? newRunId()
  if (!RUN_ID_PATTERN.test(runId)) throw new MlskelError('MLSKEL_METADATA_INVALID', `run id ${JSON.stringify(runId)} is not one mlskel makes (newRunId)`, { where: { field: 'run_id' } })
  return runId
}

/**
 * The project's git state and environment as a record keeps them. What mlskel writes (the model's folder, the
 * metadata folder, mlskel.lock, .mlskel/) and the `exclude` paths inside the project never make it dirty.
 */
async function projectState(o: { root: string; metadataDir: string; diffCapBytes?: number }, modelLocation: string, exclude: readonly string[]): Promise<{ git: ProjectGit; environment: Environment }> {
  const inside = exclude.map(toPosix).filter((path) => !isAbsolute(path) && !path.startsWith('../'))
  const excluded = [modelLocation, toPosix(relative(o.root, o.metadataDir)), ...MLSKEL_WRITES, ...inside]
  const [git, environment] = await Promise.all([gitState(o.root, { exclude: excluded, diffCapBytes: o.diffCapBytes ?? DEFAULT_DIFF_CAP_BYTES }), environmentOf(o.root)])
  return { git, environment }
}

function recordedGit(git: ProjectGit, runId: string): MetadataRecord['git'] {
  return {
    commit: git.commit,
    branch: git.branch,
    remote_url: git.remote_url,
    dirty: git.dirty,
    diff: git.diff && { file: git.diff.patch ? `${runId}.diff` : null, sha256: git.diff.sha256, bytes: git.diff.bytes, cap_bytes: git.diff.cap_bytes, truncated: git.diff.truncated },
  }
}

/**
 * Validate the record and write it to <metadataDir>/<run_id>.json (atomically), with its diff beside it first when
 * there is one. The record commits the model: until it is written the model's folder names the record and diff to
 * come (models/contract/pending.ts), and if it cannot be written the model folder the save created is removed again.
 */
async function commitRecord(o: { metadataDir: string; model: SavedModel }, runId: string, draft: unknown, git: ProjectGit): Promise<MetadataRecord> {
  const parsed = metadataRecordSchema.safeParse(draft)
  if (!parsed.success) throw invalid(parsed.error, `the record of run ${runId}`, undefined)
  const path = join(o.metadataDir, `${runId}.json`)
  const diffPath = join(o.metadataDir, `${runId}.diff`)
  await claimPendingModel(o.model.dir, { run_id: runId, record: path, ...(git.diff?.patch ? { diff: diffPath } : {}) })
  try {
    if (git.diff?.patch) await writeFileAtomic(diffPath, git.diff.patch)
    await writeFileAtomic(path, `${JSON.stringify(parsed.data, null, 2)}\n`)
  } catch (error) {
    // a full disk or a failed write: nothing half-done, no diff without its record, no model a save made for it
    if (git.diff?.patch) await rm(diffPath, { force: true }).catch(() => undefined)
    await abandonPendingModel(o.model.dir).catch(() => undefined)
    throw error
  }
  // committed; a pending file that cannot be removed now is adopted by the next save
  await settlePendingModel(o.model.dir).catch(() => undefined)
  return parsed.data
}

/** The saved diff of a dirty record (<metadataDir>/<run_id>.diff), or null when it has none. */
export function recordDiffPath(metadataDir: string, record: Pick<MetadataRecord, 'git'>): string | null {
  const file = record.git.diff?.file
  return file ? join(metadataDir, file) : null
}

/** What mlskel itself writes in a project during a run, besides models, records and stage outputs. */
const MLSKEL_WRITES = [LOCK_FILE, '.mlskel']

/**
 * The JSON files of `metadataDir` (temp and hidden files left out), newest first by name (records are named
 * <run_id>.json and run ids sort by time as text); a missing folder has none.
 */
export async function recordFileNames(metadataDir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(metadataDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names.filter((name) => name.endsWith('.json') && !name.startsWith(TEMP_PREFIX) && !name.startsWith('.')).sort().reverse()
}

/** The training records' files in `metadataDir`: those named <run_id>.json, newest first. */
export async function trainingRecordFiles(metadataDir: string): Promise<string[]> {
  return (await recordFileNames(metadataDir)).filter((name) => RUN_ID_PATTERN.test(name.slice(0, -'.json'.length)))
}

/** Every training record in `metadataDir`, validated, newest first; a missing folder has none. */
export async function readRecords(metadataDir: string): Promise<MetadataRecord[]> {
  const files = await recordFileNames(metadataDir)
  const records = await mapBounded(files, READ_CONCURRENCY, (name) => readRecord(join(metadataDir, name)))
  return records.sort((a, b) => (a.run_id < b.run_id ? 1 : a.run_id > b.run_id ? -1 : 0))
}

/** Records read at once at most: a project with thousands stays under the usual limit of 1,024 open files. */
export const READ_CONCURRENCY = 32

/** `fn` over `items`, at most `limit` at a time, results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/**
 * One record, validated: MLSKEL_METADATA_INVALID names the file and the first bad field. A record named
 * `<run_id>.json` must hold that run: a record copied or renamed under another run's name is refused, as it would
 * pass for a run it is not (a newer one, rolling a server back to an old model).
 */
export async function readRecord(path: string): Promise<MetadataRecord> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new MlskelError('MLSKEL_FILE_MISSING', `metadata record ${path} does not exist`, { where: { file: path }, cause: error })
    throw new MlskelError('MLSKEL_READ_FAILED', `metadata record ${path} could not be read: ${(error as Error).message}`, { where: { file: path }, cause: error })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new MlskelError('MLSKEL_METADATA_INVALID', `metadata record ${path} is not valid JSON: ${(error as Error).message}`, { where: { file: path }, cause: error })
  }
  const parsed = metadataRecordSchema.safeParse(raw)
  if (!parsed.success) throw invalid(parsed.error, `metadata record ${path}`, path)
  const name = basename(path, '.json')
  if (RUN_ID_PATTERN.test(name) && name !== parsed.data.run_id) {
    throw new MlskelError('MLSKEL_METADATA_INVALID', `metadata record ${path} holds run ${parsed.data.run_id}, not run ${name}: a record is named by its run id (was it copied or renamed?)`, {
      where: { file: path, field: 'run_id' },
    })
  }
  return parsed.data
}


/**
 * A new run id: sortable as text by time, readable, unique (24 random bits per millisecond). Within a process
 * ids never repeat a millisecond, so two runs recorded in the same one still sort in the order they were made.
 */

/** What a record says of its run and model, trained or imported alike. */
function modelFields(o: { description: string; task: Task; model: SavedModel }, runId: string, modelLocation: string) {
  return {
    schema_version: METADATA_SCHEMA_VERSION,
    run_id: runId,
    timestamp: timestampOf(runId),
    description: o.description,
    task: o.task,
    model_id: o.model.id,
    model_type: o.model.manifest.kind,
    model_location: modelLocation,
    model_hash: o.model.manifest.files.model.sha256,
    model_size: o.model.size,
  }
}

function timestampOf(runId: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(runId)!
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`
}

function invalid(error: z.ZodError, what: string, file: string | undefined): MlskelError {
  const { field, text } = describeIssues(error, 5)
  return new MlskelError('MLSKEL_METADATA_INVALID', `${what} is invalid: ${text}`, { where: { ...(file ? { file } : {}), field } })
}

function toPosix(path: string): string {
  return path.split(sep).join('/')
}

export { recordPrediction, predictionRecordSchema, predictionRecordPath, PREDICTION_SCHEMA_VERSION, type PredictionRecord, type RecordPredictionOptions } from './prediction.js'
export { environmentOf, LOCKFILES, type Environment } from './environment.js'
export { gitState, stripCredentials, DEFAULT_DIFF_CAP_BYTES, type GitState, type WorkingTreeDiff } from './git.js'

/**
 * The model of the newest training record in `metadataDir` (only that record is read: a project may hold
 * thousands). Which model is newest is a question of the records, so it is answered here, not by the model store.
 */
export async function newestModelId(metadataDir: string, modelsDir: string): Promise<string> {
  const [newestFile] = await trainingRecordFiles(metadataDir)
  const newest = newestFile === undefined ? undefined : await readRecord(join(metadataDir, newestFile))
  if (!newest) {
    throw new MlskelError('MLSKEL_MODEL_NOT_FOUND', `no model id given and no training recorded in ${metadataDir}, so there is no newest model to load`, { where: { file: metadataDir } })
  }
  if (!(await listModelIds(modelsDir)).includes(newest.model_id)) {
    throw new MlskelError('MLSKEL_MODEL_NOT_FOUND', `the newest training record (run ${newest.run_id}) names model ${newest.model_id}, but ${join(modelsDir, newest.model_id)} does not exist`, {
      where: { file: join(metadataDir, `${newest.run_id}.json`), field: 'model_id' },
      fix: 'Retrain (`mlskel run train`), or pass the id of a model that exists.',
    })
  }
  return newest.model_id
}

/**
 * Load a saved model: by id or unique id prefix, or else the model of the newest training record in `metadataDir`
 * (default <modelsDir>/metadata). Checks model.json against the manifest's hash before reading it.
 */
export async function loadModel(modelsDir: string, o: { id?: string; metadataDir?: string } = {}): Promise<LoadedModel> {
  return loadSavedModel(modelsDir, o.id ?? (await newestModelId(o.metadataDir ?? join(modelsDir, 'metadata'), modelsDir)))
}
