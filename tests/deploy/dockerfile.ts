// Test helper: runs a Dockerfile's build steps on this machine, without a Docker engine, for tests/deploy.test.ts.
//
// Each stage gets its own folder that stands for its root filesystem (/app in the image is <stage root>/app), and
// the instructions the template uses run in order, as written: WORKDIR, ENV, COPY (from the build context, minus
// .dockerignore, or --from an earlier stage) and RUN (through /bin/sh -c, in the stage's WORKDIR, with its ENV).
// What stands in for the base image is this machine: its node, npm and /bin/sh. USER, EXPOSE, HEALTHCHECK and CMD
// are recorded for the caller, which starts the CMD itself. Anything else is refused, so a new instruction in the
// template cannot be skipped silently.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, delimiter, dirname, join, posix } from 'node:path'
import { DockerfileParser, type Instruction } from 'dockerfile-ast'

export interface Stage {
  name: string | null
  /** The folder standing for the stage's root filesystem. */
  root: string
  /** Container path, e.g. /app. */
  workdir: string
  env: Record<string, string>
  user: string | null
  exposed: string[]
  /** HEALTHCHECK's exec-form command, when it has one. */
  healthcheck: string[] | null
  /** CMD in exec form. */
  cmd: string[] | null
}

export interface StepHooks {
  /**
   * Called before a RUN line; return a function to run instead of the line (the test says why), or undefined to
   * run it as written.
   */
  substitute?: (command: string, stage: Stage, stages: Stage[]) => (() => Promise<void>) | undefined
  /** Output of each RUN, for the test's log. */
  onOutput?: (text: string) => void
}

/** The instructions of a Dockerfile, as dockerfile-ast parses them. */
export function parseDockerfile(path: string): Instruction[] {
  return DockerfileParser.parse(readFileSync(path, 'utf8')).getInstructions()
}

/** Run every step of the Dockerfile at `path` with `context` as the build context; stage roots go under `work`. */
export async function runDockerfile(path: string, context: string, work: string, hooks: StepHooks = {}): Promise<Stage[]> {
  const stages: Stage[] = []
  const ignore = dockerignore(context)
  for (const instruction of parseDockerfile(path)) {
    const keyword = instruction.getKeyword()
    const args = instruction.getArgumentsContent() ?? ''
    if (keyword === 'FROM') {
      stages.push(newStage(instruction, join(work, `stage-${stages.length}`)))
      continue
    }
    const stage = stages.at(-1)
    if (!stage) throw new Error(`${keyword} before any FROM`)
    await runStep(keyword, args, instruction, stage, stages, { context, ignore, hooks })
  }
  return stages
}

interface StepContext {
  context: string
  ignore: (path: string) => boolean
  hooks: StepHooks
}

async function runStep(keyword: string, args: string, instruction: Instruction, stage: Stage, stages: Stage[], c: StepContext): Promise<void> {
  switch (keyword) {
    case 'WORKDIR':
      stage.workdir = posix.resolve(stage.workdir, args)
      mkdirSync(hostPath(stage, stage.workdir), { recursive: true })
      return
    case 'ENV':
      for (const [name, value] of envPairs(instruction)) stage.env[name] = expand(value, stage.env)
      return
    case 'COPY':
      return copyStep(instruction, stage, stages, c)
    case 'RUN':
      return runShell(args, stage, stages, c.hooks)
    case 'USER':
      stage.user = args
      return
    case 'EXPOSE':
      stage.exposed.push(...args.split(/\s+/))
      return
    case 'HEALTHCHECK':
      stage.healthcheck = execForm(args.replace(/^CMD\s+/, ''))
      return
    case 'CMD':
      stage.cmd = execForm(args)
      return
    default:
      throw new Error(`the step runner does not know ${keyword} (line ${instruction.getRange().start.line + 1}): teach it, or leave the instruction out`)
  }
}

function newStage(instruction: Instruction, root: string): Stage {
  const words = (instruction.getArgumentsContent() ?? '').split(/\s+/)
  mkdirSync(root, { recursive: true })
  // the base image's PATH and HOME are this machine's: its node and npm (and npm's cache) stand for the image's
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' }
  return { name: words[2] ?? null, root, workdir: '/', env, user: null, exposed: [], healthcheck: null, cmd: null }
}

/** Where a container path of `stage` is on this machine. */
export function hostPath(stage: Stage, containerPath: string): string {
  return join(stage.root, posix.resolve(stage.workdir, containerPath))
}

/** The stage's environment for a process on this machine: PATH entries inside the image point into its root. */
export function hostEnv(stage: Stage): Record<string, string> {
  const path = stage.env.PATH!.split(':').map((entry) => (entry.startsWith('/') && existsSync(join(stage.root, entry)) ? join(stage.root, entry) : entry))
  return { ...stage.env, PATH: path.join(delimiter) }
}

function envPairs(instruction: Instruction): [string, string][] {
  const properties = (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()
  return properties.map((p) => [p.getName(), p.getValue() ?? ''])
}

/** $VAR and ${VAR} from the stage's environment, as Docker expands ENV values. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => env[name] ?? '')
}

function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args)
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec-form command: ${args}`)
  return parsed as string[]
}

async function copyStep(instruction: Instruction, stage: Stage, stages: Stage[], c: StepContext): Promise<void> {
  const from = (instruction as unknown as { getFromFlag(): { getValue(): string | null } | null }).getFromFlag()?.getValue() ?? null
  const words = instruction.getArguments().map((a) => a.getValue())
  const dest = words.pop()!
  const source = from === null ? null : stages.find((s) => s.name === from)
  if (from !== null && !source) throw new Error(`COPY --from=${from}: no earlier stage of that name`)
  const destination = hostPath(stage, dest)
  for (const src of words) {
    const origin = source ? hostPath({ ...source, workdir: '/' }, src) : join(c.context, src)
    if (!existsSync(origin)) throw new Error(`COPY ${src}: not found in ${source ? `stage ${from}` : 'the build context'}`)
    // a file goes into a destination ending in / (or an existing folder); a folder's contents go into the destination
    const target = statSync(origin).isDirectory() || !(dest.endsWith('/') || dest === '.') ? destination : join(destination, basename(src))
    mkdirSync(statSync(origin).isDirectory() ? target : dirname(target), { recursive: true })
    cpSync(origin, target, { recursive: true, verbatimSymlinks: true, filter: (path) => source !== null || !c.ignore(path.slice(c.context.length + 1)) })
  }
}

async function runShell(command: string, stage: Stage, stages: Stage[], hooks: StepHooks): Promise<void> {
  const substitute = hooks.substitute?.(command, stage, stages)
  if (substitute) return substitute()
  const cwd = hostPath(stage, stage.workdir)
  const { code, output } = await run('/bin/sh', ['-c', command], { cwd, env: hostEnv(stage) }, hooks.onOutput)
  if (code !== 0) throw new Error(`RUN ${command}\nexited ${code} in ${cwd}:\n${output.slice(-4000)}`)
}

/** Run a command; resolves with its exit code and output (stdout and stderr). */
export function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }, onOutput?: (text: string) => void): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString()
      onOutput?.(chunk.toString())
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

/**
 * The build context's .dockerignore as a predicate on context-relative paths: Docker's rules for the patterns the
 * template uses (`*`, `**`, `?`, `!` exceptions, the last matching pattern wins, a folder's match covers its files).
 */
export function dockerignore(context: string): (path: string) => boolean {
  const file = join(context, '.dockerignore')
  const rules = (existsSync(file) ? readFileSync(file, 'utf8') : '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => ({ exclude: !line.startsWith('!'), pattern: globRegex(posix.normalize(line.replace(/^!/, '').replace(/^\//, ''))) }))
  return (path: string) => {
    const parts = path.split(/[\\/]/)
    let ignored = false
    for (const rule of rules) {
      // the path or one of its parent folders matches
      if (parts.some((_, i) => rule.pattern.test(parts.slice(0, i + 1).join('/')))) ignored = rule.exclude
    }
    return ignored
  }
}

function globRegex(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?'
      i += 2
    } else if (pattern.startsWith('**', i)) {
      source += '.*'
      i += 1
    } else if (char === '*') source += '[^/]*'
    else if (char === '?') source += '[^/]'
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${source}$`)
}

/** Every file below `dir`, relative, for assertions on what a stage holds. */
export function filesBelow(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.isFile())
}
