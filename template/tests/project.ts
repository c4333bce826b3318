// Test fixture: a temporary project with the iris example to run the stages on, so tests never touch the real
// data, models or records.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MlskelError } from 'mlskel'

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The example data set the tests run on; keep it in data/raw even when the project uses other data. */
export const IRIS_CSV = join(PROJECT_ROOT, 'data', 'raw', 'iris.csv')

export interface TestProject {
  root: string
  /** Edit params.yaml's text: each [from, to] replaces the first `from`. */
  editParams(...edits: [string, string][]): void
  writeRaw(name: string, csv: string): void
  readRaw(name: string): string
  remove(): void
}

/**
 * The iris example's params.yaml, with a small model (20 boosting iterations) so training takes a fraction of a
 * second. Tests use it rather than the project's params.yaml, so they keep passing while you point the project at
 * your data.
 */
export const TEST_PARAMS = `dataset:
  raw: iris.csv
  target: species
  features: []
  invalid_rows: drop
task: classification
split:
  test_size: 0.2
  cv_folds: 5
  seed: 42
model:
  type: gradient_boosting
  max_iter: 20
`

/** For tests that need a trained model but not its cross-validation scores: 2 folds, so train fits 3 models, not 6. */
export const FEWEST_FOLDS: [string, string] = ['cv_folds: 5', 'cv_folds: 2']

/**
 * A temporary project: this project's mlskel.yaml, the iris CSV and TEST_PARAMS. Given `from`, a copy of that test
 * project as it is now (params.yaml, raw and generated data, models, records): a test that starts from a generated
 * data set copies one rather than running generate-dataset again.
 */
export function copyProject(from?: TestProject): TestProject {
  const root = mkdtempSync(join(tmpdir(), 'mlskel-project-test-'))
  if (from) {
    cpSync(from.root, root, { recursive: true })
  } else {
    cpSync(join(PROJECT_ROOT, 'mlskel.yaml'), join(root, 'mlskel.yaml'))
    mkdirSync(join(root, 'data', 'raw'), { recursive: true })
    writeFileSync(join(root, 'data', 'raw', 'iris.csv'), readFileSync(IRIS_CSV))
    writeFileSync(join(root, 'params.yaml'), TEST_PARAMS)
  }
  const params = join(root, 'params.yaml')
  return {
    root,
    editParams(...edits) {
      let text = readFileSync(params, 'utf8')
      for (const [from, to] of edits) {
        if (!text.includes(from)) throw new Error(`params.yaml has no ${JSON.stringify(from)}`)
        text = text.replace(from, to)
      }
      writeFileSync(params, text)
    },
    writeRaw: (name, csv) => writeFileSync(join(root, 'data', 'raw', name), csv),
    readRaw: (name) => readFileSync(join(root, 'data', 'raw', name), 'utf8'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
}

/** The iris CSV with `extra` lines appended (each a full row). */
export function irisWith(project: TestProject, ...extra: string[]): string {
  return `${project.readRaw('iris.csv').trimEnd()}\n${extra.join('\n')}\n`
}

/** A table of every type: numbers (with gaps), whole numbers, booleans, categories (one rare), dates, identifiers. */
export function mixedCsv(rows: number, delimiter = ',', decimal = '.'): string {
  const lines = [['id', 'age', 'visits', 'member', 'plan', 'signup', 'churn'].join(delimiter)]
  for (let i = 0; i < rows; i++) {
    const age = i % 7 === 0 ? '' : `${20 + (i % 50)}${decimal}5`
    const plan = i === 3 ? 'platinum' : ['basic', 'pro', 'team'][i % 3]!
    const signup = `2023-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`
    lines.push([`cust-${1000 + i}`, age, String(i % 9), i % 2 ? 'yes' : 'no', plan, signup, i % 3 === 1 ? 'left' : 'stayed'].join(delimiter))
  }
  return `${lines.join('\n')}\n`
}

/** Point the test project at a customers table (mixedCsv, or `csv`), its target churn; `edits` to params.yaml after. */
export function useCustomers(project: TestProject, csv: string, ...edits: [string, string][]): void {
  project.writeRaw('customers.csv', csv)
  project.editParams(['raw: iris.csv', 'raw: customers.csv'], ['target: species', 'target: churn'], ...edits)
}

/** The error a call fails with; fails the test when the call succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<MlskelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!error) throw new Error('expected the call to fail')
  return error as MlskelError
}
