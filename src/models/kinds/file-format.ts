// Which kind reads a model file made elsewhere, told by its content (a name's extension says nothing reliable: XGBoost
// writes JSON and UBJSON under any name, ONNX files come as .onnx, .pb or .bin): XGBoost's JSON, or an ONNX
// ModelProto. What is neither gets a reason naming what it looks like, for `mlskel models import` to refuse it with.
import { decodeModel } from '../onnx/proto.js'
import { XGBOOST } from './xgboost.js'
import { ONNX } from './onnx.js'

export type ModelFileFormat = typeof XGBOOST | typeof ONNX

/** How far into a file the signs of a format are looked for. */
const HEAD_BYTES = 256

/**
 * The kind that reads `bytes`: `xgboost` for JSON holding XGBoost's `learner`, `onnx` for a protobuf ModelProto with a
 * graph; otherwise `{ format: null, why }`, saying what the file looks like and how to get a file mlskel reads.
 */
export function modelFileFormat(bytes: Uint8Array): { format: ModelFileFormat } | { format: null; why: string; fix?: string } {
  if (bytes.length === 0) return { format: null, why: 'the file is empty' }
  let start = 0
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3 // a UTF-8 byte order mark
  while (start < bytes.length && (bytes[start] === 0x20 || bytes[start] === 0x0a || bytes[start] === 0x0d || bytes[start] === 0x09)) start++
  const head = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.min(HEAD_BYTES, bytes.length - start)).toString('latin1')
  const xgboostFix = 'Load the model in XGBoost and save it as JSON: `booster.save_model("model.json")` (the .json name chooses the format).'
  if (head.startsWith('{')) {
    // UBJSON (XGBoost 2's default .ubj): an object whose keys are length-prefixed, `{L\0…\x07learner`
    if (/^\{[iUIlL#$]/.test(head) && head.includes('learner')) return { format: null, why: 'it is an XGBoost model in UBJSON (the .ubj format), which mlskel does not read', fix: xgboostFix }
    if (!head.includes('"learner"') && !textIncludes(bytes, '"learner"')) return { format: null, why: 'it is JSON, but not an XGBoost model (it has no "learner" object)', fix: xgboostFix }
    return { format: XGBOOST }
  }
  if (head.startsWith('binf')) return { format: null, why: 'it is an XGBoost model in its old binary format', fix: xgboostFix }
  if (bytes[0] === 0x80 && bytes[1] !== undefined && bytes[1] >= 2 && bytes[1] <= 5) {
    return { format: null, why: 'it is a Python pickle (pickle or joblib), which mlskel never loads: a pickle runs code', fix: 'Save the model in a format of data: XGBoost as JSON (`save_model("model.json")`), anything else as ONNX (skl2onnx, torch.onnx.export).' }
  }
  if (head.startsWith('PK\u0003\u0004')) return { format: null, why: 'it is a zip archive (a PyTorch .pt checkpoint, a Keras or scikit-learn archive?)', fix: 'Export the model to ONNX (torch.onnx.export, tf2onnx, skl2onnx) and import the .onnx file.' }
  try {
    decodeModel(bytes)
    return { format: ONNX }
  } catch {
    return { format: null, why: 'it is neither XGBoost\'s JSON nor an ONNX model (a protobuf ModelProto with a graph)' }
  }
}

/** Whether the text of `bytes` includes `needle` (a large JSON model's learner may come after its first bytes). */
function textIncludes(bytes: Uint8Array, needle: string): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(needle, 0, 'latin1')
}
