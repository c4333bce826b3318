// How often a random forest's trees split on each feature: what the delivery report can say of a forest's use of
// its features. ml.js keeps no impurity decrease per node, so this is a count of split nodes, not an importance.
import { compileForest } from './flat-forest.js'
import type { Predictor } from './types.js'

/**
 * Per feature of the predictor's signature (in its order), the inner nodes of all trees that test it; null when the
 * predictor is not a forest that flat-forest.ts can read (another model kind, or a shape it does not recognise).
 */
export function forestSplitCounts(predictor: Predictor): number[] | null {
  const json = predictor.toJSON() as { forest?: unknown } | null
  const { signature } = predictor
  const classification = signature.target.type === 'category'
  const compiled = compileForest(json?.forest, {
    task: classification ? 'classification' : 'regression',
    features: signature.features.length,
    ...(signature.target.type === 'category' ? { classes: signature.target.classes.length } : {}),
  })
  if (!compiled.ok) return null
  const counts = new Array<number>(signature.features.length).fill(0)
  for (const column of compiled.forest.column) if (column >= 0) counts[column]!++
  return counts
}
