import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { summarizeProfiles } from '../../src/bench/profile.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 }, hitCount: 0, children });

/** A profile of `samples` (node ids) taken 100 µs apart from t = 1,000 µs. */
function write(dir: string, thread: number, nodes: ReturnType<typeof frame>[], samples: number[]): void {
  writeFileSync(join(dir, `CPU.20260101.000000.42.${thread}.00${thread + 1}.cpuprofile`), JSON.stringify({ nodes, startTime: 900, endTime: 900 + 100 * (samples.length + 1), samples, timeDeltas: samples.map(() => 100) }));
}

describe('summarizeProfiles', () => {
  it('counts each sample for the innermost frame of ours, by part, leaving out idle, waiting evaluator threads and samples outside the window', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-profile-'));
    dirs.push(dir);
    const d = 'file:///repo/dist';
    write(
      dir,
      0,
      [
        frame(1, '(root)', '', [2, 3, 6, 7]),
        frame(2, '(idle)', ''),
        frame(3, 'verify', `${d}/identity/ed25519.js`, [4]),
        frame(4, 'crypto_sign_verify_detached', 'file:///repo/node_modules/sodium-native/index.js', [5]),
        frame(5, '', ''),
        frame(6, '(garbage collector)', ''),
        frame(7, 'canonicalJson', `${d}/audit/canonical.js`),
      ],
      // t = 1000, 1100, ... : the last sample (t = 1600) lies outside the window and carries no following delta.
      [3, 4, 5, 2, 6, 7, 7],
    );
    // An evaluator thread's work counts as evaluation whichever module of ours is innermost (worker.ts, abi.ts).
    write(dir, 1, [frame(1, '(root)', '', [2]), frame(2, 'main', `${d}/policy/worker.js`, [3]), frame(3, 'evaluateBytes', `${d}/policy/abi.js`, [4]), frame(4, 'opa_eval', 'wasm://wasm/opa.wasm-0001')], [2, 2, 4, 4]);
    const s = summarizeProfiles(dir, 2, 1000, 1550);
    const parts = Object.fromEntries(s.parts.map((r) => [r.name, r.usPerCall]));
    expect(parts).toEqual({ 'signature verification (identity/)': 150, 'policy evaluation (evaluator threads)': 50, 'audit record (audit/)': 50, 'garbage collection': 50 });
    expect(s.busyUsPerCall).toBe(300);
    expect(Object.fromEntries(s.threads.map((r) => [r.name, r.usPerCall]))).toEqual({ 'main thread': 250, 'evaluator threads': 50 });
    expect(s.functions[0]).toMatchObject({ name: 'identity/ed25519 verify', usPerCall: 150, share: 0.5 });
  });
});
