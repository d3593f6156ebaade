import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ed25519, type Ed25519 } from '../identity/ed25519.js';
import { canonicalAround, canonicalJson } from './canonical.js';
import { rememberLine } from './line.js';
import { AUDIT_SCHEMA_V1, type AuditEvent, type ChainLink, type UnchainedEvent } from './types.js';

export const GENESIS = '0'.repeat(64);

type UnsignedLink = Omit<ChainLink, 'hash' | 'sig'>;

export function eventHash(prev: string, event: Omit<AuditEvent, 'chain'> & { chain: UnsignedLink }): string {
  return hashText(prev, canonicalJson(event));
}

function hashText(prev: string, canonical: string): string {
  return createHash('sha256').update(prev).update('\n').update(canonical).digest('hex');
}

/** RFC 7638 thumbprint of an Ed25519 public key. */
export function ed25519Thumbprint(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { crv: string; kty: string; x: string };
  return createHash('sha256').update(`{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`).digest('base64url');
}

export interface ChainSignerOptions {
  /** Ed25519 implementation. Default: the process's (libsodium, or node:crypto when it cannot load). */
  readonly ed25519?: Ed25519;
}

/**
 * Links events into one hash chain per gateway instance and signs checkpoints: the last event of each drafted
 * batch (one durable write) carries the signature of its hash, which covers every earlier event through the links.
 * Assignment is synchronous, so the order of `draft` calls is the chain's order; callers write events in that order.
 */
export class ChainSigner {
  readonly keyId: string;
  readonly #sign: (message: Uint8Array) => Buffer;
  readonly #instance: string;
  #epoch: string;
  #seq: number;
  #prev: string;

  constructor(privateKey: KeyObject, instance: string, resume?: AuditEvent, options: Readonly<ChainSignerOptions> = {}) {
    this.#sign = (options.ed25519 ?? ed25519()).signer(privateKey);
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
   * consumes no sequence number and the next durable event links to the last durable one. The batch's last event
   * is the checkpoint: one signature per durable write instead of one per event.
   *
   * Each event's body is serialised once: its canonical members are both the hash input (with the unsigned link in
   * place) and, followed by the signed link, the line sinks write (line.ts).
   */
  draft(events: readonly UnchainedEvent[]): AuditEvent[] {
    let seq = this.#seq;
    let prev = this.#prev;
    const last = events.length - 1;
    return events.map((event, i) => {
      const partial: UnsignedLink = { instance: this.#instance, epoch: this.#epoch, seq, prev, key_id: this.keyId };
      const { before, after } = canonicalAround(event as unknown as Record<string, unknown>, 'chain');
      const hash = hashText(prev, `{${before}${before ? ',' : ''}"chain":${canonicalJson(partial)}${after ? ',' : ''}${after}}`);
      const link: ChainLink = i === last ? { ...partial, hash, sig: this.#sign(Buffer.from(hash, 'hex')).toString('base64url') } : { ...partial, hash };
      const chained: AuditEvent = { ...event, chain: link };
      // The line keeps the chain link last, where it always was (members in key order before it).
      const body = before && after ? `${before},${after}` : before || after;
      rememberLine(chained, `{${body}${body ? ',' : ''}"chain":${canonicalJson(link)}}`);
      seq += 1;
      prev = hash;
      return chained;
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

/**
 * Checks one event's own hash and, when a key is given, its signature: `sigOk` is null without a key or when the
 * event carries no signature (a v2 event inside a batch, covered by its batch's checkpoint), false when the
 * signature is wrong or a v1 event, which must be signed, has none.
 */
export function checkEvent(event: AuditEvent, publicKey?: KeyObject, backend: Ed25519 = ed25519()): { hashOk: boolean; sigOk: boolean | null } {
  const { hash, sig, ...rest } = event.chain;
  const expected = eventHash(rest.prev, { ...event, chain: rest });
  const hashOk = expected === hash;
  if (!publicKey) return { hashOk, sigOk: null };
  if (sig === undefined) return { hashOk, sigOk: event.schema === AUDIT_SCHEMA_V1 ? false : null };
  try {
    return { hashOk, sigOk: typeof sig === 'string' && verifierFor(publicKey, backend)(Buffer.from(hash, 'hex'), Buffer.from(sig, 'base64url')) };
  } catch {
    return { hashOk, sigOk: false }; // not an Ed25519 key
  }
}

// Verifiers bound to a key, so a verify run unpacks each gateway key once, not per event.
const verifiers = new WeakMap<KeyObject, WeakMap<Ed25519, (message: Uint8Array, signature: Uint8Array) => boolean>>();

function verifierFor(key: KeyObject, backend: Ed25519): (message: Uint8Array, signature: Uint8Array) => boolean {
  let byBackend = verifiers.get(key);
  if (!byBackend) verifiers.set(key, (byBackend = new WeakMap()));
  let verify = byBackend.get(backend);
  if (!verify) byBackend.set(backend, (verify = backend.verifier(key)));
  return verify;
}

export function loadEd25519PrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit signing key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}
