// The signature as a zod schema: manifests and model files are checked against it when loaded.
import { z } from 'zod'
import { DATE_FORMATS, DATETIME_PARTS } from '../../data/index.js'

const label = z.union([z.string(), z.number()])
const missing = z.boolean().describe('whether training saw missing values of this feature')

export const signatureSchema = z
  .strictObject({
    features: z
      .array(
        z.discriminatedUnion('type', [
          z.strictObject({
            name: z.string().min(1),
            type: z.literal('number'),
            missing: missing.optional(),
            datetime: z
              .strictObject({ column: z.string().min(1), part: z.enum(DATETIME_PARTS), format: z.enum(['iso', ...DATE_FORMATS]).optional() })
              .optional()
              .describe('a part of a datetime input column, and the format that column is written in'),
          }),
          z.strictObject({ name: z.string().min(1), type: z.literal('boolean'), missing: missing.optional() }),
          z.strictObject({
            name: z.string().min(1),
            type: z.literal('category'),
            categories: z.array(label).min(1).max(255).describe('the categories, in code order: a value of this feature is an index into them'),
            other: z
              .strictObject({ category: label, values: z.array(label) })
              .optional()
              .describe('rare values folded in training into the category `category` (one of `categories`)'),
            missing: missing.optional(),
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
    read: z
      .strictObject({ missing_values: z.array(z.string()), decimal: z.enum(['.', ',']) })
      .optional()
      .describe('how text input is read: the cells that are missing values, and the decimal separator'),
  })
  .describe('what a model takes and gives')
