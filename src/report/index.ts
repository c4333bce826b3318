// `import … from 'mlskel/report'`: the reports, and the parts a project (or a notebook) can build its own from:
// Vega-Lite charts rendered to SVG in Node, and the self-contained page. Kept out of the main entry: Vega and
// DuckDB are heavy, and most users of the library never draw a chart.
export { renderSvg, type ChartSpec } from './charts.js'
export { htmlPage, escapeHtml, figure, table, definitions, type ReportPage, type ReportSection } from './html.js'
export { deliveryReport, DELIVERY_FILE, type DeliveryOptions, type DeliveryResult } from './delivery.js'
export { exploreReport, type ExploreOptions, type ExploreResult } from './explore.js'
export { printPdf, findChromium, CHROMIUM_PATHS, CHROMIUM_NAMES } from './pdf.js'
