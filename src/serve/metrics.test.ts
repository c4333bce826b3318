import { register as globalRegistry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createMetrics } from './metrics.js'

describe('createMetrics', () => {
  it('counts requests and their latency by route, method and status', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.observeRequest('/predict', 'POST', 200, 0.0007)
    metrics.observeRequest('/predict', 'POST', 200, 0.003)
    metrics.observeRequest('/predict', 'POST', 400, 0.0002)
    const text = await metrics.text()
    expect(text).toContain('mlskel_http_requests_total{route="/predict",method="POST",status="200"} 2')
    expect(text).toContain('mlskel_http_requests_total{route="/predict",method="POST",status="400"} 1')
    expect(text).toContain('mlskel_http_request_duration_seconds_bucket{le="0.001",route="/predict",method="POST",status="200"} 1')
    expect(text).toContain('mlskel_http_request_duration_seconds_count{route="/predict",method="POST",status="200"} 2')
  })

  it('counts classification predictions by class, and regression ones as a plain count', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.countPredictions('classification', ['setosa'])
    metrics.countPredictions('classification', ['setosa', 'virginica', 'virginica', 2])
    metrics.countPredictions('classification', [])
    metrics.countPredictions('regression', [1.5, 2.5, 3])
    const text = await metrics.text()
    expect(text).toContain('mlskel_predictions_total{class="setosa"} 2')
    expect(text).toContain('mlskel_predictions_total{class="virginica"} 2')
    expect(text).toContain('mlskel_predictions_total{class="2"} 1')
    expect(text).toContain('mlskel_predictions_total{class=""} 3')
  })

  it('observes rows per request', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.observeRows(1)
    metrics.observeRows(100)
    const text = await metrics.text()
    expect(text).toContain('mlskel_prediction_rows_bucket{le="1"} 1')
    expect(text).toContain('mlskel_prediction_rows_bucket{le="100"} 2')
    expect(text).toContain('mlskel_prediction_rows_sum 101')
  })

  it('counts unseen categories by input, escaping the label value', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    expect(await metrics.text()).toContain('# TYPE mlskel_unseen_category_total counter')
    expect(await metrics.text()).not.toMatch(/^mlskel_unseen_category_total\{/m)
    metrics.countUnseen('colour', 1)
    metrics.countUnseen('colour', 2)
    metrics.countUnseen('a "quoted"\\input\nname', 1)
    const text = await metrics.text()
    expect(text).toContain('mlskel_unseen_category_total{feature="colour"} 3')
    expect(text).toContain('mlskel_unseen_category_total{feature="a \\"quoted\\"\\\\input\\nname"} 1')
  })

  it('names only the served model in mlskel_model_info', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.setModel('aaaaaaaaaaaaaaaa')
    metrics.setModel('bbbbbbbbbbbbbbbb')
    const text = await metrics.text()
    expect(text).toContain('mlskel_model_info{model_id="bbbbbbbbbbbbbbbb"} 1')
    expect(text).not.toContain('aaaaaaaaaaaaaaaa')
  })

  it('keeps its own registry: two instances never share counts, and the global registry stays empty', async () => {
    const a = createMetrics()
    const b = createMetrics()
    a.observeRows(5)
    expect(await b.text()).toContain('mlskel_prediction_rows_count 0')
    expect(await a.text()).toContain('process_cpu_user_seconds_total')
    expect(globalRegistry.getSingleMetric('mlskel_prediction_rows')).toBeUndefined()
  })

  it('writes the text exposition format: cumulative buckets up to +Inf, escaped label values, one HELP and TYPE per metric', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.observeRequest('/predict', 'POST', 200, 0.0004)
    metrics.observeRequest('/predict', 'POST', 200, 0.02)
    metrics.observeRequest('/predict', 'POST', 200, 60)
    metrics.countPredictions('classification', ['a "quoted"\\class\nname'])
    metrics.countUnseen('colour', 2)
    const text = await metrics.text()
    const series = '{route="/predict",method="POST",status="200"}'
    expect(text).toContain('mlskel_http_request_duration_seconds_bucket{le="0.0005",route="/predict",method="POST",status="200"} 1')
    expect(text).toContain('mlskel_http_request_duration_seconds_bucket{le="0.025",route="/predict",method="POST",status="200"} 2')
    expect(text).toContain('mlskel_http_request_duration_seconds_bucket{le="5",route="/predict",method="POST",status="200"} 2')
    expect(text).toContain('mlskel_http_request_duration_seconds_bucket{le="+Inf",route="/predict",method="POST",status="200"} 3')
    expect(text).toContain(`mlskel_http_request_duration_seconds_sum${series} 60.0204`)
    expect(text).toContain('mlskel_predictions_total{class="a \\"quoted\\"\\\\class\\nname"} 1')
    // every line is a comment or `name{labels} value`, and each metric is declared once before its samples
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/
    const declared = new Set<string>()
    for (const line of text.trimEnd().split('\n')) {
      if (line === '') continue
      const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line)
      if (type) {
        expect(declared.has(type[1]!), `${type[1]} declared twice`).toBe(false)
        declared.add(type[1]!)
        continue
      }
      if (line.startsWith('# HELP ')) continue
      const match = sample.exec(line)
      expect(match, line).not.toBeNull()
      const base = match![1]!.replace(/_(bucket|sum|count)$/, '')
      expect(declared.has(match![1]!) || declared.has(base), `${line} before its TYPE`).toBe(true)
    }
    expect([...declared].sort()).toEqual(['mlskel_http_request_duration_seconds', 'mlskel_http_requests_total', 'mlskel_model_info', 'mlskel_model_skipped_runs', 'mlskel_prediction_rows', 'mlskel_predictions_total', 'mlskel_unseen_category_total'])
  })
})
