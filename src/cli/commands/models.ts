// `mlskel models export`: find the project's models, ask the library to export one, say where it went.
import { relative } from 'node:path'
import { MlskelError } from '../../errors/index.js'
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
