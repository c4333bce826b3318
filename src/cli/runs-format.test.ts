import { describe, expect, it } from 'vitest'
import { makeRecord } from '../runs/test-data.js'
import { formatRecord, formatRunList } from './runs-format.js'

const old = makeRecord({ runId: '20260101T100000.000Z-aaaaaa', scores: { accuracy: { cv: 0.9, hold_out: 0.93 }, f1_macro: { hold_out: 0.92 }, log_loss: { hold_out: 0.3 } }, nEstimators: 10 })
const mid = makeRecord({ runId: '20260102T100000.000Z-bbbbbb', scores: { accuracy: { cv: 0.95, hold_out: 0.97 }, f1_macro: { hold_out: 0.96 }, log_loss: { hold_out: 0.1 } }, dirty: true })
const young = makeRecord({ runId: '20260103T100000.000Z-cccccc', scores: { accuracy: { cv: 0.92, hold_out: 0.9 }, f1_macro: { hold_out: 0.89 }, log_loss: { hold_out: 0.2 } } })

describe('formatRunList', () => {
  it('shows one row per run with short ids, the main hold-out scores, cv beside them, and a dirty mark', () => {
    const text = formatRunList([young, mid, old], { width: 200 })
    const [head, ...rows] = text.split('\n')
    expect(head).toMatch(/^run\s+time\s+model\s+task\s+accuracy\s+accuracy cv\s+f1_macro\s+f1_macro cv\s+data\s+commit$/)
    expect(rows[0]).toContain(young.run_id)
    expect(rows[0]).toContain('2026-01-03 10:00:00Z')
    expect(rows[0]).toContain(young.model_id.slice(0, 8))
    expect(rows[1]).toMatch(/0\.9700\s+0\.9500\s+0\.9600\s+-\s+aaaaaaaa\s+cccccccc\*$/)
    expect(text).toContain('* trained from uncommitted changes')
  })

  it('drops the cv columns when they do not fit, and adds the --sort-by metric', () => {
    const text = formatRunList([young], { width: 80, sortBy: 'log_loss' })
    expect(text.split('\n')[0]).toMatch(/accuracy\s+f1_macro\s+log_loss\s+data/)
    expect(text).not.toContain('accuracy cv')
    expect(text).toContain('sorted by log_loss (hold-out), lowest first')
  })
})

describe('formatRecord', () => {
  it('shows every section of a record, new fields included', () => {
    const text = formatRecord(mid, { recordFile: 'models/metadata/x.json' })
    for (const section of ['\nmodel\n', '\ndata and inputs\n', '\nparams and overrides\n', '\nscores (', '\ncode (git)\n', '\nenvironment\n', '\ndurations\n']) expect(text).toContain(section)
    expect(text).toContain('model.n_estimators')
    expect(text).toContain('data/transformed/train.parquet')
    expect(text).toMatch(/accuracy\s+0\.9500\s+0\.9700/)
    expect(text).toMatch(/cpu\s+Test CPU/)
    expect(text).toContain('feature_schema')
    expect(text).toMatch(/confusion matrix \(rows: actual, columns: predicted\):\n\s+setosa\s+versicolor\s+virginica\n\s+setosa\s+10\s+0\s+0/)
    expect(text).not.toContain('\nother\n')
  })

  it('shows fields it does not know under other', () => {
    const record = makeRecord({ runId: '20260101T100000.000Z-ffffff', extra: { team: { owner: 'ana' } } })
    expect(formatRecord(record)).toMatch(/\nother\n\s+team\.owner\s+ana/)
  })
})
