// Importing models trained elsewhere (`mlskel models import`): the file's kind by its content, its signature, hold-out
// scores computed by mlskel, and the model folder and record, written as a training writes them.
export { importModel, type ImportOptions, type ImportResult } from './import.js'
