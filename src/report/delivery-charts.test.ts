import { describe, expect, it } from 'vitest'
import { renderSvg } from './charts.js'
import { featureHistogramsSpec } from './delivery-charts.js'

describe('featureHistogramsSpec', () => {
  it('charts every column DuckDB accepts as a name: dots, brackets and quotes included', async () => {
    const names = ['petal.width', 'x[0]', 'say "hi"', "it's", 'plain']
    const X = Array.from({ length: 60 }, (_, i) => names.map(() => Math.floor(i / 2) % 5))
    const svg = await renderSvg(featureHistogramsSpec(X, names, { name: 'class.label', values: X.map((_, i) => (i % 2 ? 'a' : 'b')) }))
    // 5 values × 2 classes of bars per feature, for every one of the five
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(5 * 5 * 2)
    for (const name of ['petal.width', 'x[0]', 'say &quot;hi&quot;', "it's", 'class.label']) expect(svg.replaceAll('&#39;', "'")).toContain(name)
  })
})
