// The shape of mlskel.lock, as plain types: the zod schema in schema.ts checks files against it.
export interface StageRecord {
  cmd: string
  deps: Record<string, string>
  params: Record<string, unknown>
  overrides?: Record<string, unknown>
  outs: Record<string, string>
  /** The run id of the record the stage wrote in this run (a training), when it wrote one. */
  run_id?: string
  ran_at: string
  duration_ms: number
}

export interface LockFile {
  schema_version: 1
  stages: Record<string, StageRecord>
}
