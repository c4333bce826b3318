// random_forest: the model contract, and each hyper-parameter honoured.
import { describe } from 'vitest'
import { runModelContract } from '../contract/test-contract.js'
import { trainRandomForest } from '../index.js'

runModelContract({ kind: 'random_forest', train: (o) => trainRandomForest({ ...o, hyperParameters: { n_estimators: 10, n_jobs: o.nJobs } }) })

describe.todo('random_forest hyper-parameters')
