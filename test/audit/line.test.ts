import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChainSigner, FileSink, auditLine, canonicalAround, canonicalJson, checkEvent, type AuditEvent } from '../../src/audit/index.js';
import { auditKey, event } from './support/chain-check.js';

// One serialisation per event: the chain hashes the canonical text around the event's chain link and writes the
// same text with the signed link. These pin that the two agree with the plain canonical form and with verify.
describe('one canonical serialisation per event', () => {
  it('the text around a member, with the member put back, is the canonical JSON of the whole record', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), fc.constantFrom('chain', '', 'm', '\uffff'), (record, value, key) => {
        const { before, after } = canonicalAround(record, key);
        const member = `${JSON.stringify(key)}:${canonicalJson(value)}`;
        expect(`{${[before, member, after].filter(Boolean).join(',')}}`).toBe(canonicalJson({ ...record, [key]: value }));
      }),
      { numRuns: 300 },
    );
  });

  it('the audit file holds each chained event in canonical member order with its chain link last, and each line verifies as written', async () => {
    const { privateKey, keys } = auditKey();
    const [key] = [...keys.values()];
    const file = join(mkdtempSync(join(tmpdir(), 'tg-line-')), 'audit.jsonl');
    const sink = new FileSink(file);
    await sink.open();
    const drafted = new ChainSigner(privateKey, 'gw-1').draft([
      { ...event('a'), input: { z: 1, a: [{ y: 'ü', b: null }] }, outcome: 'allow' } as never,
      { ...event('b'), reasons: [{ code: 'x', message: '"q"\n' }] } as never,
    ]);
    await sink.write(drafted);
    await sink.close();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    // Members in canonical order, the chain link last (where JSON.stringify of a chained event put it).
    expect(lines).toEqual(drafted.map(({ chain, ...body }) => `${canonicalJson(body).slice(0, -1)},"chain":${canonicalJson(chain)}}`));
    expect(lines).toEqual(drafted.map((e) => auditLine(e)));
    for (const line of lines) expect(checkEvent(JSON.parse(line) as AuditEvent, key).hashOk).toBe(true);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(JSON.parse(JSON.stringify(drafted)));
  });

  it('an event the chain did not produce (read back from a spool) is written as JSON.stringify writes it', () => {
    const parsed = JSON.parse('{"b":1,"a":2}') as AuditEvent;
    expect(auditLine(parsed)).toBe('{"b":1,"a":2}');
  });
});

describe('the remembered line', () => {
  it('is not inherited by an edited copy of a chained event', () => {
    const { privateKey } = auditKey();
    const [chained] = new ChainSigner(privateKey, 'gw-1').draft([event('a')]);
    const edited = { ...chained!, decision_id: 'b' } as AuditEvent;
    expect(auditLine(edited)).toBe(JSON.stringify(edited));
    expect(JSON.parse(auditLine(chained!))).toMatchObject({ decision_id: 'a' });
  });
});
