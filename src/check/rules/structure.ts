// Rule 1, structure: the layout is the contract. The folders `mlskel new` creates exist, and so do the two files
// every project must have, src/model/train.ts and src/model/predict.ts. Data and model folders are taken from the
// project's settings (DATA_RAW, MODEL_DIR, ...), so a project that moved them is judged where they are.
import { stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { Finding, Rule } from '../types.js'

/** Layout folders that are not settings; the data and model folders come from ctx.paths. */
export const LAYOUT_FOLDERS = ['notebooks', 'reports', 'src/etl', 'src/helpers', 'src/model', 'tests']
export const REQUIRED_FILES = ['src/model/train.ts', 'src/model/predict.ts']

export const structureRule: Rule = {
  id: 'structure',
  title: 'project layout',
  async run(ctx) {
    const { raw, staging, transformed, predictions, models, metadata } = ctx.paths
    const folders = [...new Set([...[raw, staging, transformed, predictions, models, metadata].map((p) => projectRelative(ctx.root, p)), ...LAYOUT_FOLDERS])]
    const [folderKinds, fileKinds] = await Promise.all([Promise.all(folders.map((f) => kindOf(join(ctx.root, f)))), Promise.all(REQUIRED_FILES.map((f) => kindOf(join(ctx.root, f))))])
    const findings: Finding[] = []
    folders.forEach((folder, i) => {
      if (folderKinds[i] === 'dir') return
      findings.push({
        level: 'error',
        code: 'MLSKEL_CHECK_STRUCTURE_MISSING',
        file: folder,
        message: folderKinds[i] === 'missing' ? `folder ${folder}/ is missing` : `${folder} should be a folder, but is a file`,
      })
    })
    REQUIRED_FILES.forEach((file, i) => {
      if (fileKinds[i] === 'file') return
      findings.push({
        level: 'error',
        code: 'MLSKEL_CHECK_STRUCTURE_MISSING',
        file,
        message: fileKinds[i] === 'missing' ? `${file} is missing: every project trains and predicts through it` : `${file} should be a file`,
      })
    })
    return { findings, summary: `${folders.length} folders, ${REQUIRED_FILES.length} required files` }
  },
}

type Kind = 'file' | 'dir' | 'missing' | 'other'

async function kindOf(path: string): Promise<Kind> {
  try {
    const info = await stat(path)
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other'
  } catch {
    return 'missing'
  }
}

/** A path under the project as it is shown: relative, with / separators (an outside path stays absolute). */
export function projectRelative(root: string, path: string): string {
  const rel = relative(root, path)
  return rel.startsWith('..') ? path : rel.split(sep).join('/')
}
