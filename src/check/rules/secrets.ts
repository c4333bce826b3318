// Rule 9, secrets: .env (which holds the project's secrets) is ignored by git and not tracked, and no tracked file
// holds a private key or a token of a well-known format. A finding names the file, the line and the kind of
// secret, never the secret nor any part of it: the report may be pasted into an issue or a CI log.
//
// Opt-out: a line that contains `mlskel-check: allow-secret` (in any comment syntax) is not reported, for test
// fixtures and documented examples that are not real secrets. For a private key, the comment goes on its BEGIN line.
//
// Patterns are known formats only, never a guess from entropy alone, so that a finding is worth reading: a private
// key counts only with key material after its BEGIN line (code and docs that mention the marker are not reported),
// and sk- keys only when mixing cases and digits (long kebab-case names start with sk- too).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { Finding, Level, Rule } from '../types.js'
import { runText } from '../../process/index.js'

export const ALLOW_SECRET_COMMENT = 'mlskel-check: allow-secret'
/** Files larger than this are not scanned (data and build output, not code); 10^6 bytes, as sizes are counted. */
export const MAX_SCAN_BYTES = 1_000_000
/** A NUL byte within this many first bytes marks a binary file, which is not scanned (git's own test). */
export const BINARY_SNIFF_BYTES = 8192
/** Outside git: folders never scanned, at any depth. */
export const SKIPPED_DIRS_ANYWHERE: ReadonlySet<string> = new Set(['node_modules', '.git'])
/** Outside git: top-level folders never scanned (state, data, models, coverage), with those the settings name. */
export const SKIPPED_DIRS_AT_ROOT: ReadonlySet<string> = new Set(['.mlskel', 'data', 'models', 'coverage'])
/** Files read between two yields to the event loop (see scanFiles). */
const BATCH = 256
/**
 * O_NOFOLLOW: git stores a symlink's target path, not the file it points to, which is not this rule's to read.
 * O_NONBLOCK: a FIFO where a tracked file was must not hang the check. (Both absent on Windows: 0.)
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

export interface SecretPattern {
  /** A name for the regex group: letters only. */
  id: string
  /** What it is, as the message says it: "an AWS access key id". */
  kind: string
  level: Level
  source: string
  /** A second look at a match, to drop documented examples and look-alikes. */
  accept?: (match: string) => boolean
}

// Token boundaries: a token is not part of a longer word, so identifiers that merely contain a prefix do not match.
const before = (chars: string) => `(?<![${chars}])`
const after = (chars: string) => `(?![${chars}])`
const WORD = 'A-Za-z0-9_'
const TOKEN = 'A-Za-z0-9_-'
/** A line break, also as written inside a JSON or code string (service account files hold keys that way). */
const BREAK = String.raw`(?:\r?\n|\\r\\n|\\n)`
/** Mixed letters and digits: random key material, not a long kebab-case name that happens to start with sk-. */
const looksRandom = (match: string) => /[A-Z]/.test(match) && /[a-z]/.test(match) && /[0-9]/.test(match)

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    id: 'privateKey',
    kind: 'a private key',
    level: 'error',
    // BEGIN line (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP ... BLOCK), optional headers (Proc-Type, Version), then key material
    source: String.raw`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----${BREAK}(?:[A-Za-z-]+:[^\r\n]{0,200}?${BREAK}){0,4}${BREAK}?[A-Za-z0-9+/=]{40}`,
  },
  {
    id: 'aws',
    kind: 'an AWS access key id',
    level: 'error',
    source: `${before('A-Za-z0-9')}(?:AKIA|ASIA)[A-Z0-9]{16}${after('A-Za-z0-9')}`,
    // AWS's documentation uses AKIAIOSFODNN7EXAMPLE
    accept: (match) => !match.endsWith('EXAMPLE'),
  },
  { id: 'github', kind: 'a GitHub token', level: 'error', source: `${before(WORD)}gh[pousr]_[A-Za-z0-9]{36,251}${after(WORD)}` },
  { id: 'githubPat', kind: 'a GitHub fine-grained token', level: 'error', source: `${before(WORD)}github_pat_[A-Za-z0-9_]{82,244}${after(WORD)}` },
  { id: 'gitlab', kind: 'a GitLab token', level: 'error', source: `${before(TOKEN)}glpat-[A-Za-z0-9_-]{20,}${after(TOKEN)}` },
  // the first part after xox?- is a team or user id (digits), which placeholders such as xoxb-your-token lack
  { id: 'slack', kind: 'a Slack token', level: 'error', source: `${before(TOKEN)}xox[baprs]-[0-9]{6,}-[A-Za-z0-9-]{8,}` },
  { id: 'stripe', kind: 'a Stripe live key', level: 'error', source: `${before(WORD)}[sr]k_live_[A-Za-z0-9]{24,}${after(WORD)}` },
  { id: 'google', kind: 'a Google API key', level: 'error', source: `${before(TOKEN)}AIza[0-9A-Za-z_-]{35}${after(TOKEN)}` },
  { id: 'npm', kind: 'an npm token', level: 'error', source: `${before(WORD)}npm_[A-Za-z0-9]{36}${after(WORD)}` },
  // before the OpenAI pattern, which would match these too: the first alternative that matches wins
  { id: 'anthropic', kind: 'an Anthropic API key', level: 'error', source: `${before(TOKEN)}sk-ant-[A-Za-z0-9_-]{32,}${after(TOKEN)}`, accept: looksRandom },
  { id: 'openai', kind: 'an OpenAI API key', level: 'error', source: `${before(TOKEN)}sk-[A-Za-z0-9_-]{40,}${after(TOKEN)}`, accept: looksRandom },
  { id: 'jwt', kind: 'a JSON Web Token', level: 'warning', source: `${before(TOKEN)}eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{16,}` },
  // The patterns below follow gitleaks' rules (aws-secret-access-key, generic password and URL credentials):
  // an AWS secret key is 40 base64 characters, told apart from other such strings by an "aws…secret" name before it
  {
    id: 'awsSecret',
    kind: 'an AWS secret access key',
    level: 'error',
    source: String.raw`[Aa][Ww][Ss][A-Za-z0-9_ .-]{0,20}?[Ss][Ee][Cc][Rr][Ee][Tt][A-Za-z0-9_ .-]{0,20}?["']?\s*[:=]\s*["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`,
    // AWS's documentation uses wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    accept: (match) => !match.endsWith('EXAMPLEKEY') && looksRandom(match.slice(-40)),
  },
  // credentials in a URL: scheme://user:password@host
  {
    id: 'urlCredentials',
    kind: 'a password in a URL',
    level: 'error',
    source: String.raw`\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'"]{1,64}:[^\s:/@'"]{3,128}@[A-Za-z0-9.-]+`,
    // documentation hosts (example.com, RFC 2606) and placeholder passwords are examples, not credentials
    accept: (match) => !/\.example(?:\.(?:com|org|net))?$|^example\./.test(match.slice(match.lastIndexOf('@') + 1)) && !placeholder(match.slice(match.indexOf(':', match.indexOf('://') + 3) + 1, match.lastIndexOf('@'))),
  },
  // a password or secret written as a string literal (a password = "…", PASSWORD: '…')
  { id: 'password', kind: 'a password literal', level: 'error', source: String.raw`(?<![A-Za-z0-9])(?:[Pp]ass(?:word|wd)?|PASS(?:WORD|WD)?|[Ss]ecret|SECRET)["']?\s*[:=]\s*["'][^"'\s]{6,128}["']`, accept: (match) => !placeholder(match.slice(match.search(/["'][^"']*["']$/) + 1, -1)) },
  // KEY=value lines (.env files and their examples): a token-like value under a name that says it is one
  {
    id: 'envSecret',
    kind: 'a token in an environment assignment',
    level: 'error',
    source: String.raw`(?<=^|\n)(?:export\s+)?[A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]*=["']?[A-Za-z0-9_./+=-]{16,}`,
    accept: (match) => looksRandom(match.slice(match.indexOf('=') + 1)),
  },
]

/** A value that stands for a secret rather than being one: `<password>`, `${DB_PASSWORD}`, `changeme`, `xxxxxx`. */
function placeholder(value: string): boolean {
  const v = value.toLowerCase()
  return /^[<{$%*x.]|[>}]$/.test(v) || /^(?:password|passwd|secret|token|changeme|change-me|example|placeholder|redacted|your[_-]?\w*|\*+|x+|\.+)$/.test(v) || v.includes('example')
}

/**
 * Each pattern as a regex of its own: one alternation of them all is several times slower in V8 (lookbehinds and
 * a shared first character defeat its prefilter), so a file is scanned once per pattern, which is cheap, and the
 * matches are merged as the alternation would have chosen them (leftmost first, then the first pattern listed).
 */
const COMPILED = SECRET_PATTERNS.map((pattern) => ({ pattern, regex: new RegExp(pattern.source, 'g') }))

export interface SecretHit {
  /** 1-based. */
  line: number
  pattern: SecretPattern
}

/** The secrets in `text`: one hit per line and kind, lines carrying ALLOW_SECRET_COMMENT left out. */
export function findSecrets(text: string): SecretHit[] {
  const matches: { start: number; end: number; order: number; pattern: SecretPattern }[] = []
  COMPILED.forEach(({ pattern, regex }, order) => {
    regex.lastIndex = 0
    for (let match = regex.exec(text); match; match = regex.exec(text)) {
      if (match[0] === '') regex.lastIndex++
      else if (!pattern.accept || pattern.accept(match[0])) matches.push({ start: match.index, end: match.index + match[0].length, order, pattern })
    }
  })
  matches.sort((a, b) => a.start - b.start || a.order - b.order)
  const hits: SecretHit[] = []
  const seen = new Set<string>()
  let line = 1
  let counted = 0
  let taken = -1
  for (const match of matches) {
    if (match.start < taken) continue // inside an earlier match, as one alternation would have skipped it
    taken = match.end
    line += countNewlines(text, counted, match.start)
    counted = match.start
    const key = `${line}:${match.pattern.id}`
    if (seen.has(key) || lineAt(text, match.start).includes(ALLOW_SECRET_COMMENT)) continue
    seen.add(key)
    hits.push({ line, pattern: match.pattern })
  }
  return hits
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++
  return n
}

function lineAt(text: string, index: number): string {
  const end = text.indexOf('\n', index)
  return text.slice(text.lastIndexOf('\n', index) + 1, end === -1 ? text.length : end)
}

export const secretsRule: Rule = {
  id: 'secrets',
  title: 'no secrets in git',
  async run(ctx) {
    const tracked = await ctx.trackedFiles()
    const findings: Finding[] = []
    let envNote: string
    let files: string[]
    if (tracked === undefined) {
      findings.push(notGitFinding())
      envNote = 'not a git work tree'
      const { raw, staging, transformed, predictions, models, state } = ctx.paths
      files = await filesOnDisk(ctx.root, new Set([raw, staging, transformed, predictions, models, state]))
    } else {
      const env = await envFinding(ctx.root, tracked)
      if (env) findings.push(env)
      envNote = !env ? '.env ignored' : env.level === 'error' ? '.env exposed' : '.env not checked'
      files = tracked
    }
    const scan = await scanFiles(ctx.root, files)
    findings.push(...scan.findings)
    const skipped = scan.skipped > 0 ? ` (${scan.skipped} skipped: binary, over 1 MB or not a regular file)` : ''
    return { findings, summary: `${scan.scanned} ${tracked ? 'tracked' : 'on-disk'} file${scan.scanned === 1 ? '' : 's'} scanned${skipped}, ${envNote}` }
  },
}

function notGitFinding(): Finding {
  return {
    level: 'warning',
    code: 'MLSKEL_CHECK_ENV_EXPOSED',
    file: '.env',
    message: 'not a git work tree: whether .env is ignored and which files are committed can only be checked in one; the files on disk were scanned instead',
    fix: 'Make the project a git repository (`git init`, with `.env` in .gitignore) and commit it, then check again.',
  }
}

/** .env must be ignored and untracked, whether it exists or not: a later `git add .` must not pick it up. */
async function envFinding(root: string, tracked: readonly string[]): Promise<Finding | undefined> {
  const isTracked = tracked.includes('.env')
  // --no-index: ask the ignore rules themselves; for a tracked file git would otherwise answer "not ignored"
  const ignored = await gitCheckIgnore(root, '.env')
  if (isTracked) {
    return {
      level: 'error',
      code: 'MLSKEL_CHECK_ENV_EXPOSED',
      file: '.env',
      message: `.env is tracked by git${ignored === false ? ' and not ignored' : ''}: every secret it holds is in the repository and its history`,
      fix: `Run \`git rm --cached .env\`${ignored === false ? ', add `.env` to .gitignore' : ''} and commit; then rotate every secret .env held.`,
    }
  }
  if (ignored === true) return undefined
  if (ignored === false) {
    return { level: 'error', code: 'MLSKEL_CHECK_ENV_EXPOSED', file: '.env', message: '.env is not ignored by git: a `git add .` would commit the secrets it holds', fix: 'Add a line `.env` to .gitignore and commit it.' }
  }
  return { level: 'warning', code: 'MLSKEL_CHECK_ENV_EXPOSED', file: '.env', message: `could not ask git whether .env is ignored (${ignored.error})`, fix: 'Make sure `git check-ignore .env` runs in the project folder, then check again.' }
}

/** true: ignored; false: not ignored; else why git could not tell. */
async function gitCheckIgnore(root: string, path: string): Promise<boolean | { error: string }> {
  const result = await runText('git', ['check-ignore', '-q', '--no-index', '--', path], { cwd: root })
  if (result.code === 0) return true
  if (result.code === 1) return false
  return { error: result.stderr.trim().split('\n')[0] || result.error?.message || `git check-ignore exited with ${result.code}` }
}

interface ScanResult {
  scanned: number
  skipped: number
  findings: Finding[]
}

async function scanFiles(root: string, files: readonly string[]): Promise<ScanResult> {
  const result: ScanResult = { scanned: 0, skipped: 0, findings: [] }
  for (let start = 0; start < files.length; start += BATCH) {
    for (const file of files.slice(start, start + BATCH)) scanOne(root, file, result)
    // yield between batches, so that rules running beside this one (their child processes' output) are served
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return result
}

function scanOne(root: string, file: string, result: ScanResult): void {
  const text = readSmallText(join(root, file))
  if (text === 'missing') return
  if (text === 'skipped') {
    result.skipped++
    return
  }
  result.scanned++
  for (const hit of findSecrets(text)) result.findings.push(secretFinding(file, hit))
}

function secretFinding(file: string, { line, pattern }: SecretHit): Finding {
  const allow = `If it is a test fixture or an example and not a real secret, add the comment \`${ALLOW_SECRET_COMMENT}\` on its line.`
  if (pattern.level === 'warning') {
    return { level: 'warning', code: 'MLSKEL_CHECK_SECRET_FOUND', file, line, message: `holds what looks like ${pattern.kind} (value not shown); a live token grants access until it expires`, fix: `If it is a real token, remove it and revoke it. ${allow}` }
  }
  return {
    level: 'error',
    code: 'MLSKEL_CHECK_SECRET_FOUND',
    file,
    line,
    message: `holds what looks like ${pattern.kind} (value not shown)`,
    fix: `Remove it from the file, rotate it (it is in git history), and read it from .env or the environment instead. ${allow}`,
  }
}

/**
 * A file's text (latin1: the patterns are ASCII, and each byte stays one character, so lines count right), or
 * why not: gone (tracked but deleted), or skipped (not a regular file, a symlink, over MAX_SCAN_BYTES, binary).
 * Synchronous on purpose: 10,000 small files read in ~70 ms so, against ~600 ms through the 4-thread libuv
 * pool with promises (measured on Node 20); scanFiles yields between batches to keep the event loop moving.
 */
function readSmallText(path: string): string | 'missing' | 'skipped' {
  let fd: number
  try {
    fd = openSync(path, OPEN_FLAGS)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'skipped'
  }
  try {
    const info = fstatSync(fd)
    if (!info.isFile() || info.size > MAX_SCAN_BYTES) return 'skipped'
    const buffer = Buffer.allocUnsafe(info.size)
    let length = 0
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length)
      if (n === 0) break
      length += n
    }
    const bytes = buffer.subarray(0, length)
    if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return 'skipped'
    return bytes.toString('latin1')
  } finally {
    closeSync(fd)
  }
}

/** Outside git: every file under `root`, relative with / separators, minus the skipped folders and `skip`. */
async function filesOnDisk(root: string, skip: ReadonlySet<string>): Promise<string[]> {
  const files: string[] = []
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    const atRoot = dir === root
    await Promise.all(
      entries.map(async (entry) => {
        if (entry.isDirectory()) {
          const path = join(dir, entry.name)
          if (SKIPPED_DIRS_ANYWHERE.has(entry.name) || (atRoot && SKIPPED_DIRS_AT_ROOT.has(entry.name)) || skip.has(path)) return
          await walk(path)
        } else if (entry.isFile()) {
          files.push(relative(root, join(dir, entry.name)).split(sep).join('/'))
        }
      }),
    )
  }
  await walk(root)
  return files.sort()
}
