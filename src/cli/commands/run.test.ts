// `mlskel run` from the outside: the CLI as a process, on fixture projects.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { mlskel } from '../test-cli.js'
import { splitPassthrough } from './run.js'


const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function project(stages: string): string {
  const root = mkdtempSync(join(tmpdir(), 'mlskel-cli-run-'))
  dirs.push(root)
  const files: Record<string, string> = {
    'mlskel.yaml': stages,
    'src/echo.mjs': `import { mkdirSync, writeFileSync } from 'node:fs'\nmkdirSync('out', { recursive: true })\nwriteFileSync('out/args.json', JSON.stringify(process.argv.slice(2)))\nconsole.log('echo ran')\n`,
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}


describe('splitPassthrough', () => {
  it('separates the stages from the arguments after --', () => {
    expect(splitPassthrough(['train', '--fast', 'x'], ['node', 'mlskel', 'run', 'train', '--', '--fast', 'x'])).toEqual({ stages: ['train'], args: ['--fast', 'x'] })
    expect(splitPassthrough(['train', 'predict'], ['node', 'mlskel', 'run', 'train', 'predict'])).toEqual({ stages: ['train', 'predict'], args: [] })
    expect(splitPassthrough(['--x'], ['node', 'mlskel', 'run', '--', '--x'])).toEqual({ stages: [], args: ['--x'] })
  })
})

describe.concurrent('mlskel run', () => {
  it('passes the arguments after -- to the named stage, and prints only JSON on stdout with --json', async () => {
    const root = project('stages:\n  echo:\n    cmd: node src/echo.mjs\n    deps: [src/echo.mjs]\n    outs: [out]\n')
    const result = await mlskel(root, ['run', 'echo', '--json', '--', '--input', 'data/raw/new file.csv'])
    expect(result.code).toBe(0)
    expect(JSON.parse(readFileSync(join(root, 'out/args.json'), 'utf8'))).toEqual(['--input', 'data/raw/new file.csv'])
    const summary = JSON.parse(result.stdout) as { ok: boolean; stages: unknown[] }
    expect(summary).toEqual({ ok: true, stages: [{ name: 'echo', status: 'ran', reasons: ['never run'], duration_ms: expect.any(Number) }] })
    expect(result.stderr).toContain('echo ran')
    expect(result.stderr).toContain('[1/1] echo  running: never run')
  })

  it('exits non-zero naming the failed stage, and says so in the JSON summary', async () => {
    const root = project('stages:\n  ok:\n    cmd: node src/echo.mjs\n    outs: [out]\n  bad:\n    cmd: exit 3\n    deps: [out]\n')
    const plain = await mlskel(root, ['run'])
    expect(plain.code).toBe(1)
    expect(plain.stdout).toContain('[2/2] bad  failed after')
    expect(plain.stderr).toContain('error MLSKEL_STAGE_FAILED: mlskel.yaml:6 (stages.bad.cmd): stage "bad" failed with exit code 3')
    const json = await mlskel(root, ['run', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, stages: [{ name: 'ok', status: 'skipped' }, { name: 'bad', status: 'failed' }], error: { code: 'MLSKEL_STAGE_FAILED' } })
  })

  it('passes SIGTERM on to the running stage, records nothing and releases the run lock', async () => {
    // `&& true` keeps /bin/sh from replacing itself with node: the signal must reach the shell's children too
    const root = project(`stages:\n  slow:\n    cmd: node -e "require('fs').writeFileSync('started', ''); setTimeout(() => {}, 20000)" && true\n`)
    const result = await mlskel(root, ['run'], (child) => {
      const poll = setInterval(() => {
        if (existsSync(join(root, 'started'))) {
          clearInterval(poll)
          child.kill('SIGTERM')
        }
      }, 20)
    })
    // 143, not the stage's own exit 20 s later: the signal reached it
    expect(result.code).toBe(143)
    expect(result.stderr).toContain('error MLSKEL_STAGE_KILLED: mlskel received SIGTERM and stopped the run while stage "slow" ran')
    expect(existsSync(join(root, 'mlskel.lock'))).toBe(false)
    expect(existsSync(join(root, '.mlskel/run.lock'))).toBe(false)
  })
})
