#!/usr/bin/env node
// `toolgate serve` against `toolgate serve --workers 2`, both on the same Redis, under the same closed-loop load
// (autocannon, pre-signed requests, the bench's allowed e-mail call: src/bench). Rounds alternate 1, 2, 1, 2 so
// a drift of the shared machine hits both alike. Needs `npm run build` and TOOLGATE_REDIS_URL.
//
//   node scripts/bench-workers.mjs [--connections 32] [--duration 10] [--rounds 2] [--workers 2]
import console from 'node:console';
import process from 'node:process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { prepareWorkspace, BENCH_AGENT, BENCH_BODY, BENCH_PATH } from '../dist/bench/workspace.js';
import { SignedRequests } from '../dist/bench/signed-requests.js';
import { runLoad } from '../dist/bench/load.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '32' }, duration: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, workers: { type: 'string', default: '2' } } });
const redisUrl = process.env.TOOLGATE_REDIS_URL;
if (!redisUrl) {
  console.error('bench-workers: set TOOLGATE_REDIS_URL (eval "$(scripts/services.sh env)" after make services): several workers share state in Redis.');
  process.exit(2);
}
const connections = Number(values.connections);
const durationS = Number(values.duration);
const ws = await prepareWorkspace({ outDir: 'build/bench', policyBundle: 'build/policy', regoDir: 'rego' });

async function serve(workers, round) {
  const args = ['dist/cli/main.js', 'serve', ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const env = {
    ...process.env, PORT: '0', TOOLGATE_STATE_DIR: join(ws.stateDir, `w${workers}-r${round}`), TOOLGATE_AGENT_KEYS: ws.agents.jwksFile,
    TOOLGATE_POLICY_BUNDLE: ws.bundleDir, TOOLGATE_ENVIRONMENT: 'development', TOOLGATE_TIMEZONE: 'UTC', TOOLGATE_GATEWAY_ID: 'bench',
    TOOLGATE_REDIS_PREFIX: `bench-workers-${randomBytes(4).toString('hex')}:`, TOOLGATE_KAFKA_BROKERS: '', OTEL_EXPORTER_OTLP_ENDPOINT: '',
  };
  // Its log is shown only if it fails to start: autocannon abandons the calls in flight when a round ends, and the
  // gateway logs those (their completion events) when it stops right after.
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (c) => (log += c));
  const url = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${log}`)));
    createInterface({ input: child.stdout }).on('line', (l) => {
      try { const m = JSON.parse(l); if (m.listening) resolve(m.listening); } catch { /* not ours */ }
    });
  });
  return { url, stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM'); }) };
}

const results = [];
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const workers of [1, Number(values.workers)]) {
      const gw = await serve(workers, round);
      const signer = new SignedRequests(ws.agents.keys[BENCH_AGENT], `${gw.url}${BENCH_PATH}`, BENCH_BODY);
      const load = (s) => runLoad({ url: gw.url, path: BENCH_PATH, body: BENCH_BODY, connections, durationS: s, headers: signer.next });
      signer.refill(3 * 5000);
      await load(3); // warm-up: JIT, the policy's first evaluations, Redis connections
      signer.refill(durationS * 5000);
      const r = await load(durationS);
      await gw.stop();
      const row = { workers, round, rps: Math.round(r.rps), p50_ms: +r.p50Ms.toFixed(2), p99_ms: +r.p99Ms.toFixed(2), non2xx: r.non2xx, errors: r.errors, signed_inline: signer.signedInline };
      results.push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  ws.remove();
}
const mean = (w) => { const rs = results.filter((r) => r.workers === w); return rs.reduce((s, r) => s + r.rps, 0) / rs.length; };
console.log(JSON.stringify({ scaling: +(mean(Number(values.workers)) / mean(1)).toFixed(2), connections, duration_s: durationS }));
