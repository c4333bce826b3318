// `mlskel models export` and `import`: find the project, ask the library to export or import a model, say what it did.
import { relative } from 'node:path'
import type { Command } from 'commander'
import { MlskelError } from '../../errors/index.js'
import { formatScore } from '../runs-format.js'
import { findProjectRoot, loadSettings, projectPaths, settingsSchema } from '../../settings/index.js'

export interface ExportCommandOptions {
  format?: string
  out?: string
  inputType?: string
  json?: boolean
}

export async function exportCommand(id: string, options: ExportCommandOptions): Promise<void> {
  if (options.format !== undefined && options.format !== 'onnx') throw new MlskelError('MLSKEL_USAGE', `--format takes onnx, got "${options.format}"`, { exitCode: 2 })
  if (options.inputType !== undefined && options.inputType !== 'double' && options.inputType !== 'float') {
    throw new MlskelError('MLSKEL_USAGE', `--input-type takes double or float, got "${options.inputType}"`, { exitCode: 2 })
  }
  const root = findProjectRoot()
  const paths = projectPaths(root, loadSettings(settingsSchema, { root }))
  // loaded here: the models module pulls in zod and the tree engine, which `mlskel --help` should not pay for
  const { exportSavedModel } = await import('../../models/index.js')
  let modelId = id
  if (id === 'latest') {
    const { newestModelId } = await import('../../metadata/index.js')
    modelId = await newestModelId(paths.metadata, paths.models)
  }
  const result = await exportSavedModel({ modelsDir: paths.models, id: modelId, ...(options.out !== undefined ? { out: options.out } : {}), ...(options.inputType ? { inputType: options.inputType as 'double' | 'float' } : {}) })
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    return
  }
  const shown = relative(process.cwd(), result.path)
  process.stdout.write(`wrote ${shown && !shown.startsWith('..') ? shown : result.path}: model ${result.id} (${result.kind}) as ONNX, ${result.inputType} input, ${result.bytes.toLocaleString('en')} bytes\n`)
}

export interface ImportCommandOptions {
  name?: string
  task?: 'classification' | 'regression'
  target?: string
  data?: string
  json?: boolean
}

export async function importCommand(file: string, options: ImportCommandOptions, command?: Command): Promise<void> {
  const root = findProjectRoot()
  // loaded here: importing pulls in the model kinds, zod and (for --data) DuckDB
  const { importModel } = await import('../../importing/index.js')
  const argv = command ? ['mlskel', 'models', 'import', ...command.args, ...optionArgs(options)] : ['mlskel', 'models', 'import', file]
  const { record, recordFile, unscored } = await importModel({
    root,
    file,
    command: argv,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.task ? { task: options.task } : {}),
    ...(options.target !== undefined ? { target: options.target } : {}),
    ...(options.data !== undefined ? { data: options.data } : {}),
  })
  const imported = record.imported!
  if (options.json) {
    const out = {
      run_id: record.run_id,
      model_id: record.model_id,
      kind: record.model_type,
      task: record.task,
      model_location: record.model_location,
      record: recordFile,
      imported,
      features: record.data.features,
      target: record.data.target,
      scores: Object.fromEntries(Object.entries(record.scores).map(([metric, splits]) => [metric, splits.hold_out])),
      hold_out: record.evaluation.hold_out ? { ...imported.hold_out, rows: record.evaluation.hold_out.rows } : null,
      warnings: record.warnings ?? [],
      ...(unscored ? { unscored } : {}),
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    return
  }
  const lines = [
    `imported ${imported.file} as model ${record.model_id}: ${record.description}`,
    `  made by ${imported.tool} ${imported.tool_version}; signature from ${imported.signature === 'file' ? 'the file' : imported.signature === 'data' ? 'the file and the columns of --data' : 'the project\'s data set'}`,
    `  features: ${record.data.features.join(', ')} → ${record.data.target}`,
    `  model: ${record.model_location}; record: ${recordFile}`,
  ]
  const holdOut = imported.hold_out
  if (holdOut && record.evaluation.hold_out) {
    const dropped = Object.entries(holdOut.dropped).map(([why, n]) => `${n} ${why.replace(/_/g, ' ')}`)
    lines.push(`  hold-out: ${holdOut.path} (${holdOut.from === 'project' ? 'the project\'s test split' : '--data'}), ${record.evaluation.hold_out.rows} rows${dropped.length > 0 ? `, dropped ${dropped.join(', ')}` : ''}`)
    lines.push(`  scores: ${Object.entries(record.scores).map(([metric, splits]) => `${metric} ${formatScore(splits.hold_out)}`).join(', ')}`)
  } else {
    lines.push(`  scores: none: ${unscored ?? 'no data to score it on'}`)
  }
  for (const warning of record.warnings ?? []) lines.push(`  warning: ${warning}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

/** The options as they were given, for the record's command line. */
function optionArgs(options: ImportCommandOptions): string[] {
  const out: string[] = []
  for (const key of ['name', 'task', 'target', 'data'] as const) if (options[key] !== undefined) out.push(`--${key}`, options[key])
  if (options.json) out.push('--json')
  return out
}
