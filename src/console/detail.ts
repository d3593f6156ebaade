import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkEvent, ed25519Thumbprint } from '../audit/chain.js';
import { verifyEvents } from '../audit/verify.js';
import type { AuditEvent } from '../audit/types.js';
import { ConfigError } from '../errors.js';
import type { AuditFeed } from './feed.js';
import type { ChainCheck } from './wire.js';

// Checkpoints come once per durable batch; a batch larger than this is not followed in memory.
const MAX_WALK = 100_000;

export function loadAuditKeys(file: string | undefined): ReadonlyMap<string, KeyObject> {
  if (file === undefined) return new Map();
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError('console_audit_key_invalid', `The console cannot read the audit key ${file} (a PEM Ed25519 key): fix the path or leave it unset to show signatures as unchecked.`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError('console_audit_key_invalid', `The audit key ${file} is ${String(key.asymmetricKeyType)}, not Ed25519: give the gateway's audit key.`);
  return new Map([[ed25519Thumbprint(key), key]]);
}

/** Checks `event`'s own hash, then walks its chain in the feed to the checkpoint that covers it. */
export function checkChain(event: AuditEvent, feed: AuditFeed, keys: ReadonlyMap<string, KeyObject>): ChainCheck {
  const c = event.chain;
  const base = { instance: c.instance, epoch: c.epoch, seq: c.seq, hash: c.hash, prev: c.prev, key_id: c.key_id };
  const { hashOk } = checkEvent(event, undefined);
  const run: AuditEvent[] = [event];
  let last = event;
  for (let seq = c.seq + 1; last.chain.sig === undefined && run.length < MAX_WALK; seq++) {
    const next = feed.at(c.instance, c.epoch, seq);
    if (next === undefined) break;
    run.push(next);
    last = next;
  }
  if (last.chain.sig === undefined) {
    // No checkpoint in memory after it: either none was written yet, or the walk hit a hole in what is kept.
    const pending = feed.lastSeq(c.instance, c.epoch) <= last.chain.seq;
    return { ...base, hash_ok: hashOk, signature: pending ? 'pending' : 'unavailable', checkpoint_seq: null };
  }
  const key = keys.get(last.chain.key_id);
  const report = verifyEvents(run, keys).chains[0];
  const linksOk = report !== undefined && report.brokenLinks.length === 0 && report.badHashes.length === 0 && report.gaps.length === 0;
  const signature = !linksOk || (report?.badSignatures.length ?? 0) > 0 ? 'bad' : key === undefined ? 'unchecked' : 'ok';
  return { ...base, hash_ok: hashOk, signature, checkpoint_seq: last.chain.seq };
}
