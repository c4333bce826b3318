// npm run build: dist/ from an empty folder. tsc checks the sources and writes the declarations (what TypeScript users
// and the API reports read); esbuild writes the JavaScript, bundled.
//
// The check is the whole repository's (tsconfig.json: the sources, their tests, the scripts and benchmarks), so that
// `npm test` type-checks everything once: tsc run twice (a check of everything, then a build of src/) checked src/
// twice, ~8 s of a cold run. It is incremental, its state and declarations kept in node_modules/.cache/mlskel; the
// declarations of src/ (not those of its tests and test helpers, which tsconfig.build.json leaves out) are copied to
// dist/.
//
// Why bundled: Node.js 20 loads ES modules one by one, ~1–2 ms each, and a project's stages load mlskel through tsx,
// whose loader hooks add as much again for every module. `import 'mlskel'` was ~200 modules (mlskel's ~110, zod's
// 95): 0.4 s of CPU in plain Node and 0.9 s under tsx, paid by every stage and every `mlskel` command. Bundled, the
// template's stages take 0.4–0.7 s of CPU less each and a CLI command 0.2–0.3 s less (measured on the iris project).
//
// - Entry points: the package's exports (mlskel, mlskel/serve, mlskel/report), the CLI, and the two worker threads'
//   scripts. Code they share is split into dist/chunks/, so one process holds one copy of each module and its state
//   (the model kinds registered, the worker pool) whichever entries it imports.
// - Bundled with mlskel: the small pure-JavaScript packages every stage or command loads (BUNDLED). The others stay
//   imports of the installed packages: native ones (DuckDB, ONNX Runtime), those loaded only to serve or to write a
//   report (Fastify and its plugins, which read files of their own package, Vega, Playwright), pino (required by the
//   first logger: logging/index.ts), and the peers. All stay in package.json's dependencies: the declarations use
//   their types. Their licences: dist/THIRD-PARTY-LICENSES.
// - No large file that `import 'mlskel'` loads may hold a dynamic import(): tsx rewrites every module that does
//   (es-module-lexer, then MagicString with a source map) on every load, ~0.3 s of CPU for a 750 kB chunk.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Metafile, type Plugin } from 'esbuild'

const repo = fileURLToPath(new URL('..', import.meta.url))
const dist = join(repo, 'dist')

/** Packages bundled into dist/ (their own dependencies with them). */
const BUNDLED = ['commander', 'random-js', 'secure-json-parse', 'validate-npm-package-name', 'yaml', 'zod'] as const

/** Bundled packages whose version a training records (src/metadata/environment.ts): the one that ran is the bundled one. */
const RECORDED = ['random-js', 'zod'] as const

/** Above this size, an output file must not hold a dynamic import() (see the top of this file). */
const DYNAMIC_IMPORT_LIMIT = 64 * 1024

const ENTRIES = ['index.ts', 'serve/index.ts', 'report/index.ts', 'cli/index.ts', 'models/engine/worker.ts', 'models/onnx/host.ts']

export async function buildDist(): Promise<void> {
  rmSync(dist, { recursive: true, force: true })
  declarations()

  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; peerDependencies?: Record<string, string> }
  const external = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})].filter((name) => !(BUNDLED as readonly string[]).includes(name))
  const require = createRequire(join(repo, 'src', 'index.ts'))
  const versionOf = (name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version
  const result = await build({
    absWorkingDir: repo,
    entryPoints: ENTRIES.map((entry) => join('src', entry)),
    outdir: 'dist',
    outbase: 'src',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    external,
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
    // a string, parsed where it is used: an object would be a module of its own in the source map, `<define:…>`, which
    // is no file
    define: { __MLSKEL_BUNDLED_VERSIONS__: JSON.stringify(JSON.stringify(Object.fromEntries(RECORDED.map((name) => [name, versionOf(name)])))) },
    // zodEnglishOnly first: the first plugin that loads a file loads it
    plugins: [zodEnglishOnly, ownSourceMapsOnly],
    // the bundled CommonJS packages (yaml) call require(): in an ES module it must be made
    banner: { js: "import { createRequire as __mlskelCreateRequire } from 'node:module'; const require = __mlskelCreateRequire(import.meta.url);" },
  })
  checkDynamicImports(result.metafile)
  writeFileSync(join(dist, 'THIRD-PARTY-LICENSES'), thirdPartyLicenses(result.metafile))
  chmodSync(join(dist, 'cli', 'index.js'), 0o755)
}

/**
 * zod's messages in English only. zod exports its ~45 translations as `z.locales`, which the bundle kept whole: half
 * of the bundled zod (370 of 760 kB), read and parsed by every process that imports mlskel (~20 ms of CPU, ~38 under
 * tsx). mlskel's zod is its own (bundled, never handed to a project's code), and zod itself configures English
 * (classic/schemas.js imports locales/en.js): the other locales are unreachable. A test (tests/build.test.ts) says
 * when a zod update loads them another way.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    // `z.locales` and `z.core.locales`: this file of the bundled zod, loaded as its English export alone
    b.onLoad({ filter: /[/\\]node_modules[/\\]zod[/\\]v4[/\\]locales[/\\]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js"\n', loader: 'js' }))
  },
}

/**
 * A bundled package's own source map, only when the files it names are there. esbuild maps dist/ back through the
 * source maps the bundled files carry; random-js's names its TypeScript sources, which its package does not ship, so
 * dist/'s map pointed at missing files and vitest said so in every run ("Sourcemap … points to missing source files").
 * Without its comment, the file maps to itself.
 */
const ownSourceMapsOnly: Plugin = {
  name: 'own-source-maps-only',
  setup(b) {
    b.onLoad({ filter: /[/\\]node_modules[/\\].*\.[cm]?js$/ }, ({ path }) => {
      const contents = readFileSync(path, 'utf8')
      const comment = /^\/\/# sourceMappingURL=(?!data:)(\S+)\s*$/m.exec(contents)
      if (!comment) return undefined
      const mapFile = join(dirname(path), comment[1]!)
      const map = existsSync(mapFile) ? (JSON.parse(readFileSync(mapFile, 'utf8')) as { sourceRoot?: string; sources?: string[] }) : undefined
      const whole = map?.sources?.every((source) => existsSync(join(dirname(mapFile), map.sourceRoot ?? '', source))) ?? false
      return whole ? undefined : { contents: contents.replace(comment[0], ''), loader: 'js' }
    })
  },
}

/** Type-check the repository and write src/'s declarations into dist/. */
function declarations(): void {
  const cache = join(repo, 'node_modules', '.cache', 'mlskel')
  const types = join(cache, 'types')
  const state = join(cache, 'types.tsbuildinfo')
  // tsc's state says which declarations it has written: without them, it must write them all again
  if (!existsSync(types)) rmSync(state, { force: true })
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc')
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', 'false', '--emitDeclarationOnly', '--declarationDir', types, '--incremental', '--tsBuildInfoFile', state], { cwd: repo, stdio: 'inherit' })
  } catch {
    throw new Error('build: the type-check failed (its errors are above)')
  }
  const written = join(types, 'src')
  for (const entry of readdirSync(written, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts') || entry.name.endsWith('.test.d.ts') || entry.name.startsWith('test-')) continue
    const path = relative(written, join(entry.parentPath, entry.name))
    // a declaration left from a source since deleted stays out
    if (!existsSync(join(repo, 'src', path.replace(/\.d\.ts$/, '.ts')))) continue
    mkdirSync(dirname(join(dist, path)), { recursive: true })
    writeFileSync(join(dist, path), canonicalDeclarations(readFileSync(join(written, path), 'utf8')))
  }
}

const ENUM_ENTRY = /^\s*(?:"([^"\n]*)"|([A-Za-z_$][\w$]*)): "([^"\n]*)";$/
const LITERAL_UNION = /"[^"\n]*"(?: \| "[^"\n]*")+(?!\[)/g

/**
 * Declarations whose text does not depend on the order tsc met their string literals in. tsc prints the members of a
 * union (`"a" | "b"`, and a zod enum's `{ a: "a"; b: "b"; }`) in the order it first created each literal type, which
 * differs between a check from nothing and an incremental one that re-checks only what an edit touched: the same code
 * gave two API reports (tests/api.test.ts). Here both are sorted, which changes no type.
 */
export function canonicalDeclarations(text: string): string {
  const lines = text.split('\n').map((line) => line.replace(LITERAL_UNION, (union) => union.match(/"[^"\n]*"/g)!.sort().join(' | ')))
  const enumEntry = (line: string) => {
    const match = ENUM_ENTRY.exec(line)
    return match !== null && (match[1] ?? match[2]) === match[3]
  }
  for (let start = 0; start < lines.length; start++) {
    if (!enumEntry(lines[start]!)) continue
    let end = start
    while (end + 1 < lines.length && enumEntry(lines[end + 1]!)) end++
    const value = (line: string) => ENUM_ENTRY.exec(line)![3]!
    const run = lines.slice(start, end + 1).sort((a, b) => (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0))
    lines.splice(start, run.length, ...run)
    start = end
  }
  return lines.join('\n')
}

/**
 * The files that `import 'mlskel'` (or mlskel/serve, mlskel/report) loads: none over the limit may hold a dynamic
 * import(). (The CLI's entry may: tsx never loads it.)
 */
export function checkDynamicImports(metafile: Metafile): void {
  const loaded = new Set<string>()
  const visit = (file: string): void => {
    const output = metafile.outputs[file]
    if (loaded.has(file) || !output) return
    loaded.add(file)
    for (const i of output.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path)
  }
  for (const entry of ['dist/index.js', 'dist/serve/index.js', 'dist/report/index.js']) visit(entry)
  const offending = [...loaded].filter((file) => metafile.outputs[file]!.bytes > DYNAMIC_IMPORT_LIMIT && metafile.outputs[file]!.imports.some((i) => i.kind === 'dynamic-import'))
  if (offending.length === 0) return
  const list = offending.map((file) => {
    const output = metafile.outputs[file]!
    return `  ${file} (${Math.round(output.bytes / 1024)} kB): import(${output.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path).join(', ')})`
  })
  throw new Error(
    `build: files that import 'mlskel' loads, over ${DYNAMIC_IMPORT_LIMIT / 1024} kB, hold a dynamic import(), which tsx rewrites on every load of a stage:\n${list.join('\n')}\n` +
      'Move the import() into a small module of its own (or make it static), so that it lands in a small chunk.',
  )
}

/** The licence of every package bundled into dist/, as their MIT, ISC and BSD licences ask of a copy. */
function thirdPartyLicenses(metafile: Metafile): string {
  const roots = new Set<string>()
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match) roots.add(match[1]!)
  }
  const sections = [...roots].sort().map((root) => {
    const { name, version, license } = JSON.parse(readFileSync(join(repo, root, 'package.json'), 'utf8')) as { name: string; version: string; license?: string }
    const file = readdirSync(join(repo, root)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
    const text = file ? readFileSync(join(repo, root, file), 'utf8').trim() : `${license ?? 'see the package'} (no licence file in the package)`
    return `${name}@${version} (${license ?? 'unknown'})\n\n${text}\n`
  })
  return `The packages bundled into mlskel's dist/, and their licences.\n\n${sections.join(`\n${'-'.repeat(80)}\n\n`)}`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildDist().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
