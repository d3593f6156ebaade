/** OPA's bundle polling: a random delay between min and max after each poll, exponential backoff after errors. */
export interface PollingOptions {
  /** Shortest wait between polls, ms (OPA: min_delay_seconds, default 60 s). */
  readonly minDelayMs: number;
  /** Longest wait between polls and the cap of the error backoff, ms (OPA: max_delay_seconds, default 120 s). */
  readonly maxDelayMs: number;
}

export const DEFAULT_POLLING: PollingOptions = { minDelayMs: 60_000, maxDelayMs: 120_000 };

/** OPA's retry base after a failed poll; the backoff grows by 1.6 per failure with ±20 % jitter, up to maxDelayMs. */
const RETRY_BASE_MS = 100;

/** The wait before the next poll: uniform in [min, max] after a good poll, backoff after `failures` failed ones. */
export function nextDelay(polling: PollingOptions, failures: number, random: () => number = Math.random): number {
  if (failures === 0) return polling.minDelayMs + (polling.maxDelayMs - polling.minDelayMs) * random();
  const backoff = Math.min(polling.maxDelayMs, RETRY_BASE_MS * 1.6 ** (failures - 1));
  return Math.min(polling.maxDelayMs, backoff * (1 + 0.2 * (2 * random() - 1)));
}

/**
 * Runs `poll` forever with OPA's delays until stopped. A poll never overlaps the previous one; its timer does not
 * keep the process alive.
 */
export class Poller {
  readonly #poll: () => Promise<boolean>;
  readonly #polling: PollingOptions;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopped = false;
  #running: Promise<void> | undefined;

  /** `poll` resolves true when it succeeded (bundle unchanged or activated), false after an error. */
  constructor(poll: () => Promise<boolean>, polling: PollingOptions) {
    this.#poll = poll;
    this.#polling = polling;
  }

  start(): void {
    this.#schedule();
  }

  /** Polls now (tests, an operator's reload), after any poll in progress. */
  async pollNow(): Promise<void> {
    while (this.#running) await this.#running;
    clearTimeout(this.#timer);
    await this.#run();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run().then(() => this.#schedule()), nextDelay(this.#polling, this.#failures));
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const running = this.#poll().then(
      (ok) => void (this.#failures = ok ? 0 : this.#failures + 1),
      () => void this.#failures++,
    );
    this.#running = running;
    await running;
    this.#running = undefined;
  }
}
