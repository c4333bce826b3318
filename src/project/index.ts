// A project: its file and state names, its root, and mlskel.yaml (the one schema, composed from its sections'
// owners, and its one reader). files.ts alone needs neither zod nor YAML: the CLI's fast paths import it directly.
export { PROJECT_FILE, PARAMS_FILE, LOCK_FILE, STATE_DIR, RUN_LOCK_FILE, HASH_CACHE_FILE, STATE_CACHE_FILE, ENV_FILE, MAX_YAML_BYTES, findProjectRoot, readProjectText } from './files.js'
export { projectConfigSchema, projectSource, parseProjectConfig, readProjectSection, readChecksConfig, readParamsYaml, readExternalInputs, normalizeExternal, declaredOutputs, type ProjectConfig, type LoadedProjectConfig } from './config.js'
