// The one registry of user-facing errors: every error mlskel shows has a stable code, says where, and says how to fix.
//
// Codes are never reused or renamed; docs/errors.md documents each one (a test keeps the two in sync).

export const errorCatalog = {
  MLSKEL_USAGE: 'Run the command with --help to see its arguments and options.',
  MLSKEL_YAML_SYNTAX: 'Fix the YAML syntax at the line shown (indentation, a missing colon or quote).',
  MLSKEL_YAML_TOO_LARGE: 'Keep params.yaml and mlskel.yaml small (settings, not data): move large values to a data file the pipeline reads.',
  MLSKEL_FILE_MISSING: 'Create the file, or run the command from the project folder.',
  MLSKEL_READ_FAILED: 'Read the system error in the message: EMFILE means too many open files (raise `ulimit -n`), EACCES a permission to grant; then run the command again.',
  MLSKEL_WRITE_FAILED: 'Check free disk space and write permissions for the folder; nothing was replaced.',
  MLSKEL_PROJECT_NOT_FOUND: 'Run the command inside an mlskel project (a folder with mlskel.yaml), or create one with `mlskel new <dir>`.',

  MLSKEL_NEW_DIR_NOT_EMPTY: 'Choose an empty or new folder, or pass --force to add the project to this one (existing files are kept).',
  MLSKEL_NEW_INVALID_NAME: 'Use a folder name that is a valid npm package name: lower case, no spaces, no leading dot or underscore.',
  MLSKEL_NEW_INSTALL_FAILED: 'Read the package manager output above, fix the cause, then run the install again in the project folder.',
  MLSKEL_INIT_PACKAGE_INVALID: 'Fix package.json (it must be valid JSON), then run mlskel init again: nothing was written.',
  MLSKEL_UPGRADE_NO_RECORD: 'Run mlskel upgrade in a project made by mlskel new or mlskel init (they write .mlskel-template.json); restore the file from git if it was deleted.',
  MLSKEL_UPGRADE_GIT_FAILED: 'Install git (mlskel upgrade merges with `git merge-file`), then run mlskel upgrade again; nothing was written.',
  MLSKEL_NEW_TEMPLATE_MISSING: 'Reinstall mlskel: its template folder is missing or incomplete.',

  MLSKEL_PIPELINE_INVALID: 'Fix mlskel.yaml at the line shown; see the schema in schema/mlskel.schema.json.',
  MLSKEL_PIPELINE_CYCLE: 'Remove one of the dependencies in the cycle: a stage cannot depend, directly or not, on its own outputs.',
  MLSKEL_PIPELINE_UNKNOWN_STAGE: 'Use one of the stage names declared in mlskel.yaml.',
  MLSKEL_PIPELINE_DUPLICATE_OUTPUT: 'Give each output to exactly one stage.',
  MLSKEL_PIPELINE_UNKNOWN_PARAM: 'List only keys that exist in params.yaml under the stage\'s `params`.',
  MLSKEL_PIPELINE_DEP_MISSING: 'Create the missing dependency, or produce it with an upstream stage that lists it under `outs`.',
  MLSKEL_PIPELINE_EXTERNAL_UNDECLARED: 'Declare the path in mlskel.yaml under `external:` (raw data read in place; `mlskel check` then manifests it with data/raw), or copy the data into the project and depend on it there.',
  MLSKEL_PIPELINE_EXTERNAL_UNUSED: 'List the external input in the `deps` of the stage that reads it (so its hash decides when that stage runs), or remove it from `external:`.',
  MLSKEL_STAGE_FAILED: 'Read the stage output above, fix the cause, then run `mlskel run` again; completed stages are not re-run.',
  MLSKEL_STAGE_HANDOFF_INVALID: 'Run the stage through `mlskel run`, which writes its hand-off, or unset MLSKEL_STAGE to run the script on its own; a hand-off of another mlskel version means the project and the mlskel running it differ: `npm install` in the project.',
  MLSKEL_STAGE_KILLED: 'The stage was stopped by a signal (out of memory, Ctrl-C or a kill); run it again when the cause is gone.',
  MLSKEL_STAGE_OUTPUT_MISSING: 'Make the stage\'s command write every path listed under its `outs`, or remove the path from `outs`.',
  MLSKEL_LOCK_INVALID: 'Restore mlskel.lock from git, or delete it (every stage then runs once more); it is written by mlskel and should not be edited by hand.',
  MLSKEL_RUN_LOCKED: 'Wait for the other run, or the stage it left running, to finish (the message names its pid or process group); if neither is alive, delete the lock file named above.',
  MLSKEL_SET_INVALID: 'Write overrides as --set key.path=value, for a key that exists in params.yaml.',

  MLSKEL_PARAMS_INVALID: 'Fix params.yaml at the line shown; see the schema in schema/params.schema.json.',
  MLSKEL_PARAMS_RAW_OUTSIDE: 'Copy the file into data/raw and name it from there (dataset.raw: iris.csv), or keep it where it is: write its absolute path, declare it in mlskel.yaml under `external:` and list it in the deps of the stage that reads it.',
  MLSKEL_PARAMS_TARGET_NOT_COLUMN: 'Set dataset.target in params.yaml to one of the data set\'s columns.',
  MLSKEL_PARAMS_FEATURE_NOT_COLUMN: 'List under dataset.features only columns of the data set (or leave it empty for all but the target).',
  MLSKEL_PARAMS_FEATURE_NOT_NUMERIC: 'The pipeline takes numeric features: list only numeric columns under dataset.features in params.yaml.',
  MLSKEL_PARAMS_COLUMN_NOT_FOUND: 'Name under dataset.columns in params.yaml only columns of the raw file (the message lists them).',
  MLSKEL_PARAMS_TASK_MISMATCH: 'Set `task` in params.yaml to fit the target: classification for labels, regression for numbers.',

  MLSKEL_SETTINGS_INVALID: 'Fix the variable in .env or in the environment; .env.example documents each one.',

  MLSKEL_DATA_RAW_MISSING: 'Put the CSV in the raw data folder, or point dataset.raw in params.yaml to a file that is there.',
  MLSKEL_DATA_INVALID_VALUE: 'Fix the value at its source, or set dataset.invalid_rows: drop in params.yaml to drop such rows and count them.',
  MLSKEL_DATA_TOO_FEW_ROWS: 'Provide more rows, or lower split.cv_folds / split.test_size in params.yaml.',
  MLSKEL_DATA_MISSING_COLUMNS: 'Give the input every feature column the model was trained on (see the model\'s manifest.json).',
  MLSKEL_DATA_TOO_MANY_CATEGORIES: 'Raise dataset.min_category_count in params.yaml to fold more rare categories into "other", or declare the column identifier or ignore in dataset.columns; a model takes at most model.max_bins (255) categories.',
  MLSKEL_DATA_UNREADABLE: 'Give dataset.raw a CSV file (with a header row) or a Parquet file; set dataset.delimiter in params.yaml if the sniffer picked the wrong one.',
  MLSKEL_DATA_NOT_GENERATED: 'Run `mlskel run` (or `npm run pipeline`): it regenerates the data set when params.yaml or the raw data changed, then trains.',

  MLSKEL_MODEL_NOT_FOUND: 'Train a model first (`mlskel run train`), or pass an id listed in models/metadata.',
  MLSKEL_MODEL_AMBIGUOUS: 'Give more characters of the model id.',
  MLSKEL_MODEL_KIND_UNKNOWN: 'Register a loader for this kind with registerModelKind(), or retrain with a kind mlskel ships.',
  MLSKEL_MODEL_CORRUPT: 'Retrain the model: its files do not match its manifest.',
  MLSKEL_MODEL_TOO_LARGE: 'Train smaller trees: for a random forest raise model.min_samples_leaf (e.g. 5) or set model.max_depth, or train fewer trees (model.n_estimators); a fully grown forest has about a node per training row per tree.',
  MLSKEL_MODEL_KIND_RETIRED: 'Retrain the model (`mlskel run train --force`): mlskel now trains its own random_forest and gradient_boosting kinds.',
  MLSKEL_XGBOOST_UNSUPPORTED: 'Train the model with booster gbtree and one of the objectives binary:logistic, multi:softprob, multi:softmax, reg:squarederror or reg:logistic (one target, one value per leaf), or serve it with XGBoost itself.',
  MLSKEL_XGBOOST_MALFORMED: 'Save the model again from XGBoost (`booster.save_model("model.json")`) and use that file unchanged: this one is damaged, or not an XGBoost JSON model.',
  MLSKEL_XGBOOST_SIGNATURE_MISMATCH: 'Give as many feature names as the model has features (or none when the file names them), as many classes as it predicts, and categories only for its categorical features, at least as many as its splits name.',
  MLSKEL_ONNX_RUNTIME_MISSING: 'Install ONNX Runtime for Node in the project: `npm install onnxruntime-node` (where its install script cannot download, add --onnxruntime-node-install=skip, or set ONNXRUNTIME_NODE_INSTALL=skip: the CPU runtime is in the package itself).',
  MLSKEL_ONNX_MALFORMED: 'Export the model to ONNX again from the library that trained it and use that file unchanged: this one is damaged, or not an ONNX model.',
  MLSKEL_ONNX_UNSUPPORTED: 'Export the model with one float input [N, F] (or one [N, 1] input per feature) and a label and/or probabilities output (a regression: one value per row); the message names the input or output that does not fit.',
  MLSKEL_ONNX_SIGNATURE_MISMATCH: 'Give as many feature names as the model has features (the input names of a model with one input per feature), as many classes as it predicts, and nothing that contradicts the signature an mlskel export carries.',
  MLSKEL_ONNX_RUN_FAILED: 'Read ONNX Runtime\'s message: the model may need other inputs than mlskel gives it, or its outputs may not be a prediction (probabilities that are not a distribution: export the model with its softmax).',
  MLSKEL_ONNX_EXPORT_UNSUPPORTED: 'Export a random_forest or gradient_boosting model; a model mlskel did not train (xgboost, onnx) is exported by the library that trained it.',
  MLSKEL_IMPORT_FORMAT_UNKNOWN: 'Import XGBoost\'s JSON (`booster.save_model("model.json")`) or an ONNX file (torch.onnx.export, skl2onnx, tf2onnx); the message says what this file looks like.',
  MLSKEL_IMPORT_TASK_MISMATCH: 'Leave --task out for an XGBoost model (its objective says the task), or import the model trained for the task you meant.',
  MLSKEL_IMPORT_DATA_MISMATCH: 'Give --data a CSV (with a header row) or Parquet file holding the model\'s feature columns (the names the file gives them; when it names none, exactly its features, in order) and the target column (--target names it); the message says what is missing.',
  MLSKEL_METADATA_INVALID: 'Fix or remove the record named above; records are written by mlskel and should not be edited by hand.',
  MLSKEL_METRIC_UNKNOWN: 'Use a known metric name (accuracy, f1_macro, log_loss, r2, mean_squared_error, mean_absolute_error, …) or prefix your own with custom_, and a split cv, hold_out or custom_*.',

  MLSKEL_RUN_NOT_FOUND: 'Give a run id (or a unique prefix of one, or `latest`) listed by `mlskel runs list`.',
  MLSKEL_RUN_AMBIGUOUS: 'Give more characters of the run id: the message lists the runs it matches.',
  MLSKEL_VERIFY_NOT_GIT: 'Run `mlskel runs verify` in the git repository the model was trained in (with git installed): it checks out the recorded commit.',
  MLSKEL_VERIFY_COMMIT_MISSING: 'Fetch the commit into this repository (git fetch), or verify a run trained from a commit that is still here.',
  MLSKEL_VERIFY_DIFF_MISSING: 'A run trained from uncommitted changes is verifiable only with its saved diff: commit your changes before training, or restore the diff file beside the record.',
  MLSKEL_VERIFY_INPUT_CHANGED: 'Restore the input named above to its recorded content (raw data is immutable), or train again from the data as it is now.',
  MLSKEL_VERIFY_CHECKOUT_FAILED: 'Read the git message above; run again with --keep to inspect the temporary checkout.',
  MLSKEL_VERIFY_TRAINING_FAILED: 'Read the training output above; run again with --keep to inspect the temporary checkout, and check that the project\'s dependencies are installed.',
  MLSKEL_VERIFY_IMPORT_MISSING: 'Import the file again (`mlskel models import <file>`, which writes a new record), or restore the model folder from a backup: an imported model cannot be trained again, only its stored bytes verified.',

  MLSKEL_SERVE_INVALID_INPUT: 'Send rows that match the served model\'s inputs (GET /openapi.json): every input, by name or in order, as the training data had it (a number as a JSON number, a category as a string, a date as an ISO 8601 string, a boolean as true or false), and null for a missing value.',
  MLSKEL_SERVE_MALFORMED_REQUEST: 'Send a well-formed body of the type named in Content-Type (JSON: check quotes, commas and brackets).',
  MLSKEL_SERVE_TOO_MANY_ROWS: 'Split the rows into smaller requests, or raise API_MAX_ROWS in the server\'s settings.',
  MLSKEL_SERVE_BODY_TOO_LARGE: 'Split the rows into smaller requests: a body may hold API_MAX_ROWS rows of the model\'s inputs (at most 10 MiB); send `Expect: 100-continue` to learn this before sending the body.',
  MLSKEL_SERVE_EXPECTATION_FAILED: 'Send no Expect header, or `Expect: 100-continue` (the one expectation HTTP/1.1 defines).',
  MLSKEL_SERVE_UNSUPPORTED_MEDIA_TYPE: 'Send Content-Type: application/json (or text/csv to /invocations).',
  MLSKEL_SERVE_UNAUTHORIZED: 'Send the server\'s API_TOKEN as `Authorization: Bearer <token>`.',
  MLSKEL_SERVE_ROUTE_NOT_FOUND: 'Use one of the server\'s routes: POST /predict, POST /invocations, GET /health, /ready, /version, /metadata (see /openapi.json).',
  MLSKEL_SERVE_METHOD_NOT_ALLOWED: 'Use the method the Allow header names for this route: POST for /predict and /invocations, GET for the others (see /openapi.json).',
  MLSKEL_SERVE_TIMEOUT: 'Send the whole request within the server\'s request timeout (API_REQUEST_TIMEOUT_MS, 30 s by default), with a Content-Length that matches the body.',
  MLSKEL_SERVE_HEADERS_TOO_LARGE: 'Send smaller request headers (the server takes up to 16 KiB of them, Node\'s default): large tokens or cookies are the usual cause.',
  MLSKEL_SERVE_BUSY: 'Retry after the seconds the Retry-After header gives, or send smaller requests: the server holds a bounded number of request bodies in memory at once.',
  MLSKEL_SERVE_NOT_READY: 'Wait until a model is loaded (GET /ready answers 200), or train one (`mlskel run train`).',
  MLSKEL_SERVE_INTERNAL: 'Read the server\'s log line for this request, and report it with that line if the cause is not in the project.',

  MLSKEL_CHECK_UNKNOWN_RULE: 'Name rules from the list in `mlskel check --help` (structure, reports, tests, coverage, lint, raw-data, models, model-size, secrets, pipeline, readme).',
  MLSKEL_CHECK_RULE_FAILED: 'Read the message: it names the file or command that failed. Fix it (or report the rule\'s failure if the cause is not in the project), then check again.',
  MLSKEL_CHECK_CONFIG_INVALID: 'Fix the `checks:` section of mlskel.yaml at the line shown; see docs/check.md for its keys.',
  MLSKEL_CHECK_STRUCTURE_MISSING: 'Create the folder or file named (`mlskel init` adds what is missing of the layout, overwriting nothing).',
  MLSKEL_CHECK_REPORT_MISSING: 'Write the report into reports/: `mlskel report explore` and `mlskel report delivery`, or run the notebooks with `npm run report:notebooks`.',
  MLSKEL_CHECK_NO_TESTS: 'Add tests under tests/ named *.test.ts (the template\'s tests show the pattern).',
  MLSKEL_CHECK_COVERAGE_LOW: 'Add tests for the files listed with the lowest coverage, or lower checks.coverage.lines in mlskel.yaml with a reason.',
  MLSKEL_CHECK_COVERAGE_FAILED: 'Run the coverage command shown yourself, fix what fails, then check again.',
  MLSKEL_CHECK_LINT_ERRORS: 'Fix the lint errors at the places shown (`npx eslint --fix` fixes some); warnings do not fail the check.',
  MLSKEL_CHECK_LINT_FAILED: 'Install the project\'s dependencies (`npm install`) and make `npx eslint src tests` run; fix its configuration if it fails.',
  MLSKEL_CHECK_RAW_CHANGED: 'Restore the raw file (e.g. `git checkout -- <file>`); raw data is immutable. If the new content is intended, accept it with `mlskel check --accept-raw` and commit the manifest.',
  MLSKEL_CHECK_RAW_NEW: 'Commit the new raw file and accept it with `mlskel check --accept-raw`, which adds it to data/raw.manifest.json.',
  MLSKEL_CHECK_RAW_MANIFEST: 'Commit data/raw.manifest.json. If it is damaged, restore it from git, or delete it to have it written again from data/raw as it is now.',
  MLSKEL_CHECK_LINK_OUTSIDE: 'Put the file itself in the project rather than a link to it; raw data that must stay where it is: declare it in mlskel.yaml under `external:` and read it by its absolute path (docs/data.md).',
  MLSKEL_CHECK_MODEL_ORPHAN: 'Delete the model folder, or train it again with `mlskel run train` so that a record describes it.',
  MLSKEL_CHECK_RECORD_ORPHAN: 'Restore the model folder (from a backup or by `mlskel runs verify <run id> --keep`), or delete the record.',
  MLSKEL_CHECK_MODEL_MISMATCH: 'Restore the model or the record from git or a backup, or train again; never edit either by hand.',
  MLSKEL_CHECK_COLUMN_TYPE_CHANGED: 'If the change is not meant, find the values that changed the column\'s type (`mlskel runs diff` shows the columns of both runs) and fix them at their source, or pin the type with dataset.columns in params.yaml; then train again.',
  MLSKEL_CHECK_MODEL_TOO_LARGE: 'Keep training data out of the model and prefer a smaller model (fewer or shallower trees), or raise checks.model_size_mb in mlskel.yaml.',
  MLSKEL_CHECK_ENV_EXPOSED: 'Add `.env` to .gitignore, and if it is tracked, `git rm --cached .env` and rotate every secret it held.',
  MLSKEL_CHECK_SECRET_FOUND: 'Remove the secret from the file, rotate it (it is in git history), and read it from .env or the environment instead.',
  MLSKEL_CHECK_PIPELINE_INVALID: 'Fix mlskel.yaml or params.yaml at the line shown (`mlskel run --dry-run` shows the same error).',
  MLSKEL_CHECK_LOCK_STALE: 'Run the pipeline (`mlskel run`) and commit mlskel.lock, so that data and models match the code.',
  MLSKEL_CHECK_README_PLACEHOLDER: 'Replace the `<!-- TODO: ... -->` placeholder with the section\'s content.',

  MLSKEL_REPORT_NO_RUN: 'Train a model first (`mlskel run train`), or name a recorded run with --run <id> (`mlskel runs list` shows them).',
  MLSKEL_REPORT_DATA_MISSING: 'Name a CSV or Parquet file that exists (`mlskel report explore data/raw/iris.csv`), or run the pipeline so that data/staging holds the data set.',
  MLSKEL_REPORT_NO_BROWSER: 'Install Chromium (Debian: `apt-get install chromium`) or set MLSKEL_CHROMIUM to a Chromium or Chrome executable; the HTML report is written either way.',
} as const

export type ErrorCode = keyof typeof errorCatalog

/** Where a bad value came from. Every field is optional: give what is known. */
export interface ErrorLocation {
  file?: string
  line?: number
  field?: string
}

export interface MlskelErrorOptions {
  where?: ErrorLocation
  /** A fix hint for this occurrence; the catalog's hint for the code is used when absent. */
  fix?: string
  cause?: unknown
  /** Exit code the CLI uses; 1 unless said otherwise. */
  exitCode?: number
}

export class MlskelError extends Error {
  override readonly name = 'MlskelError'
  readonly code: ErrorCode
  readonly where: ErrorLocation | undefined
  readonly fix: string
  readonly exitCode: number

  constructor(code: ErrorCode, message: string, options: MlskelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.where = options.where
    this.fix = options.fix ?? errorCatalog[code]
    this.exitCode = options.exitCode ?? 1
  }

  /** "params.yaml:7 (split.test_size)" — the place, as precisely as it is known. */
  get place(): string {
    return formatLocation(this.where)
  }
}

/** What mlskel reads of a zod issue; zod itself is not loaded here (this module is on every fast path). */
export interface ZodIssueLike {
  path: readonly PropertyKey[]
  message: string
  code?: string
  /** A record key's own issues (code invalid_key). */
  issues?: readonly { message: string }[]
}

/**
 * `dataset.features[2]`, `stages.generate-dataset.deps[0]`, `files["iris.csv"].sha256`: a path as mlskel names a
 * field ('' for the top level); a key that is not a plain name (a file name with a dot) is quoted.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : /^[A-Za-z_][\w-]*$/.test(String(part)) ? `.${String(part)}` : `[${JSON.stringify(String(part))}]`))
    .join('')
    .replace(/^\./, '')
}

/** One zod issue as mlskel says it: "field: message", `(top level)` for the root; a bad record key says why. */
export function issueText(issue: ZodIssueLike): string {
  const message = issue.code === 'invalid_key' && issue.issues?.[0] ? issue.issues[0].message : issue.message
  return `${fieldPath(issue.path) || '(top level)'}: ${message}`
}

/** A zod error's issues: the first one's field, and the first `max` as "field: message; …; and N more". */
export function describeIssues(error: { issues: readonly ZodIssueLike[] }, max = 1): { field: string; text: string } {
  const texts = error.issues.map(issueText)
  return { field: fieldPath(error.issues[0]?.path ?? []), text: `${texts.slice(0, max).join('; ')}${texts.length > max ? `; and ${texts.length - max} more` : ''}` }
}

export function isMlskelError(error: unknown): error is MlskelError {
  return error instanceof MlskelError || (error instanceof Error && (error as { code?: unknown }).code !== undefined && String((error as { code?: unknown }).code).startsWith('MLSKEL_') && 'fix' in error)
}

export function formatLocation(where: ErrorLocation | undefined): string {
  if (!where) return ''
  const file = where.file ? `${where.file}${where.line ? `:${where.line}` : ''}` : ''
  if (file && where.field) return `${file} (${where.field})`
  return file || where.field || ''
}

/** Quote a value the way error messages show it: strings in quotes, the rest as JSON, long ones cut. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** The closest candidate by edit distance, for "did you mean ...?" hints; undefined when nothing is close. */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}

export function didYouMean(input: string, candidates: Iterable<string>): string {
  const suggestion = closest(input, candidates)
  return suggestion ? ` Did you mean ${quote(suggestion)}?` : ''
}

/** How the CLI prints an error: known errors without a stack (unless verbose), unknown ones with it. */
export function formatError(error: unknown, options: { verbose?: boolean } = {}): string {
  if (isMlskelError(error)) {
    const place = error.place
    const lines = [`error ${error.code}: ${place ? `${place}: ` : ''}${error.message}`, `  fix: ${error.fix}`]
    if (options.verbose && error.stack) lines.push(error.stack)
    return lines.join('\n')
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error)
  return `unexpected error (a bug in mlskel or in the project's code):\n${stack}\n  Run again with --verbose for details, and report it with this output.`
}
