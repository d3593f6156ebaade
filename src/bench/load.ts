import autocannon from 'autocannon';
import { percentile, sorted } from './stats.js';
import type { LoadRound } from './types.js';

/** Headers for one request; called once per request sent. */
export type HeaderSource = () => Readonly<Record<string, string>>;

export interface LoadSpec {
  /** Base URL of the server under test, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  readonly path: string;
  readonly body: string;
  readonly connections: number;
  readonly durationS: number;
  readonly headers: HeaderSource;
}

export interface LoadOutcome extends Omit<LoadRound, 'signedInline' | 'cpuUsPerCall' | 'opaCpuUsPerCall' | 'machineBusy' | 'loadCpuUsPerCall' | 'loopMaxMs' | 'loopP99Ms'> {
  /** Status codes other than 2xx, with counts: a non-empty map means the measured path was not the allowed one. */
  readonly statuses: Readonly<Record<string, number>>;
}

/**
 * One autocannon run, closed loop (each connection sends its next request when the answer arrives), keep-alive,
 * no pipelining. Latencies are recorded here from each 2xx response
 * (autocannon's own histogram keeps whole milliseconds, too coarse for a sub-millisecond p50).
 */
export function runLoad(spec: LoadSpec): Promise<LoadOutcome> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  const host = new URL(spec.url).host;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationS,
        pipelining: 1,
        timeout: 10,
        // Checks the stop flag every 100 ms instead of every second, so short runs last what they are asked to.
        sampleInt: 100,
        requests: [
          {
            method: 'POST',
            path: spec.path,
            // Runs per request: the pre-signed pool hands out the next signature (see SignedRequests).
            setupRequest: (req) => ({ ...req, method: 'POST', path: spec.path, body: spec.body, headers: { host, 'content-type': 'application/json', ...spec.headers() } }),
          },
        ],
      } as autocannon.Options,
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const s = sorted(latencies);
        const durationS = result.duration;
        resolve({
          rps: durationS > 0 ? ok / durationS : 0,
          p50Ms: percentile(s, 50),
          p99Ms: percentile(s, 99),
          p999Ms: percentile(s, 99.9),
          ok,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          durationS,
          statuses,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        latencies.push(responseTime);
      } else statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
}
