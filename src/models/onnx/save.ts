// `mlskel models export`'s library side: a saved model of the project, exported to an ONNX file, written atomically.
import { join, resolve } from 'node:path'
import { writeFileAtomic } from '../../fs/index.js'
import { hashBytes } from '../../hashing/index.js'
import { loadSavedModel } from '../contract/store.js'
import { exportOnnx, type OnnxInputType } from './export.js'

/** The file an export writes by default, in the model's own folder. */
export const ONNX_FILE = 'model.onnx'

export interface ExportModelOptions {
  /** The project's models folder. */
  modelsDir: string
  /** A model id, or a unique prefix of one. */
  id: string
  /** Where to write (default <modelsDir>/<id>/model.onnx). */
  out?: string
  inputType?: OnnxInputType
}

export interface ExportedModel {
  id: string
  kind: string
  format: 'onnx'
  inputType: OnnxInputType
  path: string
  bytes: number
  sha256: string
}

/**
 * Export a saved random_forest or gradient_boosting model to ONNX (exportOnnx) and write the file atomically (a
 * temporary file renamed into place: an interrupted export leaves no half-written file).
 */
export async function exportSavedModel(o: ExportModelOptions): Promise<ExportedModel> {
  const { manifest, predictor, dir } = await loadSavedModel(o.modelsDir, o.id)
  const inputType = o.inputType ?? 'double'
  const bytes = exportOnnx(predictor, { modelId: manifest.id, inputType })
  const path = o.out === undefined ? join(dir, ONNX_FILE) : resolve(o.out)
  await writeFileAtomic(path, bytes)
  return { id: manifest.id, kind: manifest.kind, format: 'onnx', inputType, path, bytes: bytes.length, sha256: hashBytes(bytes) }
}
