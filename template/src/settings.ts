// The project's typed settings, read from .env and the environment with defaults (.env.example documents each).
import { findProjectRoot, loadSettings, projectPaths, settingsSchema, type ProjectPaths, type z } from 'mlskel'

/**
 * mlskel's settings (data and model folders, API host and port, log level). Add your own here, e.g.
 * `WAREHOUSE_URL: z.string().url()` or `BATCH_SIZE: z.coerce.number().int().default(512)`, and document them in
 * .env.example: a bad value stops the scripts with an error naming the variable.
 */
export const schema = settingsSchema.extend({})

export type ProjectSettings = z.output<typeof schema>

export interface Project {
  root: string
  settings: ProjectSettings
  paths: ProjectPaths
}

/**
 * The settings and absolute folders of the project at `root` (default: the folder holding mlskel.yaml at or above
 * the current one). Called by each script's main rather than at import, so a bad .env is reported as a clear
 * error, and tests can point it at a temporary copy of the project.
 */
export function loadProject(root: string = findProjectRoot()): Project {
  const settings = loadSettings(schema, { root })
  return { root, settings, paths: projectPaths(root, settings) }
}
