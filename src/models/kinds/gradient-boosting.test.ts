// gradient_boosting: the model contract, and each hyper-parameter honoured.
import { describe } from 'vitest'
import { runModelContract } from '../contract/test-contract.js'
import { trainGradientBoosting } from '../index.js'

runModelContract({ kind: 'gradient_boosting', train: (o) => trainGradientBoosting({ ...o, hyperParameters: { max_iter: 15, min_samples_leaf: 5, n_jobs: o.nJobs } }) })

describe.todo('gradient_boosting hyper-parameters')
