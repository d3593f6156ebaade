import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../policy/simulate-cli.js';
import { auditPubkey, auditTail, auditVerify, UsageError } from '../../src/cli/audit.js';

type Command = (argv: string[], out: Writable) => number | Promise<number>;

const run = (command: Command, args: string[]) => runCommand(command, args);

describe('toolgate audit: what a user can get wrong is a usage error saying what to give', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-audit-cli-'));
  const write = (name: string, text: string): string => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const log = write('audit.jsonl', '');
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const edPem = write('ed.pem', ed.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
  const edPub = write('ed.pub.pem', ed.publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const ecPem = write('ec.pem', ec.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);

  it('an audit file that is missing or a directory', async () => {
    for (const command of [auditTail, auditVerify]) {
      await expect(run(command, ['--file', join(dir, 'absent.jsonl')])).rejects.toThrow(UsageError);
      await expect(run(command, ['--file', join(dir, 'absent.jsonl')])).rejects.toThrow(/--file .*absent\.jsonl cannot be read \(ENOENT\): give the gateway's audit log/);
      await expect(run(command, ['--file', dir])).rejects.toThrow(/cannot be read \(EISDIR\)/);
    }
  });

  it('keys that are missing, not keys, or not Ed25519', async () => {
    const verify = (...args: string[]) => run(auditVerify, ['--file', log, ...args]);
    await expect(verify('--key', join(dir, 'absent.pem'))).rejects.toThrow(/--key .* cannot be read \(ENOENT\): give the gateway's audit key as PEM/);
    await expect(verify('--key', write('not-pem.json', '{"kty":"OKP"}'))).rejects.toThrow(/is not a PEM key/);
    await expect(verify('--key', ecPem)).rejects.toThrow(/is an ec key, and audit events are signed with Ed25519/);
    await expect(verify('--keys', write('bad.json', '{'))).rejects.toThrow(/--keys .* is not JSON/);
    await expect(verify('--keys', write('object.json', '{"keys":{}}'))).rejects.toThrow(/has no "keys" array/);
    await expect(verify('--keys', write('null.json', 'null'))).rejects.toThrow(/has no "keys" array/);
    await expect(verify('--keys', write('bad-jwk.json', '{"keys":[{"kty":"EC"}]}'))).rejects.toThrow(/keys\[0\] is not a public JWK/);
    const ecJwk = JSON.stringify({ keys: [ec.publicKey.export({ format: 'jwk' })] });
    await expect(verify('--keys', write('ec-jwks.json', ecJwk))).rejects.toThrow(/keys\[0\] is an ec key/);
    await expect(run(auditPubkey, ['--key-file', join(dir, 'absent.pem')])).rejects.toThrow(/--key-file .* cannot be read \(ENOENT\)/);
    await expect(run(auditPubkey, ['--key-file', ecPem])).rejects.toThrow(/is an ec key/);
  });

  it('takes an Ed25519 key as private PEM, public PEM or JWKS', async () => {
    const jwks = JSON.parse((await run(auditPubkey, ['--key-file', edPem])).out) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(1);
    expect(JSON.parse((await run(auditPubkey, ['--key-file', edPub])).out)).toEqual(jwks);
    for (const args of [['--key', edPem], ['--key', edPub], ['--keys', write('ed-jwks.json', JSON.stringify(jwks))]]) {
      expect((await run(auditVerify, ['--file', log, ...args])).code).toBe(0);
    }
  });

  it('lines that are JSON but not events are unreadable to verify and printed as they are by tail', async () => {
    const file = write('odd.jsonl', ['5', '[]', 'null', '"x"', '{"type":5,"reasons":[1,null,{"code":{}}],"tool":"t","agent":[],"chain":"c"}', ''].join('\n'));
    const verified = await run(auditVerify, ['--file', file]);
    expect(verified.out).toMatch(/^FAILED: 5 events, 0 decisions, 0 chain\(s\), 5 unreadable/);
    expect(verified.code).toBe(1);
    const tail = await run(auditTail, ['--file', file]);
    expect(tail.code).toBe(0);
    expect(tail.out.split('\n').slice(0, 4)).toEqual(['5', '[]', 'null', '"x"']);
    expect(tail.out).toMatch(/^- 5 +- +- agent=- reasons=-,-,\{\} id=- seq=-$/m);
  });

  it('tail prints any JSON object as a line, never throwing on a member of an unexpected type', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.dictionary(fc.constantFrom('type', 'timestamp', 'outcome', 'tool', 'agent', 'reasons', 'decision_id', 'chain', 'x'), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 5 }), async (events) => {
        const file = write('any.jsonl', `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
        const { code, out } = await run(auditTail, ['--file', file]);
        expect(code).toBe(0);
        expect(out.split('\n')).toHaveLength(events.length + 1);
      }),
      { numRuns: 150 },
    );
  });
});
