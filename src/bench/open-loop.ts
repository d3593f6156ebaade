import { Agent, request } from 'node:http';
import { percentile, sorted } from './stats.js';
import type { HeaderSource, LoadOutcome } from './load.js';

export interface OpenLoopSpec {
  readonly url: string;
  readonly path: string;
  readonly body: string;
  /** Requests per second, sent on a fixed schedule whatever the answers. */
  readonly rate: number;
  readonly durationS: number;
  readonly headers: HeaderSource;
}

/**
 * An open loop: request i is due at start + i / rate and is sent then (late timers send every request already
 * due), each on a free keep-alive socket or a new one. Latency counts from the due time, not the send time, so a
 * server that falls behind shows its queue instead of slowing the generator (no coordinated omission).
 * autocannon's `overallRate` is not this: each connection sends its whole second's quota at once, then waits.
 */
export function runOpenLoop(spec: OpenLoopSpec): Promise<LoadOutcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const target = new URL(spec.path, spec.url);
  const body = Buffer.from(spec.body);
  const total = Math.max(1, Math.round(spec.rate * spec.durationS));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let errors = 0;
  let done = 0;
  let sent = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      const s = sorted(latencies);
      const durationS = (performance.now() - start) / 1000;
      resolve({ rps: ok / spec.durationS, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), p999Ms: percentile(s, 99.9), ok, non2xx: Object.values(statuses).reduce((a, b) => a + b, 0), errors, durationS, statuses });
    };
    const settle = () => {
      if (++done === total) finish();
    };
    const send = (due: number) => {
      const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, ...spec.headers() } }, (res) => {
        res.resume();
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) {
            ok++;
            latencies.push(performance.now() - due);
          } else statuses[code] = (statuses[code] ?? 0) + 1;
          settle();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        settle();
      });
      req.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / spec.rate <= now) send(start + (sent++ * 1000) / spec.rate);
      if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / spec.rate - performance.now()));
    };
    tick();
  });
}
