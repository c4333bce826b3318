// What the project's scripts share: DuckDB access, the transformed data set, atomic outputs, output formatting.
export { withDuckDB, query, readTable, readColumns, tableSource, sqlString, sqlIdent, type Db, type Table, type Value } from './duckdb.js'
export { writeOutputs, projectRelative } from './files.js'
export { formatTable, formatNumber } from './format.js'
export { DATASET_FILE, readDatasetDescription, checkDatasetMatches, readExamples, signatureOf, inputColumns, foldStrategy, type DatasetDescription, type ColumnDescription, type RowCounts, type Examples } from './dataset.js'
