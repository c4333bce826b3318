import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { MlskelError, closest, errorCatalog, formatError } from './index.js'

describe('the error registry', () => {
  it('documents every code in docs/errors.md, and documents no code that does not exist', () => {
    const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    const documented = [...docs.matchAll(/^## (MLSKEL_[A-Z_]+)$/gm)].map((m) => m[1])
    expect(documented.sort()).toEqual(Object.keys(errorCatalog).sort())
  })

  it('gives every code a fix hint that docs/errors.md repeats', () => {
    const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    for (const [code, fix] of Object.entries(errorCatalog)) {
      const section = docs.split(`## ${code}\n`)[1]!.split('\n## ')[0]!
      expect(section, code).toContain(`**Fix:** ${fix}`)
    }
  })
})

describe('formatError', () => {
  it('prints a known error with its code, place and fix, and no stack', () => {
    const error = new MlskelError('MLSKEL_PARAMS_INVALID', 'unknown key "seeed"', { where: { file: 'params.yaml', line: 7, field: 'split.seeed' } })
    const text = formatError(error)
    expect(text).toBe(`error MLSKEL_PARAMS_INVALID: params.yaml:7 (split.seeed): unknown key "seeed"\n  fix: ${errorCatalog.MLSKEL_PARAMS_INVALID}`)
    expect(text).not.toMatch(/\n\s+at /)
  })

  it('adds the stack of a known error only when verbose', () => {
    const error = new MlskelError('MLSKEL_USAGE', 'bad')
    expect(formatError(error, { verbose: true })).toContain('src/errors/index.test.ts')
  })

  it('prints an unknown error with its stack and how to report it', () => {
    const text = formatError(new TypeError('boom'))
    expect(text).toContain('TypeError: boom')
    expect(text).toContain('report it')
  })

  it('lets a call site give its own fix hint', () => {
    expect(new MlskelError('MLSKEL_USAGE', 'x', { fix: 'do y' }).fix).toBe('do y')
  })
})

describe('closest', () => {
  it('suggests a near name and nothing for a far one', () => {
    expect(closest('trian', ['generate-dataset', 'train', 'predict'])).toBe('train')
    expect(closest('deploy', ['generate-dataset', 'train', 'predict'])).toBeUndefined()
  })
})
