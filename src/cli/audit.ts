import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ed25519Thumbprint } from '../audit/chain.js';
import { readTopic } from '../audit/topic-reader.js';
import { completeLength } from '../audit/torn-tail.js';
import { DEFAULT_AUDIT_TOPIC, type AuditEvent } from '../audit/types.js';
import { verifyEvents } from '../audit/verify.js';
import { parseEventLine } from '../audit/line.js';

const sourceOptions = {
  file: { type: 'string' },
  brokers: { type: 'string' },
  topic: { type: 'string' },
  keys: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
} as const;

/** A file's text, or a UsageError naming the flag, the file, why it could not be read and what to give. */
function readText(flag: string, file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`${flag} ${file} cannot be read (${describe(cause)}): give ${what}.`);
  }
}

const describe = (cause: unknown): string => (cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause));

const AUDIT_KEY_PEM = 'the gateway\'s audit key as PEM, private or public (.toolgate/audit-ed25519.pem by default; `toolgate audit pubkey` prints the public half as a JWKS)';
const AUDIT_JWKS = 'a JWKS of the gateway audit keys (`toolgate audit pubkey` writes one)';

/** An Ed25519 public key from PEM text (a private key's public half), or a UsageError saying what to give. */
function pemPublicKey(flag: string, file: string, pem: string): KeyObject {
  let pub: KeyObject;
  try {
    pub = pem.includes('PRIVATE') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  } catch (cause) {
    throw new UsageError(`${flag} ${file} is not a PEM key (${describe(cause)}): give ${AUDIT_KEY_PEM}.`);
  }
  if (pub.asymmetricKeyType !== 'ed25519') throw new UsageError(`${flag} ${file} is an ${pub.asymmetricKeyType ?? 'unknown'} key, and audit events are signed with Ed25519: give ${AUDIT_KEY_PEM}.`);
  return pub;
}

/** Gateway public keys from a JWKS file (`--keys`) or a PEM private/public key (`--key`), by thumbprint. */
function loadKeys(values: { keys?: string; key?: string }): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  if (values.keys) {
    let jwks: unknown;
    try {
      jwks = JSON.parse(readText('--keys', values.keys, AUDIT_JWKS));
    } catch (cause) {
      if (cause instanceof UsageError) throw cause;
      throw new UsageError(`--keys ${values.keys} is not JSON (${describe(cause)}): give ${AUDIT_JWKS}.`);
    }
    const list = (jwks as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw new UsageError(`--keys ${values.keys} has no "keys" array: give ${AUDIT_JWKS}.`);
    for (const [i, jwk] of list.entries()) {
      let pub: KeyObject;
      try {
        pub = createPublicKey({ key: jwk as never, format: 'jwk' });
      } catch (cause) {
        throw new UsageError(`--keys ${values.keys}: keys[${i}] is not a public JWK (${describe(cause)}): give ${AUDIT_JWKS}.`);
      }
      if (pub.asymmetricKeyType !== 'ed25519') throw new UsageError(`--keys ${values.keys}: keys[${i}] is an ${pub.asymmetricKeyType ?? 'unknown'} key, and audit events are signed with Ed25519 (kty OKP, crv Ed25519).`);
      keys.set(ed25519Thumbprint(pub), pub);
    }
  }
  if (values.key) {
    const pub = pemPublicKey('--key', values.key, readText('--key', values.key, AUDIT_KEY_PEM));
    keys.set(ed25519Thumbprint(pub), pub);
  }
  return keys;
}

/**
 * Reads events from the file or the topic. A file's torn last line (bytes after its last newline: a write cut short
 * by a crash, never acknowledged, set aside by the gateway when it next opens the file) is not an event: its length
 * is returned instead.
 */
async function eachEvent(values: { file?: string; brokers?: string; topic?: string; follow?: boolean }, onEvent: (e: AuditEvent | null, raw: string) => void, signal?: AbortSignal): Promise<{ tornBytes: number }> {
  if (values.file) {
    let size: number;
    let end: number;
    try {
      const fh = await open(values.file, 'r');
      try {
        size = (await fh.stat()).size;
        end = await completeLength(fh, size);
      } finally {
        await fh.close();
      }
    } catch (cause) {
      throw new UsageError(`--file ${values.file} cannot be read (${describe(cause)}): give the gateway's audit log (.toolgate/audit.jsonl by default, TOOLGATE_AUDIT_FILE), or --brokers to read the topic.`);
    }
    if (end === 0) return { tornBytes: size };
    const lines = createInterface({ input: createReadStream(values.file, { encoding: 'utf8', end: end - 1 }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim()) continue;
      onEvent(parseEventLine(line), line);
    }
    return { tornBytes: size - end };
  }
  const brokers = (values.brokers ?? process.env.TOOLGATE_KAFKA_BROKERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (brokers.length === 0) throw new UsageError('Give --file <audit.jsonl> or --brokers host:port (or set TOOLGATE_KAFKA_BROKERS).');
  const topic = values.topic ?? process.env.TOOLGATE_AUDIT_TOPIC ?? DEFAULT_AUDIT_TOPIC;
  await readTopic({ brokers, topic, follow: values.follow ?? false, ...(signal ? { signal } : {}) }, onEvent);
  return { tornBytes: 0 };
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `toolgate audit verify`: exit code 0 only when every chain verifies. */
export async function auditVerify(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({ args: argv, options: sourceOptions, strict: true });
  const keys = loadKeys(values);
  const events: (AuditEvent | null)[] = [];
  const { tornBytes } = await eachEvent(values, (e) => events.push(e));
  const report = verifyEvents(events, keys);
  if (values.json) {
    out.write(`${JSON.stringify({ ...report, tornBytes }, null, 2)}\n`);
  } else {
    out.write(`${report.ok ? 'OK' : 'FAILED'}: ${events.length} events, ${report.decisionIds} decisions, ${report.chains.length} chain(s), ${report.unreadable} unreadable\n`);
    if (tornBytes) out.write(`  torn last line: ${tornBytes} bytes after the last complete event (a write cut short by a crash, never acknowledged, so no call ran on it); the gateway sets it aside as <file>.torn-<time> when it next opens the file\n`);
    for (const c of report.chains) {
      const problems = [
        c.gaps.length && `gaps ${c.gaps.map((g) => (g.from === g.to ? g.from : `${g.from}-${g.to}`)).join(',')}`,
        c.brokenLinks.length && `broken links at ${c.brokenLinks.join(',')}`,
        c.reordered.length && `reordered ${c.reordered.join(',')}`,
        c.badHashes.length && `bad hashes ${c.badHashes.join(',')}`,
        c.badSignatures.length && `bad signatures ${c.badSignatures.join(',')}`,
        c.uncovered.length && `${c.uncovered.length} event(s) after the last signature, covered by no checkpoint (seq ${c.uncovered[0]}..${c.uncovered[c.uncovered.length - 1]}): the last batch of a gateway stopped mid-write (its next write covers them; start it again) or events appended without the key`,
        c.duplicates.length && `${c.duplicates.length} duplicate(s) ignored`,
        c.unknownKeys.length && `${c.unknownKeys.length} signature(s) unchecked (key not given: pass --keys or --key)`,
      ].filter(Boolean);
      out.write(`  ${c.instance} epoch ${c.epoch}: seq ${c.firstSeq}..${c.lastSeq}, ${c.events} events, ${c.checkpoints} signed${problems.length ? `; ${problems.join('; ')}` : ''}\n`);
    }
  }
  return report.ok ? 0 : 1;
}

/** `toolgate audit tail`: prints events as JSON lines; `--follow` keeps reading. */
export async function auditTail(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({ args: argv, options: sourceOptions, strict: true });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  await eachEvent(values, (e, raw) => {
    out.write(values.json || !e ? `${raw}\n` : `${tailLine(e)}\n`);
  }, controller.signal);
  return 0;
}

/**
 * One event as `audit tail` prints it. Every member is read as untrusted: a line may be any JSON object (a foreign
 * or damaged record), so nothing here assumes a member's type.
 */
function tailLine(e: AuditEvent): string {
  const text = (v: unknown): string => (v === undefined || v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v));
  const member = (o: unknown, key: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[key] : undefined);
  const reasons = Array.isArray(e.reasons) ? e.reasons.map((r) => text(member(r, 'code'))).join(',') : '';
  return `${text(e.timestamp)} ${text(e.type).padEnd(10)} ${text(e.outcome).padEnd(17)} ${text(member(e.tool, 'name'))} agent=${text(member(e.agent, 'id'))} reasons=${reasons || '-'} id=${text(e.decision_id)} seq=${text(member(e.chain, 'seq'))}`;
}

/** `toolgate audit pubkey --key-file F`: the gateway's audit public key as a JWKS, for verifiers. */
export function auditPubkey(argv: string[], out: Writable): number {
  const { values } = parseArgs({ args: argv, options: { 'key-file': { type: 'string' } }, strict: true });
  const file = values['key-file'] ?? '.toolgate/audit-ed25519.pem';
  const pub = pemPublicKey('--key-file', file, readText('--key-file', file, AUDIT_KEY_PEM));
  const jwk = { ...(pub.export({ format: 'jwk' }) as object), kid: ed25519Thumbprint(pub), use: 'sig', alg: 'EdDSA' };
  out.write(`${JSON.stringify({ keys: [jwk] }, null, 2)}\n`);
  return 0;
}
