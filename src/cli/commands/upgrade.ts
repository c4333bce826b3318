// `mlskel upgrade`: merge this mlskel's template into the project made from an older one (src/scaffold/upgrade.ts).
import { findProjectRoot } from '../../settings/index.js'
import { upgradeProject, type UpgradeAction } from '../../scaffold/index.js'

const SAYS: Record<UpgradeAction, string> = {
  added: 'added (new in the template)',
  updated: 'updated (you had not changed it)',
  merged: 'merged (your edits kept)',
  conflict: 'CONFLICT: both changed the same lines; resolve the <<<<<<< markers',
  'deleted-kept': 'left deleted (you deleted it; the template changed it)',
}

export default async function upgradeCommand(options: { dryRun?: boolean; json?: boolean }): Promise<void> {
  const result = await upgradeProject(findProjectRoot(), { dryRun: options.dryRun ?? false })
  const conflicts = result.changes.filter((c) => c.action === 'conflict')
  if (options.json) console.log(JSON.stringify(result, null, 2))
  else {
    const head = `${result.dryRun ? 'would upgrade' : 'upgraded'} the template from mlskel ${result.from} to ${result.to}`
    const lines = result.changes.map((c) => `  ${c.path}: ${SAYS[c.action]}${c.conflicts ? ` (${c.conflicts} region${c.conflicts === 1 ? '' : 's'})` : ''}`)
    console.log(result.changes.length === 0 ? `${head}: nothing to change` : `${head}:\n${lines.join('\n')}`)
    if (conflicts.length > 0) console.log(`\n${conflicts.length} file${conflicts.length === 1 ? '' : 's'} to resolve by hand, then commit.`)
    else if (!result.dryRun && result.changes.length > 0) console.log('\nReview with git diff, then commit.')
  }
  // like git merge: conflicts fail the command, so a script notices
  if (conflicts.length > 0 && !result.dryRun) process.exitCode = 1
}
