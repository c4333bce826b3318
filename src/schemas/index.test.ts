import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { publishedSchemas } from './index.js'

describe('published JSON Schemas', () => {
  it.each(Object.entries(publishedSchemas()))('schema/%s equals the zod schema (run `npm run schemas` after changing one)', (file, schema) => {
    const published: unknown = JSON.parse(readFileSync(new URL(`../../schema/${file}`, import.meta.url), 'utf8'))
    expect(published).toEqual(schema)
  })
})
