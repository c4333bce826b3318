// The signature as a zod schema: manifests and model files are checked against it when loaded.
import { z } from 'zod'

const label = z.union([z.string(), z.number()])

export const signatureSchema = z
  .strictObject({
    features: z
      .array(
        z.discriminatedUnion('type', [
          z.strictObject({ name: z.string().min(1), type: z.literal('number') }),
          z.strictObject({
            name: z.string().min(1),
            type: z.literal('category'),
            categories: z.array(label).min(1).max(255).describe('the categories, in code order: a value of this feature is an index into them'),
          }),
        ]),
      )
      .min(1)
      .describe('the model\'s inputs, in column order'),
    target: z
      .union([
        z.strictObject({ name: z.string().min(1), type: z.literal('category'), classes: z.array(label).min(1).describe('class labels, in the order of predicted probabilities') }),
        z.strictObject({ name: z.string().min(1), type: z.literal('number') }),
      ])
      .describe('what the model predicts'),
  })
  .describe('what a model takes and gives')
