import type { KeyObject } from 'node:crypto';
import { checkEvent } from './chain.js';
import { AUDIT_SCHEMA_V1, type AuditEvent } from './types.js';

export interface ChainReport {
  readonly instance: string;
  readonly epoch: string;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Missing sequence ranges, inclusive. */
  gaps: { from: number; to: number }[];
  /** Events seen more than once (same seq and hash): expected after a retried send; counted once. */
  duplicates: number[];
  /** Events that arrived after a later one of the same chain. */
  reordered: number[];
  /** Events whose `prev` is not the hash of the event before them. */
  brokenLinks: number[];
  /** Events whose content does not match their own hash (edited after signing). */
  badHashes: number[];
  badSignatures: number[];
  /** Events signed by a key we were not given (signature unchecked). */
  unknownKeys: number[];
  /** Signed events: every v1 event; in v2 the last event of each durable batch, covering the events before it. */
  checkpoints: number;
  /**
   * v2 events after the chain's last signature, which no checkpoint covers: the last batch of a gateway that
   * stopped mid-write (the next batch it writes covers them), or events appended without the key. A failure.
   */
  uncovered: number[];
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly chains: ChainReport[];
  /** Lines or messages that are not audit events at all. */
  readonly unreadable: number;
  /** Distinct decisions the events speak of (decision, completion and approval events share a decision_id). */
  readonly decisionIds: number;
}

/**
 * Verifies audit events in arrival order, per chain (gateway instance and epoch): own hash, signature, links,
 * gaps, reordering and duplicates. A v1 event must carry its own signature; a v2 event is covered by the next
 * signed event of its chain (its batch's checkpoint), so an unsigned v2 event after the last one is `uncovered`. `keys` maps a key id (RFC 7638 thumbprint) to a public key; without keys,
 * signatures are reported as unchecked rather than passed.
 */
export function verifyEvents(events: Iterable<AuditEvent | null>, keys: ReadonlyMap<string, KeyObject> = new Map()): VerifyReport {
  const chains = new Map<string, ChainReport & { hashes: Map<number, string>; prevs: Map<number, string>; maxSeq: number; unsigned: number[]; lastSigned: number }>();
  let unreadable = 0;
  const ids = new Set<string>();
  for (const e of events) {
    if (!e || typeof e !== 'object' || !e.chain || typeof e.chain.seq !== 'number') {
      unreadable++;
      continue;
    }
    ids.add(e.decision_id);
    const id = `${e.chain.instance}|${e.chain.epoch}`;
    let c = chains.get(id);
    if (!c) {
      c = {
        instance: e.chain.instance, epoch: e.chain.epoch, events: 0, firstSeq: null, lastSeq: null, gaps: [], duplicates: [], reordered: [],
        brokenLinks: [], badHashes: [], badSignatures: [], unknownKeys: [], checkpoints: 0, uncovered: [], hashes: new Map(), prevs: new Map(), maxSeq: -1,
        unsigned: [], lastSigned: -1,
      };
      chains.set(id, c);
    }
    const seq = e.chain.seq;
    if (c.hashes.get(seq) === e.chain.hash) {
      c.duplicates.push(seq);
      continue;
    }
    c.events++;
    const key = keys.get(e.chain.key_id);
    const { hashOk, sigOk } = checkEvent(e, key);
    if (!hashOk) c.badHashes.push(seq);
    if (sigOk === false) c.badSignatures.push(seq);
    if (e.chain.sig !== undefined) {
      c.checkpoints++;
      c.lastSigned = Math.max(c.lastSigned, seq);
      if (!key) c.unknownKeys.push(seq);
    } else if (e.schema !== AUDIT_SCHEMA_V1) {
      c.unsigned.push(seq);
    }
    if (c.hashes.has(seq)) c.brokenLinks.push(seq); // same seq, different content: a fork
    if (seq < c.maxSeq) c.reordered.push(seq);
    // Check the link to the predecessor, and (for out-of-order arrival) the successor's link to this event.
    const before = c.hashes.get(seq - 1);
    if (before !== undefined && before !== e.chain.prev) c.brokenLinks.push(seq);
    const afterPrev = c.prevs.get(seq + 1);
    if (afterPrev !== undefined && afterPrev !== e.chain.hash) c.brokenLinks.push(seq + 1);
    c.hashes.set(seq, e.chain.hash);
    c.prevs.set(seq, e.chain.prev);
    c.maxSeq = Math.max(c.maxSeq, seq);
    c.firstSeq = c.firstSeq === null ? seq : Math.min(c.firstSeq, seq);
    c.lastSeq = c.maxSeq;
  }
  const reports: ChainReport[] = [];
  for (const c of chains.values()) {
    if (c.firstSeq !== null) {
      let missingFrom: number | null = null;
      for (let s = c.firstSeq; s <= c.maxSeq; s++) {
        if (!c.hashes.has(s)) {
          missingFrom ??= s;
        } else if (missingFrom !== null) {
          c.gaps.push({ from: missingFrom, to: s - 1 });
          missingFrom = null;
        }
      }
    }
    // Links are checked above: an unsigned event up to the last signature is covered by it (or the run fails).
    c.uncovered = c.unsigned.filter((seq) => seq > c.lastSigned).sort((a, b) => a - b);
    const { hashes: _h, prevs: _p, maxSeq: _m, unsigned: _u, lastSigned: _l, ...report } = c;
    reports.push(report);
  }
  const ok = unreadable === 0 && reports.every((r) => !r.gaps.length && !r.reordered.length && !r.brokenLinks.length && !r.badHashes.length && !r.badSignatures.length && !r.uncovered.length);
  return { ok, chains: reports, unreadable, decisionIds: ids.size };
}
