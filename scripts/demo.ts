// npm run demo: the main job end to end. Creates a project from the template in demo/iris (replacing an
// earlier demo), installs it, runs its pipeline, and prints the trained model's scores and where things are.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const repo = resolve(import.meta.dirname, '..')
const project = join(repo, 'demo', 'iris')
const cli = join(repo, 'dist', 'cli', 'index.js')

function step(title: string, command: string, args: string[], cwd: string): void {
  console.log(`\n▶ ${title}\n  $ ${[command, ...args].join(' ')}`)
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' })
  if (result.status !== 0) {
    console.error(`\n✗ ${title} failed (exit ${result.status ?? result.signal}); see the output above.`)
    process.exit(result.status ?? 1)
  }
}

rmSync(project, { recursive: true, force: true })
step('Create a project from the template (and install it)', process.execPath, [cli, 'new', relative(repo, project)], repo)
step('Run its pipeline: generate-dataset > train > predict', 'npm', ['run', 'pipeline'], project)

const metadataDir = join(project, 'models', 'metadata')
const newest = readdirSync(metadataDir).filter((f) => f.endsWith('.json')).sort().pop()
if (!newest) {
  console.error('✗ the pipeline ran but wrote no metadata record')
  process.exit(1)
}
const record = JSON.parse(readFileSync(join(metadataDir, newest), 'utf8')) as { model_id: string; model_location: string; scores: Record<string, Record<string, number>> }
const rows = Object.entries(record.scores).map(([metric, splits]) => `  ${metric.padEnd(22)} ${Object.entries(splits).map(([split, value]) => `${split} ${value.toFixed(4)}`).join('   ')}`)
const predictions = readdirSync(join(project, 'data', 'predictions')).filter((f) => f.endsWith('.csv'))
console.log(`
✓ Trained model ${record.model_id}

Scores:
${rows.join('\n')}

Where everything is:
  project         ${relative(process.cwd(), project)}/
  model           ${relative(process.cwd(), join(project, record.model_location))}/
  metadata        ${relative(process.cwd(), join(metadataDir, newest))}
  predictions     ${predictions.map((p) => relative(process.cwd(), join(project, 'data', 'predictions', p))).join(', ')}
  pipeline lock   ${relative(process.cwd(), join(project, 'mlskel.lock'))}

Next: cd ${relative(process.cwd(), project)} && npm run pipeline   (re-runs nothing: everything is up to date)
`)
