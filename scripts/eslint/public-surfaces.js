// ESLint rule `mlskel/public-surfaces`: a module of src/ uses another top-level folder (src/data, src/models, …)
// only through that folder's index.ts, or through a surface the folder declares public for a reason. Written here
// rather than taken from eslint-plugin-import: its no-restricted-paths needs a TypeScript resolver and a zone per
// pair of folders; this is path arithmetic on the import's specifier (`.js` in a specifier names the `.ts` file).
import { dirname, relative, resolve, sep } from 'node:path'

/**
 * Surfaces besides index.ts, each with why. Keep this list short.
 *  - project/files.ts: a project's names and root without zod or YAML, for the CLI's fast paths (a no-op
 *    `mlskel run` starts in ~100 ms because it loads neither).
 *  - <folder>/schema.ts: a section of mlskel.yaml, composed by project/config.ts; leaf zod modules, so the
 *    composition does not pull in (or cycle through) the pipeline and check modules.
 *  - pipeline/runner.ts from cli/commands/run.ts: the no-op run's fast path; pipeline/index.ts re-exports the
 *    schemas, and so zod.
 */
const PUBLIC = new Set(['project/files.ts', 'pipeline/schema.ts', 'check/schema.ts'])
const ALLOWED = new Set(['cli/commands/run.ts -> pipeline/runner.ts'])

export const publicSurfaces = {
  meta: {
    type: 'problem',
    docs: { description: 'use another folder of src/ through its index.ts (or a declared public surface)' },
    messages: { internal: '{{from}} reaches into {{to}}: import {{folder}}/index.js instead (or declare the surface public in scripts/eslint/public-surfaces.js, saying why)' },
    schema: [],
  },
  create(context) {
    const file = context.filename
    const src = resolve(context.cwd, 'src')
    const from = relative(src, file).split(sep).join('/')
    if (from.startsWith('..')) return {}
    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return
      const to = relative(src, resolve(dirname(file), specifier)).split(sep).join('/').replace(/\.js$/, '.ts')
      if (to.startsWith('..')) return
      const [fromFolder] = from.split('/')
      const [toFolder, ...rest] = to.split('/')
      if (rest.length === 0 || toFolder === fromFolder) return
      if (rest.join('/') === 'index.ts' || PUBLIC.has(to) || ALLOWED.has(`${from} -> ${to}`)) return
      context.report({ node, messageId: 'internal', data: { from, to, folder: toFolder } })
    }
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    }
  },
}
