// The routes that describe and watch the server: GET /metrics (Prometheus), GET /openapi.json (built from the served
// model) and GET /docs (Swagger UI, its assets served from @fastify/swagger-ui's own folder: no CDN).
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import type { ServeMetrics } from './metrics.js'
import type { ModelHolder, ServedModel } from './model-holder.js'
import { openApiDocument } from './openapi.js'

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
 * A Fastify plugin (register it without a prefix). The document is rebuilt when the served model changes; /docs
 * shows the same document, which Swagger UI loads from /docs/json.
 */
export function observabilityRoutes(o: ObservabilityOptions): FastifyPluginAsync {
  return async (app) => {
    let cached: { model: ServedModel | undefined; document: Record<string, unknown>; text: string } | undefined
    const current = () => {
      const model = o.holder.current()
      if (!cached || cached.model !== model) {
        const document = openApiDocument(model, o)
        cached = { model, document, text: JSON.stringify(document) }
      }
      return cached
    }

    app.get('/metrics', async (_request, reply) => {
      o.metrics.setSkipped(o.holder.current()?.skipped?.length ?? 0)
      return reply.header('content-type', o.metrics.contentType).send(await o.metrics.text())
    })

    app.get('/openapi.json', async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(current().text))

    // Static mode: @fastify/swagger does not collect the routes (the document is ours); swagger-ui asks it for the
    // document through transformSpecification, which answers the current one. (Its static document type stops at
    // OpenAPI 3.0, hence the cast; this placeholder is never shown.)
    await app.register(fastifySwagger, { mode: 'static', specification: { document: openApiDocument(undefined, o) as never } })
    await app.register(fastifySwaggerUi, {
      routePrefix: '/docs',
      staticCSP: DOCS_CSP,
      transformSpecification: () => current().document,
      transformSpecificationClone: false,
      uiConfig: { deepLinking: true, tryItOutEnabled: true },
    })
  }
}
