import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServerChild } from './children.js';
import { buildHostile, detectCpuMs, HOSTILE_SHAPES, HOSTILE_WARMUP_CALLS, searchHostileShapes, type HostileShape } from './hostile-inputs.js';
import { SignedRequests } from './signed-requests.js';
import type { HostileCase, HostileResult } from './types.js';
import { BENCH_AGENT, BENCH_BODY, BENCH_PATH, type BenchWorkspace } from './workspace.js';

/** The gateway's default body limit: every hostile body is as large as a request can be. */
export const HOSTILE_BODY_BYTES = 1024 * 1024;

/** How many of the search's slowest strings are sent, besides the fixed shapes. */
const SEARCH_KEEP = 4;

/** An email.send from the bench agent whose body text is `shape`, as long as fits in `limit` bytes of JSON. */
export function hostileBody(shape: Pick<HostileShape, 'prefix' | 'unit'>, limit = HOSTILE_BODY_BYTES): string {
  const envelope = (text: string) => JSON.stringify({ to: ['accountant@ledger-partners.example'], subject: 'Hostile input', body: text });
  const overhead = Buffer.byteLength(envelope(''));
  let chars = limit - overhead;
  for (;;) {
    const body = envelope(buildHostile(shape, chars));
    const bytes = Buffer.byteLength(body);
    if (bytes <= limit) return body;
    // Escaped or multi-byte characters take more than one byte each: shrink in proportion, at least by one.
    chars = Math.min(chars - 1, Math.floor((chars * (limit - overhead)) / (bytes - overhead)));
  }
}

/**
 * Issue 8's scenario: the worst inputs for the detectors (fixed shapes plus what a fast-check search finds this
 * run), each as a 1 MiB email.send body through the real gateway in its own process, one request at a time,
 * with the gateway's event-loop delay read around each. Any decided answer counts (a secret in the body is
 * refused with 403 after the scan); what is measured is how long the gateway's loop was held meanwhile.
 */
export async function benchHostile(workspace: BenchWorkspace, options: { readonly search: number }, log: (line: string) => void): Promise<HostileResult> {
  const searchStarted = performance.now();
  // A new seed each run, so runs together search more; it is logged so a finding can be reproduced.
  const seed = Date.now() >>> 0;
  const found = options.search > 0 ? await searchHostileShapes({ runs: options.search, sampleChars: 32 * 1024, keep: SEARCH_KEEP, seed }) : [];
  const searchMs = performance.now() - searchStarted;
  log(`hostile: searched ${options.search} generated strings (seed ${seed}) in ${Math.round(searchMs)} ms; slowest: ${found.map((f) => `${f.name} (${f.msPerMiB.toFixed(1)} ms/MiB)`).join(', ') || 'none'}`);
  // Its own state directory: the pipeline target's gateway may still hold the other one's audit file.
  const stateDir = join(workspace.dir, 'state-hostile');
  mkdirSync(stateDir, { recursive: true });
  const child = await startServerChild({ kind: 'pipeline', bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir });
  try {
    const url = `${child.url}${BENCH_PATH}`;
    const warm = new SignedRequests(workspace.agents.keys[BENCH_AGENT], url, BENCH_BODY);
    warm.refill(HOSTILE_WARMUP_CALLS);
    for (let i = 0; i < HOSTILE_WARMUP_CALLS; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...warm.next() }, body: BENCH_BODY, signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`hostile: warm-up call ${i + 1} was answered ${res.status}, not 200`);
    }
    const cases: HostileCase[] = [];
    for (const shape of [...HOSTILE_SHAPES, ...found]) {
      const body = hostileBody(shape);
      const signed = new SignedRequests(workspace.agents.keys[BENCH_AGENT], url, body);
      signed.refill(1);
      const headers = { 'content-type': 'application/json', ...signed.next() };
      const text = (JSON.parse(body) as { body: string }).body;
      const detectMs = detectCpuMs(text, 1);
      await child.loopDelay(); // starts this request's measurement
      const started = performance.now();
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(120_000) });
      await res.arrayBuffer();
      const responseMs = performance.now() - started;
      const delay = await child.loopDelay();
      cases.push({ name: shape.name, origin: shape.origin, bodyBytes: Buffer.byteLength(body), status: res.status, responseMs, loopMaxMs: delay.maxMs, loopP99Ms: delay.p99Ms, detectMs });
      log(`hostile: ${shape.name}: ${res.status} in ${responseMs.toFixed(0)} ms, gateway loop max ${delay.maxMs.toFixed(1)} ms (detectors alone ${detectMs.toFixed(1)} ms)`);
    }
    return { cases, searched: options.search, seed, searchMs, maxLoopDelayMs: Math.max(0, ...cases.map((c) => c.loopMaxMs)) };
  } finally {
    await child.stop();
  }
}
