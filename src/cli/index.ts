#!/usr/bin/env node
// The mlskel command line: parses, prints and exits. Each command lives in commands/<verb>.ts, loaded only when
// it runs, so `mlskel --help` stays fast; the work itself is done by the library.
import { Command, CommanderError, Option } from 'commander'
import { formatError, isMlskelError } from '../errors/index.js'
import { mlskelVersion } from '../package/index.js'

const version = mlskelVersion()

/**
 * An action that imports its command module on first use. A command's default export does the work; it throws
 * known errors, and sets process.exitCode when it fails without throwing.
 */
function lazy<A extends unknown[]>(load: () => Promise<{ default: (...args: A) => Promise<void> }>): (...args: A) => Promise<void> {
  return async (...args) => (await load()).default(...args)
}

export function buildProgram(): Command {
  const program = new Command('mlskel')
    .description('An opinionated skeleton for machine-learning projects in TypeScript, and the toolkit that keeps them honest.')
    .version(version, '-V, --version')
    .option('--verbose', 'show stack traces and debug output')
    .showSuggestionAfterError()
    .exitOverride()

  program
    .command('new')
    .description('create a project from the template: layout, iris example, pipeline, tests')
    .argument('<dir>', 'folder to create (its name becomes the package name)')
    .addOption(new Option('--pm <manager>', 'package manager to install with').choices(['npm', 'pnpm', 'yarn']))
    .option('--no-git', 'do not run git init and make an initial commit')
    .option('--no-install', 'do not install dependencies')
    .option('--force', 'use the folder even if it is not empty (existing files are kept)')
    .option('--json', 'print a JSON summary')
    .action(lazy(() => import('./commands/new.js')))

  program
    .command('init')
    .description('adopt the current folder: add what is missing of the layout and template (overwriting nothing), merge package.json and .gitignore')
    .option('--json', 'print a JSON summary')
    .action(lazy(() => import('./commands/init.js')))

  program
    .command('upgrade')
    .description("bring this mlskel's template changes into the project, with a three-way merge that keeps your edits")
    .option('-n, --dry-run', 'show what would change, writing nothing')
    .option('--json', 'print the result as JSON')
    .action(lazy(() => import('./commands/upgrade.js')))

  program
    .command('run')
    .description('run the pipeline in dependency order, skipping stages whose inputs are unchanged')
    .argument('[stages...]', 'stages to run, with their upstream stages (default: all)')
    .option('-f, --force', 'run the named stages (all when none is named) even if they are up to date')
    .option('-n, --dry-run', 'show what would run and why, without running anything')
    .option('--downstream', 'also run the stages that depend on the named ones')
    .option('-s, --set <key=value>', 'override a params.yaml value for this run (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--json', 'print a JSON summary')
    .usage('[options] [stages...] [-- args for the named stages]')
    .addHelpText('after', '\nArguments after -- are passed to the named stages\' commands, e.g. mlskel run predict -- --input data/raw/new.csv')
    .action(lazy(() => import('./commands/run.js')))

  const runs = program
    .command('runs')
    .description('browse, compare and re-verify trained models (the records in models/metadata)')
  const runsCommand = () => import('./commands/runs.js')
  runs
    .command('list')
    .description('the trainings, newest first: run id, time, model, task, main scores, data id, commit (* = dirty)')
    .option('--sort-by <metric>', 'sort by this metric\'s hold-out score, best first (errors and losses: lowest first)')
    .option('--limit <n>', 'show at most n runs')
    .option('--json', 'print an array of summary rows: { run_id, timestamp, model_id, task, scores, data_id, commit, dirty, description }; `runs show --json` gives a whole record')
    .action(lazy(async () => ({ default: (await runsCommand()).list })))
  runs
    .command('show')
    .description('one training record, in full: model, data and inputs, params, scores, code, environment, durations')
    .argument('<id>', 'run id, a unique prefix of one, or latest')
    .option('--json', 'print the record as it is stored')
    .action(lazy(async () => ({ default: (await runsCommand()).show })))
  runs
    .command('diff')
    .description('what differs between two runs: params, scores (b - a), data hashes per input, code, environment')
    .argument('<a>', 'run id, a unique prefix of one, or latest')
    .argument('<b>', 'run id, a unique prefix of one, or latest')
    .option('--json', 'print the differences as JSON')
    .action(lazy(async () => ({ default: (await runsCommand()).diff })))
  runs
    .command('verify')
    .description('prove a record: its raw inputs hash as recorded, and training again in a clean checkout of its commit gives the same model hash and scores (an imported model: its stored bytes are those recorded)')
    .argument('<id>', 'run id, a unique prefix of one, or latest')
    .option('--keep', 'keep the temporary checkout for inspection (its path is printed)')
    .option('--json', 'print { verified, status, reason?, code?, differences?, ... } on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Progress goes to stderr; with --verbose the training\'s own output too.',
        '',
        'An imported model (mlskel models import) is verified by its bytes, not by training it again: its folder\'s',
        'model.json must hash as recorded, its original file (source.json, source.onnx) as imported, and model.json\'s',
        'model must be that file\'s. No git, checkout or training is involved.',
        '',
        'Exit codes:',
        '  0  verified: same model hash and scores (within 1e-12); an import: the bytes recorded',
        '  1  not verified: reproduced, differently (each difference is listed); an import: other bytes',
        '  2  cannot verify: not a git repository, commit missing, dirty without a usable diff, an input gone or',
        '     changed, training failed in the checkout, an imported model\'s folder or original file gone, or an',
        '     unknown run id',
      ].join('\n'),
    )
    .action(lazy(async () => ({ default: (await runsCommand()).verify })))

  const models = program
    .command('models')
    .description('models trained elsewhere, and mlskel\'s own in other formats')
  const modelsCommand = () => import('./commands/models.js')
  models
    .command('export')
    .description('write a random_forest or gradient_boosting model as an ONNX file (an ai.onnx.ml tree ensemble: label and probabilities, or the value), its id and signature in the file\'s metadata')
    .argument('<id>', 'model id, a unique prefix of one, or latest (the newest training\'s)')
    .addOption(new Option('--format <format>', 'the file\'s format').choices(['onnx']).default('onnx'))
    .option('--out <file>', 'where to write it (default: model.onnx in the model\'s folder, models/<id>/)')
    .addOption(new Option('--input-type <type>', 'the input tensor\'s element type: double computes as mlskel does; float for runtimes without double tree ensembles (see docs/models-from-elsewhere.md)').choices(['double', 'float']).default('double'))
    .option('--json', 'print { id, kind, format, inputType, path, bytes, sha256 }')
    .action(lazy(async () => ({ default: (await modelsCommand()).exportCommand })))
  models
    .command('import')
    .description('register a model trained elsewhere (XGBoost\'s JSON or an ONNX file, told by its content) as one of the project\'s: a model folder holding the original file, and a metadata record; scored on --data, or on the project\'s test split when the file fits its data set')
    .argument('<file>', 'the model file: XGBoost\'s save_model("model.json"), or ONNX (torch.onnx.export, skl2onnx, onnx.helper, …)')
    .option('--name <name>', 'a name for the model, said in its description (default: the file\'s name)')
    .addOption(new Option('--task <task>', 'checked against an XGBoost objective; for an ONNX graph with one value per row, classification reads it as a probability').choices(['classification', 'regression']))
    .option('--target <column>', 'the target\'s name (with --data: its column; default: the one column of --data that is no feature, or "target")')
    .option('--data <file>', 'CSV or Parquet with the features and the target: names what the file does not (its columns, in order), and is the hold-out mlskel scores the model on')
    .option('--json', 'print { run_id, model_id, kind, task, model_location, record, imported, features, target, scores, hold_out, warnings, unscored? }')
    .addHelpText(
      'after',
      [
        '',
        'The signature (features, their types, the target) comes from the file: XGBoost\'s feature_names and',
        'feature_types, an ONNX graph\'s inputs and outputs. --data names what the file does not; without --data, the',
        'project\'s data set (data/transformed/dataset.json) is the signature when the file names the same features,',
        'and its test split the hold-out. Otherwise the model has no scores, and the output says why.',
        'Docs: docs/models-from-elsewhere.md (Importing).',
        '',
        'Exit codes: 0 imported; 1 refused (a coded error says why and how to fix it); 2 bad usage.',
      ].join('\n'),
    )
    .action(lazy(async () => ({ default: (await modelsCommand()).importCommand })))

  program
    .command('check')
    .description('the project doctor: structure, reports, tests, coverage, lint, raw data unchanged, models and records, secrets, pipeline, README')
    .option('--json', 'print the report as JSON (shape: docs/check.md, schema/check.schema.json)')
    .option('--strict', 'warnings fail the check too (missing reports, a stale pipeline, README placeholders, ...)')
    .option('--only <rules>', 'run only these rules, comma-separated (repeatable)', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--accept-raw', 'accept data/raw as it is now: rewrite data/raw.manifest.json (new, changed and removed files), then commit it')
    .addHelpText(
      'after',
      [
        '',
        'Rules: structure, reports, tests, coverage, lint, raw-data, models, model-size, secrets, pipeline, readme.',
        'Thresholds (coverage, model size) and rules to skip are set under `checks:` in mlskel.yaml (docs/check.md).',
        '',
        'Exit codes: 0 passed (warnings allowed, unless --strict); 1 an error was found; 2 bad usage (unknown rule).',
      ].join('\n'),
    )
    .action(lazy(() => import('./commands/check.js')))

  program
    .command('serve')
    .description('serve predictions over HTTP: POST /predict and /invocations (MLflow), health, metrics, OpenAPI docs')
    .option('--model <id>', 'serve this model (an id or unique prefix), pinned; default: the newest trained model, and newer ones as they appear')
    .option('--host <address>', 'address to listen on (default: API_HOST from .env, 0.0.0.0)')
    .option('--port <port>', 'port to listen on (default: API_PORT from .env, 5000; 0: any free port)')
    .addHelpText('after', '\nSettings (.env or the environment): API_HOST, API_PORT, API_TOKEN, API_MAX_ROWS, API_MAX_CONNECTIONS, API_REQUEST_TIMEOUT_MS,\nAPI_ERROR_DETAILS, LOG_LEVEL, LOG_FORMAT.\nLogs go to stdout; SIGTERM or Ctrl-C stops accepting, answers what has arrived (up to 10 s), then exits 0.\nWhat the server guarantees under load and on shutdown: docs/serving.md.')
    .action(lazy(() => import('./commands/serve.js')))

  const report = program
    .command('report')
    .description('write a report into reports/: one self-contained HTML page with charts (no scripts, no network), optionally a PDF')
  const reportCommand = () => import('./commands/report.js')
  report
    .command('delivery')
    .description('the delivery report of a trained model: model card, scores, scores across runs, hold-out evaluation, feature use, features and target')
    .option('--run <id>', 'the run to report on: a run id, a unique prefix of one, or latest', 'latest')
    .option('--out <dir>', 'folder to write the report to (default: reports/ of the project)')
    .option('--pdf', 'also print it to PDF beside the HTML, with headless Chromium (MLSKEL_CHROMIUM, else chromium or google-chrome)')
    .option('--json', 'print { path, runId, charts, bytes, pdf? } on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Writes delivery.html for the newest run, delivery-<run id>.html for an older one (so it never replaces the',
        'newest one\'s report). Everything comes from the run\'s metadata record; per-row charts (predicted against',
        'actual, histograms) are drawn when the model and the train/test splits are still there and unchanged.',
        'Progress goes to stderr.',
      ].join('\n'),
    )
    .action(lazy(async () => ({ default: (await reportCommand()).delivery })))
  report
    .command('explore')
    .description('the explorative report of a data file: columns, statistics, histograms, top values, correlations, target')
    .argument('[data]', 'a CSV or Parquet file (default: the project\'s data set: data/staging when the pipeline has run, else the raw CSV of params.yaml)')
    .option('--target <column>', 'the column to show as the target (default: dataset.target of params.yaml, when the file has it)')
    .option('--out <dir>', 'folder to write the report to (default: reports/ of the project)')
    .option('--pdf', 'also print it to PDF beside the HTML, with headless Chromium (MLSKEL_CHROMIUM, else chromium or google-chrome)')
    .option('--json', 'print { path, rows, columns, charts, bytes, pdf? } on stdout')
    .addHelpText('after', '\nWrites explore.html for the project\'s data set, explore-<file name>.html for another file. Progress goes to stderr.')
    .action(lazy(async () => ({ default: (await reportCommand()).explore })))

  return program
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  const verbose = argv.includes('--verbose')
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0
      return error.exitCode === 0 ? 0 : 2
    }
    console.error(formatError(error, { verbose }))
    return isMlskelError(error) ? error.exitCode : 1
  }
}

process.exitCode = await main(process.argv)
