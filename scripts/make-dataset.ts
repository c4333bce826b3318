// A synthetic CSV for trying a project on bigger data than iris: a seeded, reproducible mix of signal and noise.
//
//   tsx scripts/make-dataset.ts --task classification|regression --rows 5000 --cols 30 --seed 1 --out data.csv
//
// Features x01..xM are standard normals, a few of them correlated; about a third carry signal. Classification:
// three labels ("low", "mid", "high") cut from a noisy linear-plus-interaction score at its terciles.
// Regression: the score itself (`target`), with noise. --dirty F spoils a fraction F of the rows (empty target,
// text in a feature, exact duplicates) to exercise a project's ETL.
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    task: { type: 'string', default: 'classification' },
    rows: { type: 'string', default: '5000' },
    cols: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    dirty: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
  strict: true,
})

const task = values.task
if (task !== 'classification' && task !== 'regression') throw new Error(`--task must be classification or regression, got ${task}`)
const rows = positiveInt('rows', values.rows)
const cols = positiveInt('cols', values.cols)
const seed = positiveInt('seed', values.seed, 0)
const dirty = Number(values.dirty)
if (!(dirty >= 0 && dirty < 1)) throw new Error(`--dirty must be a fraction in [0, 1), got ${values.dirty}`)
if (!values.out) throw new Error('--out <file.csv> is required')

// mulberry32: a small, well-mixed 32-bit PRNG; the same seed gives the same file everywhere.
let state = seed >>> 0
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
function normal(): number {
  const u = 1 - random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

const names = Array.from({ length: cols }, (_, i) => `x${String(i + 1).padStart(2, '0')}`)
const informative = Math.max(2, Math.ceil(cols / 3))
const weights = names.map((_, i) => (i < informative ? (random() < 0.5 ? -1 : 1) * (0.5 + random()) : 0))

const X: number[][] = []
const scores: number[] = []
for (let r = 0; r < rows; r++) {
  const x = names.map(() => normal())
  // every fifth noise column echoes an informative one: realistic collinearity
  for (let i = informative; i < cols; i += 5) x[i] = 0.7 * x[i % informative]! + 0.3 * x[i]!
  const linear = x.reduce((sum, v, i) => sum + v * weights[i]!, 0)
  scores.push(linear + 1.5 * Math.sin(x[0]!) + 0.8 * x[0]! * x[1]! + normal() * 0.5 * Math.sqrt(informative))
  X.push(x)
}

const sorted = [...scores].sort((a, b) => a - b)
const [low, high] = [sorted[Math.floor(rows / 3)]!, sorted[Math.floor((2 * rows) / 3)]!]
const targets = scores.map((s) => (task === 'regression' ? s.toFixed(4) : s < low ? 'low' : s < high ? 'mid' : 'high'))
const targetName = task === 'regression' ? 'target' : 'label'

const lines = [[...names, targetName].join(',')]
for (let r = 0; r < rows; r++) {
  const cells = X[r]!.map((v) => v.toFixed(4))
  let target = targets[r]!
  if (dirty > 0 && random() < dirty) {
    const kind = random()
    if (kind < 0.3) target = ''
    else if (kind < 0.6) cells[Math.floor(random() * cols)] = 'n/a'
    else lines.push([...cells, target].join(','))
  }
  lines.push([...cells, target].join(','))
}
writeFileSync(values.out, `${lines.join('\n')}\n`)
console.log(`wrote ${values.out}: ${task}, ${rows} rows, ${cols} features (${informative} informative), seed ${seed}`)

function positiveInt(name: string, text: string, min = 1): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${text}`)
  return n
}
