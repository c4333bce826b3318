// Kinds mlskel no longer ships: ml.js's random forests (mlskel 0.1). Their models are refused with a coded error
// that says to retrain, rather than as an unknown kind.
import { MlskelError } from '../../errors/index.js'
import type { ModelKind } from '../contract/kinds.js'

export const RETIRED_KINDS = ['ml-random-forest-classifier', 'ml-random-forest-regressor'] as const

export function retiredKind(name: string): ModelKind {
  return {
    name,
    load(_json, manifest) {
      throw new MlskelError('MLSKEL_MODEL_KIND_RETIRED', `model ${manifest.id} is a ${name} (ml.js's random forest of mlskel 0.1), which this mlskel no longer loads`, {
        where: { file: 'manifest.json', field: 'kind' },
      })
    },
  }
}
