import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { auditVerify } from '../../../src/cli/audit.js';
import { ed25519Thumbprint, verifyEvents, type AuditEvent, type UnchainedEvent, type VerifyReport } from '../../../src/audit/index.js';

/** A gateway audit key and the verifier's view of it. */
export function auditKey(): { privateKey: KeyObject; keys: Map<string, KeyObject> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, keys: new Map([[ed25519Thumbprint(publicKey), publicKey]]) };
}

/** The smallest event the chain and the verifier care about. */
export const event = (id: string): UnchainedEvent => ({ decision_id: id }) as unknown as UnchainedEvent;

/**
 * Every line of a JSONL file as `audit verify --file` reads it (an unparseable line is `null`, counted unreadable),
 * and the verifier's report.
 */
export function verifyFile(path: string, keys: ReadonlyMap<string, KeyObject>): { events: AuditEvent[]; report: VerifyReport } {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as AuditEvent;
    } catch {
      return null;
    }
  });
  return { events: parsed.filter((e): e is AuditEvent => e !== null), report: verifyEvents(parsed, keys) };
}

/** `toolgate audit verify --file F --key K`: exit code and output. */
export async function cliVerify(file: string, keyFile: string): Promise<{ code: number; out: string }> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const code = await auditVerify(['--file', file, '--key', keyFile], out);
  return { code, out: Buffer.concat(chunks).toString() };
}
