// The routes that describe and watch the server: GET /metrics (Prometheus), GET /openapi.json (made by
// @fastify/swagger of the routes' schemas, with the served model's) and GET /docs (Swagger UI, its assets served from
// @fastify/swagger-ui's own folder: no CDN).
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import type { ServeMetrics } from './metrics.js'
import type { ModelHolder, ServedModel } from './model-holder.js'
import { openApiDocument, routeSchemas, sharedSchemas, swaggerOptions } from './openapi.js'

export interface ObservabilityOptions {
  holder: ModelHolder
  metrics: ServeMetrics
  /** The server's version, shown in the document. */
  version: string
  maxRows: number
  /** Whether prediction routes take a bearer token: the document then declares the scheme. */
  auth: boolean
  /** The API's name in the document. */
  title?: string
}

/**
 * Swagger UI's content security policy. @fastify/swagger-ui's `staticCSP: true` adds `upgrade-insecure-requests`,
 * which makes a browser fetch the page's own assets over https and so breaks /docs on a plain-http server (the
 * usual case behind a load balancer or on a laptop); this is that policy without it, and without remote sources.
 */
export const DOCS_CSP = "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self'; connect-src 'self'"

/**
 * A Fastify plugin, to register before the routes it documents: it runs in the app's own context (not encapsulated),
 * so that @fastify/swagger sees every route registered after it, and the routes see the shared schemas (openapi.ts)
 * that their schemas refer to. The document is made again when the served model changes; /docs shows the same
 * document, which Swagger UI loads from /docs/json.
 */
export function observabilityRoutes(o: ObservabilityOptions): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    for (const schema of sharedSchemas(o.maxRows)) app.addSchema(schema)
    await app.register(fastifySwagger, swaggerOptions(o))

    let cached: { model: ServedModel | undefined; document: Record<string, unknown>; text: string } | undefined
    const current = () => {
      const model = o.holder.current()
      if (!cached || cached.model !== model) {
        const document = openApiDocument(app, model, o)
        cached = { model, document, text: JSON.stringify(document) }
      }
      return cached
    }

    const schemas = routeSchemas(o)
    app.get('/metrics', { schema: schemas.metrics }, async (_request, reply) => {
      o.metrics.setSkipped(o.holder.current()?.skipped?.length ?? 0)
      return reply.header('content-type', o.metrics.contentType).send(await o.metrics.text())
    })

    app.get('/openapi.json', { schema: schemas.openapi }, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(current().text))

    await app.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      staticCSP: DOCS_CSP,
      transformSpecification: () => current().document,
      transformSpecificationClone: false,
      uiConfig: { deepLinking: true, tryItOutEnabled: true },
    })
  }
  // Fastify's own mark for a plugin that shares its parent's context (what fastify-plugin sets)
  Object.assign(plugin, { [Symbol.for('skip-override')]: true })
  return plugin
}
