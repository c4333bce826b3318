// The shapes every rule of `mlskel check` shares: a rule is a small async function from the project to findings.
import type { ErrorCode } from '../errors/index.js'
import type { Hasher } from '../hashing/index.js'
import type { ProjectPaths } from '../settings/index.js'
import type { ChecksConfig, RuleId } from './schema.js'

export type Level = 'error' | 'warning' | 'info'

/** One thing a rule found. The message never contains a secret. */
export interface Finding {
  level: Level
  /** An MLSKEL_CHECK_* code of the error registry. */
  code: ErrorCode
  message: string
  /** The file or folder concerned, relative to the project root, with / separators. */
  file?: string
  line?: number
  /** How to fix it; absent: the code's fix from the registry. */
  fix?: string
}

export interface RuleOutcome {
  findings: Finding[]
  /** One line on what the rule saw, for the report: "7 test files", "94.2% of lines (threshold 80%)". */
  summary?: string
}

export interface CheckContext {
  /** The project root, absolute. */
  root: string
  /** The `checks:` section of mlskel.yaml, defaults applied. */
  config: ChecksConfig
  /** The project's folders from its settings (DATA_RAW, MODEL_DIR, ...), absolute. */
  paths: ProjectPaths
  /** `--accept-raw`: write the raw data manifest from data/raw as it is now. */
  acceptRaw: boolean
  /** Files git tracks, relative and sorted; undefined outside a git work tree. Computed once per check. */
  trackedFiles(): Promise<string[] | undefined>
  /** A hasher with the project's stat cache (the one `mlskel run` uses), shared by the rules. */
  hasher(): Promise<Hasher>
  /** Progress for long rules (coverage), to stderr; a no-op with --json. */
  progress(message: string): void
}

export interface Rule {
  id: RuleId
  /** What the rule checks, in a few words. */
  title: string
  run(context: CheckContext): Promise<RuleOutcome>
}
