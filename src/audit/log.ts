import type { KeyObject } from 'node:crypto';
import { ChainSigner } from './chain.js';
import type { AuditEvent, AuditSink, UnchainedEvent } from './types.js';

/** The audit stage: chains, signs and durably writes events, in the order `record` is called. */
export class AuditLog {
  readonly sink: AuditSink;
  readonly #signer: ChainSigner;

  private constructor(sink: AuditSink, signer: ChainSigner) {
    this.sink = sink;
    this.#signer = signer;
  }

  static async open(sink: AuditSink, key: KeyObject, instance: string): Promise<AuditLog> {
    await sink.open();
    const last = await sink.lastEvent?.(instance);
    return new AuditLog(sink, new ChainSigner(key, instance, last));
  }

  get keyId(): string {
    return this.#signer.keyId;
  }

  /** Resolves when the event is durable; rejects with UnavailableError when the sink cannot take it. */
  record(event: UnchainedEvent): Promise<AuditEvent> {
    const chained = this.#signer.link(event);
    return this.sink.write([chained]).then(() => chained);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
