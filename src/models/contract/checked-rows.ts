// Rows already checked against a signature, and the predictor functions that take them without checking again. A
// predictor's predict and predictProba check every row they are given (its width, a number in every column): callers
// that hand it anything keep that. The prediction API has checked each value before it encodes it (src/serve), so
// checking the encoded rows again is the second validation of the same values on its hot path; it asks for the
// kind's unchecked functions instead, by a type that says the rows were checked.
import type { Predictor } from './types.js'

declare const checkedRows: unique symbol

/**
 * Rows of a signature's width with a number in every column (NaN: missing, a category code or NaN), checked so by
 * whoever made them. Only a cast makes one (asCheckedRows): at the place that did the checking.
 */
export type CheckedRows = number[][] & { readonly [checkedRows]: true }

/** What predicts checked rows: a kind's own functions that skip the row check, or the predictor's checking ones. */
export interface CheckedRowsPredictor {
  predict(X: CheckedRows): (string | number)[]
  predictProba?(X: CheckedRows): number[][]
}

const unchecked = new WeakMap<Predictor, CheckedRowsPredictor>()

/** `rows` as checked: for the code that has checked each row against the predictor's signature, and no other. */
export function asCheckedRows(rows: number[][]): CheckedRows {
  return rows as CheckedRows
}

/**
 * For a kind: `predictor`'s predict and predictProba without their row check (the same answers for the same rows).
 * Returns the predictor.
 */
export function withUncheckedRows<P extends Predictor>(predictor: P, functions: CheckedRowsPredictor): P {
  unchecked.set(predictor, functions)
  return predictor
}

/**
 * How to predict checked rows with `predictor`: its kind's unchecked functions when the kind gives them, else its own
 * predict and predictProba (a kind of a project's own, a wrapped predictor), which check them once more.
 */
export function checkedRowsPredictor(predictor: Predictor): CheckedRowsPredictor {
  return unchecked.get(predictor) ?? predictor
}
