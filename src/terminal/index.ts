// What a terminal gets: colour only on a TTY, and never with NO_COLOR (any non-empty value, no-color.org) or
// TERM=dumb. The one place the rule lives: the check report, the pipeline's progress and `mlskel new` ask here.
import { styleText } from 'node:util'

type Style = Parameters<typeof styleText>[0]

/** Whether to colour what goes to `stream`. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb'
}

/** A painter for `stream`: styles text when the stream takes colour, returns it as it is otherwise. */
export function painter(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): (style: Style, text: string) => string {
  const color = wantsColor(stream, env)
  return (style, text) => (color ? styleText(style, text) : text)
}
