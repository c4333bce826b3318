// Browsing, comparing and re-verifying trained models: the library behind `mlskel runs list|show|diff|verify`.
export { loadRuns, resolveRun, recordFileOf, type ProjectRuns } from './load.js'
export { listRuns, summarize, checkSortMetric, lowerIsBetter, metricColumns, MAIN_METRICS, type RunSummaryRow, type ListOptions } from './list.js'
export { diffRuns, isEmptyDiff, flatten, changes, scoreChanges, inputChanges, type RunDiff, type ValueChange, type ColumnChange, type ScoreChange, type InputChange, type CodeDiff, type CodeSide } from './diff.js'
export { verifyRun, compareRuns, IMPORTED_NOTE, SCORE_TOLERANCE, TRAIN_STAGE, VERIFY_EXIT, type VerifyOptions, type VerifyResult, type Difference } from './verify.js'
