// The secrets rule on temp git repositories. Every fake secret is assembled at run time, so that this file holds
// nothing a secret scanner (GitHub's push protection, or this very rule run over mlskel) would take for one.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { makeContext } from '../test-context.js'
import type { Finding } from '../types.js'
import { ALLOW_SECRET_COMMENT, findSecrets, MAX_SCAN_BYTES, secretsRule } from './secrets.js'

const roots: string[] = []
afterEach(async () => {
  await Promise.all(roots.splice(0).map((root) => rm(root, { recursive: true, force: true })))
})

/** Random-looking characters from a fixed seed: [A-Za-z0-9], mixed case and digits. */
function noise(length: number, seed = 7): string {
  const chars = 'aZ3kQ9mXp2LrT8vB5nW1cY7dF4gH6jK0sE'
  let out = ''
  for (let i = 0; i < length; i++) out += chars[(i * seed + i * i) % chars.length]
  return out
}

/** One fake of each kind, with the kind the rule must name. */
const FAKES = {
  privateKey: { kind: 'a private key', text: ['-----BEGIN', 'RSA PRIVATE KEY-----'].join(' ') + '\n' + 'MIIE' + noise(60) + '\n' + noise(64) + '\n-----END RSA PRIVATE KEY-----' },
  aws: { kind: 'an AWS access key id', text: 'AKIA' + 'QX7R2M4ZP9TB3K8W' },
  awsSession: { kind: 'an AWS access key id', text: 'AS' + 'IA' + 'X'.repeat(16) },
  github: { kind: 'a GitHub token', text: 'gh' + 'p_' + noise(36) },
  githubPat: { kind: 'a GitHub fine-grained token', text: 'github' + '_pat_' + noise(22) + '_' + noise(59) },
  gitlab: { kind: 'a GitLab token', text: 'gl' + 'pat-' + noise(20) },
  slack: { kind: 'a Slack token', text: 'xo' + 'xb-' + '17653672481-19874698323-' + noise(24) },
  stripe: { kind: 'a Stripe live key', text: 'sk' + '_live_' + noise(24) },
  google: { kind: 'a Google API key', text: 'AI' + 'za' + noise(35) },
  npm: { kind: 'an npm token', text: 'np' + 'm_' + noise(36) },
  openai: { kind: 'an OpenAI API key', text: 's' + 'k-proj-' + noise(48) + '_' + noise(20) },
  openaiLegacy: { kind: 'an OpenAI API key', text: 's' + 'k-' + noise(48) },
  anthropic: { kind: 'an Anthropic API key', text: 's' + 'k-ant-api03-' + noise(80) + '-' + noise(12) },
} as const

const JWT = ['ey' + 'JhbGciOiJIUzI1NiJ9', 'ey' + 'JzdWIiOiIxMjM0NTY3ODkwIn0', 'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'].join('.')

async function repo(files: Record<string, string | Buffer>, options: { ignore?: string; untracked?: Record<string, string> } = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mlskel-secrets-'))
  roots.push(root)
  git(root, 'init', '-q')
  await put(root, { '.gitignore': options.ignore ?? 'node_modules/\n.env\n', ...files })
  git(root, 'add', '-A')
  git(root, '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'x')
  await put(root, options.untracked ?? {})
  return root
}

async function put(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [path, data] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), data)
  }
}

function git(root: string, ...args: string[]): void {
  execFileSync('git', args, { cwd: root, stdio: 'ignore' })
}

/** No message, fix or summary shows a secret, nor any 8 characters of one. */
function expectNoSecretShown(outcome: { findings: Finding[]; summary?: string }, secrets: string[]): void {
  const shown = [outcome.summary ?? '', ...outcome.findings.flatMap((f) => [f.message, f.fix ?? '', f.file ?? ''])].join('\n')
  for (const secret of secrets) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      const part = secret.slice(i, i + 8)
      if (/^[A-Za-z0-9_-]+$/.test(part) && /[0-9]/.test(part)) expect(shown).not.toContain(part)
    }
  }
}

describe('the secrets rule', () => {
  it('passes a repository with .env ignored and no secrets', async () => {
    const root = await repo({ 'src/index.ts': 'export const token = process.env.API_TOKEN\n', 'README.md': '# demo\n', '.env.example': 'API_TOKEN=\n' }, { untracked: { '.env': `API_TOKEN=${FAKES.github.text}\n` } })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome).toEqual({ findings: [], summary: '4 tracked files scanned, .env ignored' })
  })

  it('reports .env that git does not ignore, even before it exists', async () => {
    const root = await repo({ 'src/index.ts': 'export {}\n' }, { ignore: 'node_modules/\n' })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings).toEqual([{ level: 'error', code: 'MLSKEL_CHECK_ENV_EXPOSED', file: '.env', message: '.env is not ignored by git: a `git add .` would commit the secrets it holds', fix: 'Add a line `.env` to .gitignore and commit it.' }])
    expect(outcome.summary).toBe('2 tracked files scanned, .env exposed')
  })

  it('reports a tracked .env, even when .gitignore lists it now', async () => {
    const root = await repo({ '.env': 'LOG_LEVEL=info\n' }, { ignore: 'node_modules/\n' })
    await writeFile(join(root, '.gitignore'), '.env\n')

    const [finding] = (await secretsRule.run(makeContext(root))).findings

    expect(finding).toEqual({
      level: 'error',
      code: 'MLSKEL_CHECK_ENV_EXPOSED',
      file: '.env',
      message: '.env is tracked by git: every secret it holds is in the repository and its history',
      fix: 'Run `git rm --cached .env` and commit; then rotate every secret .env held.',
    })
  })

  it('says a tracked .env that is not ignored must be both removed and ignored', async () => {
    const root = await repo({ '.env': 'LOG_LEVEL=info\n' }, { ignore: '' })

    const [finding] = (await secretsRule.run(makeContext(root))).findings

    expect(finding!.message).toBe('.env is tracked by git and not ignored: every secret it holds is in the repository and its history')
    expect(finding!.fix).toBe('Run `git rm --cached .env`, add `.env` to .gitignore and commit; then rotate every secret .env held.')
  })

  it.each(Object.entries(FAKES))('finds %s in a tracked file, with its line and kind but not its value', async (_name, fake) => {
    const root = await repo({ 'src/config.ts': `// settings\nexport const a = 1\nexport const key = "${fake.text}"\n` })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings).toEqual([
      {
        level: 'error',
        code: 'MLSKEL_CHECK_SECRET_FOUND',
        file: 'src/config.ts',
        line: 3,
        message: `holds what looks like ${fake.kind} (value not shown)`,
        fix: `Remove it from the file, rotate it (it is in git history), and read it from .env or the environment instead. If it is a test fixture or an example and not a real secret, add the comment \`${ALLOW_SECRET_COMMENT}\` on its line.`,
      },
    ])
    expectNoSecretShown(outcome, [fake.text])
  })

  it('reports every secret of a file at its own line, and each line and kind once', async () => {
    const text = ['# notes', `aws = ${FAKES.aws.text} ${FAKES.aws.text}`, '', `gh = ${FAKES.github.text}; npm = ${FAKES.npm.text}`, FAKES.privateKey.text, `done ${FAKES.stripe.text}`].join('\n')
    const root = await repo({ 'notes/keys.txt': text })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings.map((f) => [f.file, f.line, f.message])).toEqual([
      ['notes/keys.txt', 2, 'holds what looks like an AWS access key id (value not shown)'],
      ['notes/keys.txt', 4, 'holds what looks like a GitHub token (value not shown)'],
      ['notes/keys.txt', 4, 'holds what looks like an npm token (value not shown)'],
      ['notes/keys.txt', 5, 'holds what looks like a private key (value not shown)'],
      ['notes/keys.txt', 9, 'holds what looks like a Stripe live key (value not shown)'],
    ])
    expectNoSecretShown(outcome, Object.values(FAKES).map((f) => f.text))
  })

  it('finds an AWS secret access key, a password literal, credentials in a URL and a token in a tracked .env.example', async () => {
    const awsSecret = noise(20) + '/' + noise(19, 11)
    const pw = 'Tr0ub4dor' + '&3x'
    const files = {
      'config/aws.ini': `[default]\naws_secret_access_key = ${awsSecret}\n`,
      'src/db.ts': `const db = { user: 'app', password: "${pw}" }\n`,
      'docker/compose.yml': `DATABASE_URL: postgres${'://'}app:${pw.replace('&', '')}@db.internal:5432/app\n`,
      '.env.example': `API_TOKEN=${noise(32, 5)}\nLOG_LEVEL=warn\n`,
    }
    const root = await repo(files)

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings.map((f) => [f.file, f.line, f.message]).sort()).toEqual([
      ['.env.example', 1, 'holds what looks like a token in an environment assignment (value not shown)'],
      ['config/aws.ini', 2, 'holds what looks like an AWS secret access key (value not shown)'],
      ['docker/compose.yml', 1, 'holds what looks like a password in a URL (value not shown)'],
      ['src/db.ts', 1, 'holds what looks like a password literal (value not shown)'],
    ])
    expectNoSecretShown(outcome, [awsSecret, pw])
  })

  it('does not take placeholders for secrets: documented examples, ${VARIABLES}, <password>, empty tokens', () => {
    const text = [
      'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY',
      'url = "postgres://user:${DB_PASSWORD}@host/db"',
      'url2 = postgres://user:<password>@host/db',
      'password: "changeme"',
      "const password = 'your_password'",
      'API_TOKEN=',
      'API_TOKEN=replace-with-your-token',
      'GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}',
      '"minipass": "^7.1.3"',
      "remote = 'https://alice:s3cret-token@git.example.com/team/model.git'",
    ].join('\n')
    expect(findSecrets(text)).toEqual([])
  })

  it('finds a private key inside a JSON string (a cloud service account file)', async () => {
    const pem = FAKES.privateKey.text.replaceAll('\n', '\\n')
    const root = await repo({ 'service-account.json': `{\n  "type": "service_account",\n  "private_key": "${pem}"\n}\n` })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'error', file: 'service-account.json', line: 3, message: 'holds what looks like a private key (value not shown)' })])
  })

  it('reports a JSON Web Token as a warning only', async () => {
    const root = await repo({ 'tests/auth.test.ts': `const token = '${JWT}'\n` })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings).toEqual([expect.objectContaining({ level: 'warning', code: 'MLSKEL_CHECK_SECRET_FOUND', file: 'tests/auth.test.ts', line: 1, message: 'holds what looks like a JSON Web Token (value not shown); a live token grants access until it expires' })])
    expectNoSecretShown(outcome, [JWT])
  })

  it('skips a line that carries the allow-secret comment', async () => {
    const root = await repo({
      'tests/fixtures.ts': [`export const fake = '${FAKES.aws.text}' // ${ALLOW_SECRET_COMMENT}`, `# ${ALLOW_SECRET_COMMENT}`, `export const real = '${FAKES.aws.text}'`].join('\n'),
    })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings.map((f) => [f.file, f.line])).toEqual([['tests/fixtures.ts', 3]])
  })

  it('does not take look-alikes for secrets', async () => {
    const lookAlikes = [
      `const marker = '${['-----BEGIN', 'PRIVATE KEY-----'].join(' ')}'`,
      `if (pem.startsWith("${['-----BEGIN', 'RSA PRIVATE KEY-----'].join(' ')}\\n")) parse(pem)`,
      `aws_access_key_id = ${'AKIA' + 'IOSFODNN7' + 'EXAMPLE'}`,
      `slack: ${'xo' + 'xb-your-bot-token-here'}`,
      `model: ${'s' + 'k-learn-compatible-random-forest-classifier-wrapper'}`,
      `const id = 'XAKIA${'Q'.repeat(16)}'`,
      `ghp_short_${noise(10)}`,
      `npm_${noise(35)}`,
      'export const apiKey = process.env.OPENAI_API_KEY',
    ]
    const root = await repo({ 'src/parse.ts': lookAlikes.join('\n') })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome.findings).toEqual([])
  })

  it('scans tracked files only: untracked, binary and large files are left alone', async () => {
    const big = `${FAKES.aws.text}\n`.padEnd(MAX_SCAN_BYTES + 1, 'x')
    const binary = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]), Buffer.from(FAKES.aws.text)])
    const root = await repo({ 'big.txt': big, 'image.png': binary, 'ok.ts': 'export {}\n' }, { untracked: { 'scratch.ts': FAKES.aws.text, 'node_modules/x/index.js': FAKES.aws.text } })

    const outcome = await secretsRule.run(makeContext(root))

    expect(outcome).toEqual({ findings: [], summary: '2 tracked files scanned (2 skipped: binary, over 1 MB or not a regular file), .env ignored' })
  })

  it('skips tracked files deleted from the working tree', async () => {
    const root = await repo({ 'gone.ts': 'export {}\n', 'here.ts': 'export {}\n' })
    await rm(join(root, 'gone.ts'))

    expect((await secretsRule.run(makeContext(root))).summary).toBe('2 tracked files scanned, .env ignored')
  })

  it('warns outside git and scans the files on disk, without dependencies, data or models', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlskel-secrets-'))
    roots.push(root)
    await put(root, {
      'src/config.ts': `export const key = '${FAKES.google.text}'\n`,
      'node_modules/pkg/index.js': FAKES.google.text,
      'src/node_modules/pkg/index.js': FAKES.google.text,
      'data/raw/rows.csv': FAKES.google.text,
      'models/m1/model.json': FAKES.google.text,
      'coverage/lcov.info': FAKES.google.text,
      '.mlskel/cache/x.json': FAKES.google.text,
      'src/data/ok.ts': 'export {}\n',
      'input/raw/rows.csv': FAKES.google.text,
    })

    const outcome = await secretsRule.run(makeContext(root, { settings: { DATA_RAW: 'input/raw' } }))

    expect(outcome.findings).toEqual([
      expect.objectContaining({ level: 'warning', code: 'MLSKEL_CHECK_ENV_EXPOSED', file: '.env', message: expect.stringContaining('not a git work tree') }),
      expect.objectContaining({ level: 'error', code: 'MLSKEL_CHECK_SECRET_FOUND', file: 'src/config.ts', line: 1 }),
    ])
    expect(outcome.summary).toBe('2 on-disk files scanned, not a git work tree')
  })

  it('scans 2,000 small tracked files, batch after batch, and finds the one secret among them', async () => {
    // how fast: bench/check.ts times this rule on a project of 10,000 files (here, writing them cost ~4 s of CPU)
    const root = await repo({ 'README.md': '# big\n' })
    const files: string[] = []
    for (let d = 0; d < 20; d++) {
      await mkdir(join(root, `src/m${d}`), { recursive: true })
      for (let i = 0; i < 100; i++) {
        const file = `src/m${d}/f${i}.ts`
        files.push(file)
        await writeFile(join(root, file), `// module ${i}\n${'export const value = process.env.VALUE ?? "default-value"\n'.repeat(20)}`)
      }
    }
    await writeFile(join(root, 'src/m7/f7.ts'), `export const k = '${FAKES.aws.text}'\n`)
    // git add of 2,000 files takes longer than the scan; the list is what `git ls-files` would give
    const ctx = makeContext(root, { trackedFiles: () => Promise.resolve(files.sort()) })

    const outcome = await secretsRule.run(ctx)

    expect(outcome.findings.map((f) => [f.file, f.line])).toEqual([['src/m7/f7.ts', 1]])
    expect(outcome.summary).toBe('2000 tracked files scanned, .env ignored')
  })
})

describe('findSecrets', () => {
  it('counts lines across CRLF text and many hits', () => {
    const text = ['a', FAKES.npm.text, 'b', 'c', FAKES.gitlab.text].join('\r\n')

    expect(findSecrets(text).map((hit) => [hit.line, hit.pattern.id])).toEqual([
      [2, 'npm'],
      [5, 'gitlab'],
    ])
  })

  it('finds a PGP private key block with its headers', () => {
    const block = ['-----BEGIN', 'PGP PRIVATE KEY BLOCK-----'].join(' ') + '\nVersion: GnuPG v2\n\nlQOYBF' + noise(58) + '\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----'

    expect(findSecrets(`x\n${block}`).map((hit) => [hit.line, hit.pattern.kind])).toEqual([[2, 'a private key']])
  })
})
