/**
 * Group commit: callers enqueue items and get a promise; one flush at a time writes everything queued so far
 * in one batch (one write + fsync, or one Kafka request). Under load this turns N durable writes into a few,
 * while a lone request still waits for exactly one round.
 */
export class GroupCommit<T> {
  readonly #flush: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  #queue: { item: T; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #running = false;

  constructor(flush: (items: T[]) => Promise<void>, maxBatch = 1000) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  get depth(): number {
    return this.#queue.length;
  }

  push(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const done = items.map(
      (item) => new Promise<void>((resolve, reject) => this.#queue.push({ item, resolve, reject })),
    );
    if (!this.#running) void this.#drain();
    return Promise.all(done).then(() => undefined);
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        try {
          await this.#flush(batch.map((b) => b.item));
          for (const b of batch) b.resolve();
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
