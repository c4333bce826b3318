// Writes schema/*.schema.json from the zod schemas (npm run schemas).
import { writeFileAtomic } from '../src/fs/index.js'
import { publishedSchemas } from '../src/schemas/index.js'

for (const [file, schema] of Object.entries(publishedSchemas())) {
  await writeFileAtomic(new URL(`../schema/${file}`, import.meta.url).pathname, `${JSON.stringify(schema, null, 2)}\n`)
  console.log(`wrote schema/${file}`)
}
