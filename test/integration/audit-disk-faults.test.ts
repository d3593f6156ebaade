import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { AuditLog, FileSink, SpoolSink, loadEd25519PrivateKey, verifyEvents, type AuditEvent } from '../../src/audit/index.js';
import { exampleTools } from '../../src/server/example-tools.js';
import type { ToolHandler } from '../../src/server/types.js';
import { agent } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { auditKey, cliVerify, event } from '../audit/support/chain-check.js';
import { MemorySink } from '../audit/support/memory-sink.js';

/**
 * Real disk faults, no simulated ones: the audit file on a tiny tmpfs that fills up, and a writer killed with
 * SIGKILL in the middle of a write. Each ends with `audit verify` (the CLI's code, in process) passing.
 */

/** A 64 KiB tmpfs: the audit file lives here and a filler file takes the rest. Root is needed to mount it. */
const mnt = mkdtempSync(join(tmpdir(), 'tg-tinyfs-'));
const mountError = ((): string | null => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).trim() || 'mount failed';
  }
})();

afterAll(() => {
  // Lazy: a test that failed with a file still open must not leave the mount behind.
  if (!mountError) execFileSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

/** Fills the file system to the last byte; returns the filler, whose removal frees the space again. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x2e);
  try {
    for (;;) {
      try {
        if (writeSync(fd, chunk) < chunk.length) continue;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
    for (;;) {
      try {
        if (writeSync(fd, chunk, 0, 1) === 0) break;
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

const lines = (file: string): AuditEvent[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);

describe.skipIf(mountError !== null)(`the audit file on a full disk (tmpfs${mountError ? `: skipped, cannot mount: ${mountError}` : ''})`, () => {
  let gw: TestGateway | undefined;
  afterAll(async () => {
    await gw?.close();
  });

  it('refuses allowed calls without running the tool while the disk is full, and continues the chain once it is not', async () => {
    const dir = join(mnt, 'gateway');
    mkdirSync(dir);
    const file = join(dir, 'audit.jsonl');
    let ran = 0;
    const { tools } = exampleTools();
    const read = tools['memory.read'] as ToolHandler;
    gw = await startTestGateway({ TOOLGATE_AUDIT_FILE: file }, { tools: { ...tools, 'memory.read': (args, req) => (ran++, read(args, req)) } });
    const call = agent(gw.url, gw.agents.keys['room-assistant']);
    const allowed = () => call('memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' });

    expect((await allowed()).status).toBe(200);
    expect(ran).toBe(1);

    const filler = fill(mnt);
    // The audit file's last page may still hold an event or two; the first call that does not fit must be refused.
    const answered: { status: number; reason?: string; decisionId: string | null }[] = [];
    for (let i = 0; i < 6 && !answered.some((a) => a.status === 503); i++) {
      const o = await allowed();
      answered.push({ status: o.status, reason: (o.raw.body as { reason?: string }).reason, decisionId: o.decisionId });
    }
    const refused = answered.filter((a) => a.status === 503);
    expect(refused, JSON.stringify(answered)).toHaveLength(1);
    expect(refused[0]?.reason).toBe('audit_unavailable');
    expect(ran).toBe(answered.length); // every 200 ran the tool once, the refusal did not
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    const second = await allowed();
    expect([second.status, (second.raw.body as { reason?: string }).reason]).toEqual([503, 'audit_unavailable']);
    expect(ran).toBe(answered.length);

    // While full: only complete lines, every call that ran has its allow decision, and the chain verifies.
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    const whileFull = lines(file);
    for (const a of answered.filter((x) => x.status === 200)) {
      expect(whileFull.some((e) => e.decision_id === a.decisionId && e.type === 'decision' && e.outcome === 'allow')).toBe(true);
    }
    expect(await cliVerify(file, gw.config.audit.keyFile)).toMatchObject({ code: 0 });

    rmSync(filler);
    const after = await allowed();
    expect(after.status).toBe(200);
    expect(ran).toBe(answered.length + 1);
    const keyFile = gw.config.audit.keyFile;
    await gw.close();
    gw = undefined;

    const events = lines(file);
    expect(events.some((e) => e.decision_id === after.decisionId && e.outcome === 'allow')).toBe(true);
    expect(events.map((e) => e.chain.seq)).toEqual(events.map((_, i) => i));
    const verify = await cliVerify(file, keyFile);
    expect(verify.out).toMatch(/^OK: .* 0 unreadable\n/);
    expect(verify).toMatchObject({ code: 0 });
  });

  it('the Kafka spool: refuses while full, keeps forwarding what it has, and continues the chain', async () => {
    const dir = join(mnt, 'spool');
    const { privateKey, keys } = auditKey();
    const kafka = new MemorySink();
    const spool = new SpoolSink({ dir, inner: kafka, onForwardError: () => undefined });
    const log = await AuditLog.open(spool, privateKey, 'gw-1');
    onTestFinished(() => log.close());
    await log.record(event('a'));
    const filler = fill(mnt);
    const refused: string[] = [];
    for (let i = 0; i < 40 && refused.length < 2; i++) {
      await log.record(event(`full-${i}`)).catch((error: { reason?: string }) => refused.push(error.reason ?? String(error)));
    }
    expect(refused).toEqual(['audit_unavailable', 'audit_unavailable']);
    expect(readFileSync(join(dir, 'spool.jsonl'), 'utf8').endsWith('\n')).toBe(true);
    rmSync(filler);
    const last = await log.record(event('z'));
    expect(await spool.drain()).toBe(true);
    const spooled = lines(join(dir, 'spool.jsonl'));
    expect(spooled.at(-1)?.chain.hash).toBe(last.chain.hash);
    expect(verifyEvents(spooled, keys)).toMatchObject({ ok: true, unreadable: 0 });
    expect(verifyEvents(kafka.events, keys)).toMatchObject({ ok: true, unreadable: 0 });
    expect(kafka.events.map((e) => e.chain.seq)).toEqual(spooled.map((e) => e.chain.seq));
  });
});

const CHILD = ['--import', './test/audit/support/ts-hooks.mjs', 'test/audit/support/append-child.ts'];

/** Runs the appending child until `until` says so from one of its messages, then kills it with SIGKILL. */
async function appendUntilKilled(file: string, keyFile: string, mode: 'loop' | 'tear', n: number, until: (message: { durable?: string; midWrite?: number }) => boolean): Promise<string[]> {
  const child = spawn(process.execPath, [...CHILD, file, keyFile, mode, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const durable: string[] = [];
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { durable?: string; midWrite?: number };
    if (message.durable) durable.push(message.durable);
    if (until(message)) {
      child.kill('SIGKILL');
      break;
    }
  }
  expect(await exited, stderr).toBe('SIGKILL');
  return durable;
}

describe('a writer killed with SIGKILL in the middle of a write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tg-kill-'));
  const keyFile = join(dir, 'audit-ed25519.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));

  /** Reopens the file as a restarted gateway would, appends, and checks every acknowledged event is still there. */
  async function reopenAndAppend(file: string, durable: readonly string[]) {
    const log = await AuditLog.open(new FileSink(file), loadEd25519PrivateKey(readFileSync(keyFile, 'utf8')), 'child');
    const recovered = log.recovered;
    const added = [await log.record(event('after-1')), await log.record(event('after-2'))];
    await log.close();
    const events = lines(file);
    const ids = new Set(events.map((e) => e.decision_id));
    expect(durable.filter((id) => !ids.has(id))).toEqual([]);
    expect(events.slice(-2).map((e) => e.chain.hash)).toEqual(added.map((e) => e.chain.hash));
    expect(events.map((e) => e.chain.seq)).toEqual(events.map((_, i) => i));
    const verify = await cliVerify(file, keyFile);
    expect(verify.out).toMatch(/^OK: .* 0 unreadable\n/);
    expect(verify.code).toBe(0);
    return recovered;
  }

  it('torn every time: the cut line is set aside and reported at reopen, and verify passes', async () => {
    const file = join(dir, 'tear.jsonl');
    const durable = await appendUntilKilled(file, keyFile, 'tear', 5, (m) => m.midWrite !== undefined);
    expect(durable).toHaveLength(5);
    const before = statSync(file).size;
    const recovered = await reopenAndAppend(file, durable);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ file, bytes: 16, offset: before - 16 });
    expect(readFileSync(recovered[0]!.setAside).toString()).toBe('{"decision_id":"');
  });

  it('killed at an arbitrary point of a stream of 64 KiB events: every acknowledged event survives and verify passes', async () => {
    const file = join(dir, 'loop.jsonl');
    const durable = await appendUntilKilled(file, keyFile, 'loop', 0, (m) => m.durable === 'e30');
    const recovered = await reopenAndAppend(file, durable);
    // Whether this kill tore a line is up to the scheduler; either way the file must verify.
    expect(recovered.length).toBeLessThanOrEqual(1);
  });
});

describe('a gateway restarted on an audit file with a torn last line', () => {
  it('sets the torn line aside, continues the chain from the last complete event, and verify passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-torn-gw-'));
    const env = { TOOLGATE_AUDIT_FILE: join(dir, 'audit.jsonl'), TOOLGATE_AUDIT_KEY_FILE: join(dir, 'audit.pem'), TOOLGATE_GATEWAY_ID: 'torn-gw' };
    const file = env.TOOLGATE_AUDIT_FILE;
    const first = await startTestGateway(env);
    const allowed = (gw: TestGateway) => agent(gw.url, gw.agents.keys['room-assistant'])('memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' });
    expect((await allowed(first)).status).toBe(200);
    await first.close();
    const complete = readFileSync(file);
    const lastLine = complete.subarray(complete.lastIndexOf('\n', complete.length - 2) + 1);
    const torn = lastLine.subarray(0, Math.floor(lastLine.length / 2));
    appendFileSync(file, torn);

    const second = await startTestGateway(env, { agents: first.agents });
    try {
      expect((await allowed(second)).status).toBe(200);
    } finally {
      await second.close();
    }
    const aside = readdirSync(dir).filter((f) => f.startsWith('audit.jsonl.torn-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!))).toEqual(torn);
    expect(readFileSync(file).subarray(0, complete.length)).toEqual(complete);
    const events = lines(file);
    expect(events.map((e) => e.chain.seq)).toEqual(events.map((_, i) => i));
    const verify = await cliVerify(file, env.TOOLGATE_AUDIT_KEY_FILE);
    expect(verify.out).toMatch(/^OK: .* 0 unreadable\n/);
    expect(verify.code).toBe(0);
  });
});
