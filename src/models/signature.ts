// The signature as a zod schema: manifests and model files are checked against it when loaded.
import { z } from 'zod'

export const signatureSchema = z
  .strictObject({
    features: z.array(z.strictObject({ name: z.string().min(1), type: z.literal('number') })).min(1).describe('the model\'s inputs, in column order'),
    target: z
      .union([
        z.strictObject({ name: z.string().min(1), type: z.literal('category'), classes: z.array(z.union([z.string(), z.number()])).min(1).describe('class labels, in the order of predicted probabilities') }),
        z.strictObject({ name: z.string().min(1), type: z.literal('number') }),
      ])
      .describe('what the model predicts'),
  })
  .describe('what a model takes and gives')
