// Charts as SVG, rendered in Node: a Vega-Lite spec is compiled to Vega and drawn by a headless Vega View. No
// canvas, no browser, no network: data is inline in the spec, and the SVG goes into the report as it is.
import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'

export type ChartSpec = TopLevelSpec

/** Defaults every chart of a report shares: a plain white background, the report's font, no actions. */
const CONFIG = {
  background: 'white',
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: 'transparent' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e5e7eb' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
} as const

/** Render a Vega-Lite spec to an SVG string. Specs must carry their data inline (`data.values`); URLs are refused. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  if (JSON.stringify(spec).includes('"url"')) throw new TypeError('chart specs must carry their data inline (data.values), not load it from a URL')
  const vega = compile({ ...spec, config: { ...CONFIG, ...(spec as { config?: object }).config } } as ChartSpec).spec
  const view = new View(parse(vega), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
