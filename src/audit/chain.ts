import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AuditEvent, ChainLink, UnchainedEvent } from './types.js';

export const GENESIS = '0'.repeat(64);

export function eventHash(prev: string, event: Omit<AuditEvent, 'chain'> & { chain: Omit<ChainLink, 'hash' | 'sig'> }): string {
  return createHash('sha256').update(prev).update('\n').update(canonicalJson(event)).digest('hex');
}

/** RFC 7638 thumbprint of an Ed25519 public key. */
export function ed25519Thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { crv: string; kty: string; x: string };
  return createHash('sha256').update(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`).digest('base64url');
}

/**
 * Links events into one hash chain per gateway instance and signs each link. Assignment is synchronous, so the
 * order of `link` calls is the chain's order; callers write events in that same order.
 */
export class ChainSigner {
  readonly keyId: string;
  readonly #key: KeyObject;
  readonly #instance: string;
  #epoch: string;
  #seq: number;
  #prev: string;

  constructor(privateKey: KeyObject, instance: string, resume?: AuditEvent) {
    this.#key = privateKey;
    this.keyId = ed25519Thumbprint(createPublicKey(privateKey));
    this.#instance = instance;
    if (resume && resume.chain.instance === instance) {
      this.#epoch = resume.chain.epoch;
      this.#seq = resume.chain.seq + 1;
      this.#prev = resume.chain.hash;
    } else {
      this.#epoch = new Date().toISOString();
      this.#seq = 0;
      this.#prev = GENESIS;
    }
  }

  get position(): { epoch: string; seq: number; prev: string } {
    return { epoch: this.#epoch, seq: this.#seq, prev: this.#prev };
  }

  /**
   * Links `events` after the current position without moving it: a batch takes its place in the chain only once
   * it is durable (`commit`). A batch the sink refused is drafted again from the same position, so a failed write
   * consumes no sequence number and the next durable event links to the last durable one.
   */
  draft(events: readonly UnchainedEvent[]): AuditEvent[] {
    let seq = this.#seq;
    let prev = this.#prev;
    return events.map((event) => {
      const partial = { instance: this.#instance, epoch: this.#epoch, seq, prev, key_id: this.keyId };
      const hash = eventHash(prev, { ...event, chain: partial });
      const sig = sign(null, Buffer.from(hash, 'hex'), this.#key).toString('base64url');
      seq += 1;
      prev = hash;
      return { ...event, chain: { ...partial, hash, sig } };
    });
  }

  /** Moves the position past `last`, the final event of a drafted batch that is now recorded. */
  commit(last: AuditEvent): void {
    if (last.chain.instance !== this.#instance || last.chain.epoch !== this.#epoch || last.chain.seq < this.#seq) {
      throw new Error(`chain position ${this.#seq} cannot move to ${last.chain.instance}/${last.chain.seq}: commit only drafted events, in order`);
    }
    this.#seq = last.chain.seq + 1;
    this.#prev = last.chain.hash;
  }

  /** Drafts and commits one event (for writers that cannot fail, e.g. tests building a chain). */
  link(event: UnchainedEvent): AuditEvent {
    const [chained] = this.draft([event]) as [AuditEvent];
    this.commit(chained);
    return chained;
  }
}

/** Checks one event's own hash and, when a key is given, its signature. */
export function checkEvent(event: AuditEvent, publicKey?: KeyObject): { hashOk: boolean; sigOk: boolean | null } {
  const { hash, sig, ...rest } = event.chain;
  const expected = eventHash(rest.prev, { ...event, chain: rest });
  const hashOk = expected === hash;
  if (!publicKey) return { hashOk, sigOk: null };
  let sigOk: boolean;
  try {
    sigOk = verify(null, Buffer.from(hash, 'hex'), publicKey, Buffer.from(sig, 'base64url'));
  } catch {
    sigOk = false;
  }
  return { hashOk, sigOk };
}

export function loadEd25519PrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit signing key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}
