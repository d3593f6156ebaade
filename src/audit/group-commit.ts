/**
 * Group commit: callers enqueue items and get a promise; one flush at a time writes everything queued so far
 * in one batch (one write + fsync, or one Kafka request). Under load this turns N durable writes into a few,
 * while a lone request still waits for exactly one round.
 *
 * An item nobody waits on (an allowed call's completion event) may be deferred: it starts no flush of its own for
 * `deferMs`, so the next item that is waited on (the next call's decision) carries it in the same write. Order is
 * kept: a deferred item is still written before anything queued after it.
 */
export class GroupCommit<T> {
  readonly #flush: (items: T[]) => Promise<void>;
  readonly #maxBatch: number;
  #queue: { item: T; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #running = false;
  #draining: Promise<void> = Promise.resolve();
  #deferred: NodeJS.Timeout | undefined;

  constructor(flush: (items: T[]) => Promise<void>, maxBatch = 1000) {
    this.#flush = flush;
    this.#maxBatch = maxBatch;
  }

  get depth(): number {
    return this.#queue.length;
  }

  /** Enqueues `items`; resolves when their batch is written. `deferMs`: start no flush for them before that long. */
  push(items: readonly T[], deferMs?: number): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    const done = items.map(
      (item) => new Promise<void>((resolve, reject) => this.#queue.push({ item, resolve, reject })),
    );
    if (deferMs === undefined) this.#start();
    else if (!this.#running && this.#deferred === undefined) {
      this.#deferred = setTimeout(() => this.#start(), deferMs);
    }
    return Promise.all(done).then(() => undefined);
  }

  /** Writes whatever is queued, deferred items included; resolves when the queue is empty (e.g. before closing). */
  async flush(): Promise<void> {
    this.#start();
    await this.#draining;
  }

  #start(): void {
    clearTimeout(this.#deferred);
    this.#deferred = undefined;
    if (!this.#running && this.#queue.length > 0) this.#draining = this.#drain();
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
