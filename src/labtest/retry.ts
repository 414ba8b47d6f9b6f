// `within`: a test tried again until it passes or its time has passed, for state that settles
// (a route learned, an address past duplicate address detection). The clock is passed in, so
// the logic is unit-tested without waiting.
import type { Outcome } from './outcome.js';

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Settles after ms, or at once when signal is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
    }),
};

/** The pause between two tries: a probe that fails at once (no route) is not run in a tight loop. */
export const RETRY_PAUSE_MS = 500;

export interface Tried {
  outcome: Outcome;
  tries: number;
}

/**
 * Runs attempt until its outcome is accepted, or until withinSeconds have passed since the first
 * try (a try started in time runs to its end). undefined: one try. The last outcome is returned;
 * when it is not accepted after several tries, its why says how many and for how long.
 */
export async function tryWithin(
  attempt: () => Promise<Outcome>,
  accept: (outcome: Outcome) => boolean,
  withinSeconds: number | undefined,
  options: { clock?: Clock; signal?: AbortSignal; pauseMs?: number } = {},
): Promise<Tried> {
  const { clock = realClock, signal, pauseMs = RETRY_PAUSE_MS } = options;
  const started = clock.now();
  for (let tries = 1; ; tries++) {
    const outcome = await attempt();
    if (withinSeconds === undefined || accept(outcome) || signal?.aborted) return { outcome, tries };
    const elapsed = clock.now() - started;
    if (elapsed + pauseMs >= withinSeconds * 1000) {
      const seconds = Number((elapsed / 1000).toFixed(1));
      return { outcome: { ...outcome, why: `${outcome.why} (still after ${tries} ${tries === 1 ? 'try' : 'tries'} in ${seconds} s, within ${withinSeconds} s)` }, tries };
    }
    await clock.sleep(pauseMs, signal);
    if (signal?.aborted) return { outcome, tries };
  }
}
