import { register as globalRegistry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createMetrics } from './metrics.js'

describe('createMetrics', () => {
  it('counts requests and their latency by route, method and status', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.observeRequest('/predict', 'POST', 200, 0.0007)
    metrics.observeRequest('/predict', 'POST', 200, 0.003)
    metrics.observeRequest('/predict', 'POST', 400, 0.0002)
    const text = await metrics.registry.metrics()
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
    const text = await metrics.registry.metrics()
    expect(text).toContain('mlskel_predictions_total{class="setosa"} 2')
    expect(text).toContain('mlskel_predictions_total{class="virginica"} 2')
    expect(text).toContain('mlskel_predictions_total{class="2"} 1')
    expect(text).toContain('mlskel_predictions_total{class=""} 3')
  })

  it('observes rows per request', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.observeRows(1)
    metrics.observeRows(100)
    const text = await metrics.registry.metrics()
    expect(text).toContain('mlskel_prediction_rows_bucket{le="1"} 1')
    expect(text).toContain('mlskel_prediction_rows_bucket{le="100"} 2')
    expect(text).toContain('mlskel_prediction_rows_sum 101')
  })

  it('names only the served model in mlskel_model_info', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    metrics.setModel('aaaaaaaaaaaaaaaa')
    metrics.setModel('bbbbbbbbbbbbbbbb')
    const text = await metrics.registry.metrics()
    expect(text).toContain('mlskel_model_info{model_id="bbbbbbbbbbbbbbbb"} 1')
    expect(text).not.toContain('aaaaaaaaaaaaaaaa')
  })

  it('keeps its own registry: two instances never share counts, and the global registry stays empty', async () => {
    const a = createMetrics()
    const b = createMetrics()
    a.observeRows(5)
    expect(await b.registry.metrics()).toContain('mlskel_prediction_rows_count 0')
    expect(await a.registry.metrics()).toContain('process_cpu_user_seconds_total')
    expect(globalRegistry.getSingleMetric('mlskel_prediction_rows')).toBeUndefined()
  })
})
