import type { KeyObject } from 'node:crypto';
import { ChainSigner } from './chain.js';
import { GroupCommit } from './group-commit.js';
import type { AuditEvent, AuditSink, TornTail, UnchainedEvent } from './types.js';

export interface AuditLogOptions {
  /** Told about torn lines the sink set aside at open (a crash mid-write). Default: none. */
  readonly logger?: { warn(message: string, fields?: Record<string, unknown>): void };
}

/**
 * How long an event recorded `later` waits for a decision's write to carry it before it is written on its own: at
 * half the pipeline's load a decision comes every 2 ms. The event is in memory that long, as it is while any write is
 * in flight; it is still written, in order, before anything recorded after it.
 */
export const COMPLETION_DEFER_MS = 3;

interface Pending {
  readonly event: UnchainedEvent;
  chained?: AuditEvent;
  acknowledged?: Promise<void>;
}

/**
 * The audit stage: chains, signs and durably writes events, in the order `record` is called. Events are linked
 * when their batch is written, not when they are recorded, and the chain moves on only after the sink took the
 * batch: a refused write consumes no sequence number and later events link to the last durable one.
 */
export class AuditLog {
  readonly sink: AuditSink;
  readonly #signer: ChainSigner;
  readonly #commit = new GroupCommit<Pending>((batch) => this.#flush(batch));

  private constructor(sink: AuditSink, signer: ChainSigner) {
    this.sink = sink;
    this.#signer = signer;
  }

  static async open(sink: AuditSink, key: KeyObject, instance: string, options: Readonly<AuditLogOptions> = {}): Promise<AuditLog> {
    await sink.open();
    for (const torn of sink.recovered?.() ?? []) {
      options.logger?.warn('audit file ended in a torn line (a write cut short by a crash, never acknowledged); it was set aside and the chain continues from the last complete event', { ...torn });
    }
    const last = await sink.lastEvent?.(instance);
    return new AuditLog(sink, new ChainSigner(key, instance, last));
  }

  get keyId(): string {
    return this.#signer.keyId;
  }

  /** Torn lines the sink set aside when it opened (for readiness and operators). */
  get recovered(): readonly TornTail[] {
    return this.sink.recovered?.() ?? [];
  }

  /**
   * Resolves when the event is durable; rejects with UnavailableError when the sink cannot take it. `later`: an
   * event no caller waits on (an allowed call's completion) starts no write of its own for COMPLETION_DEFER_MS, so
   * the next decision's write carries it: one durable write per allowed call instead of two under load.
   */
  async record(event: UnchainedEvent, options: { readonly later?: boolean } = {}): Promise<AuditEvent> {
    const pending: Pending = { event };
    await this.#commit.push([pending], options.later ? COMPLETION_DEFER_MS : undefined);
    await pending.acknowledged;
    return pending.chained as AuditEvent;
  }

  /** One batch at a time (group commit), so each is drafted from the position the previous one left. */
  async #flush(batch: Pending[]): Promise<void> {
    const chained = this.#signer.draft(batch.map((p) => p.event));
    let acknowledged: Promise<void> | undefined;
    if (this.sink.append) {
      ({ acknowledged } = await this.sink.append(chained));
      // Awaited by each caller below; this only keeps a rejection that lands first from going unhandled.
      acknowledged.catch(() => undefined);
    } else {
      await this.sink.write(chained);
    }
    this.#signer.commit(chained[chained.length - 1] as AuditEvent);
    batch.forEach((p, i) => {
      p.chained = chained[i];
      if (acknowledged) p.acknowledged = acknowledged;
    });
  }

  /** Writes what is still queued (deferred completions included), then closes the sink. */
  async close(): Promise<void> {
    await this.#commit.flush();
    return this.sink.close();
  }
}
