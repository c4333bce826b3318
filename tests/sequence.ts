// The order the suite's files start in (vitest.config.ts's sequencer). The end-to-end files that use the shared
// project (tests/e2e/shared.ts) wait for its first user to make it when it is not made yet, as in a clean clone: ~40 s
// of npm installs. Two of them started side by side leave one of the two workers idle all that time; a long file that
// needs no shared project, started between them, fills it.

/**
 * `files` in the same order, except that when no independent file comes between the first two that wait for the shared
 * project, the first independent one after them is moved just before the second. Independent: an end-to-end file that
 * does not use the shared project (long enough to fill the wait), as opposed to a short unit file.
 */
export function apartFromSharedMaker<T>(files: readonly T[], usesShared: (file: T) => boolean, independent: (file: T) => boolean): T[] {
  const order = [...files]
  const users = order.flatMap((file, i) => (usesShared(file) ? [i] : []))
  if (users.length < 2) return order
  const [first, second] = users as [number, number]
  if (order.slice(first + 1, second).some(independent)) return order
  const filler = order.findIndex((file, i) => i > second && independent(file))
  if (filler < 0) return order
  const [moved] = order.splice(filler, 1)
  order.splice(second, 0, moved!)
  return order
}
