// Waiting on a word of shared memory for another thread to change it. Atomics.notify wakes whoever waits on the
// word at that moment, including a waiter the notify was not meant for: a thread that changes the word and then
// notifies may be descheduled in between; the waiter, spinning, sees the change without sleeping, does its work and
// waits again, and the late notify then wakes it with nothing new. That is how the boosting worker (gradient-team)
// ran a command a second time (a histogram subtracted twice; itself counted done for a command it had not started),
// so a threaded model differed from the one-thread model now and then, under load. A stress of the lock-step alone,
// with the notifier held 50 µs between its store and its notify: 67 repeated commands in 20,000. As with a futex,
// every wait is a loop on its condition.

/**
 * Block until `words[index]` is no longer `value`, spinning `spin` loads first (a change that comes within a few
 * hundred µs is seen sooner than a sleeping thread wakes); returns the word's new value.
 */
export function waitForChange(words: Int32Array, index: number, value: number, spin = 0): number {
  let now = Atomics.load(words, index)
  for (let i = 0; i < spin && now === value; i++) now = Atomics.load(words, index)
  while (now === value) {
    Atomics.wait(words, index, value)
    now = Atomics.load(words, index)
  }
  return now
}
