import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServerChild } from './children.js';
import { refusedInAudit } from './audit-refusals.js';
import { SignedRequests } from './signed-requests.js';
import type { LiveSample, SoakResult } from './types.js';
import { BENCH_AGENT, BENCH_BODY, BENCH_PATH, type BenchWorkspace } from './workspace.js';

export interface SoakSpec {
  /** Allowed calls in all. */
  readonly calls: number;
  /** Keep-alive connections of the load generator. */
  readonly connections: number;
}

/** Calls per chunk: signed before it (a pool of this size is made in about a second and outlives its chunk by far), RSS read after it. */
const CHUNK = 10_000;
/** Every this many chunks (100,000 calls) the server collects its garbage and reports its live memory. */
const LIVE_EVERY = 10;
/** The first part of the run is warm-up (JIT, pools): left out of the slope. */
const WARMUP_FRACTION = 0.2;
/**
 * And so are the first 310 s: the replay store keeps every nonce for the verifier's maxAgeMs (300 s), so its table
 * doubles (up to 2^20 slots of 20 bytes at 1,000 calls/s) until as many nonces expire as arrive. That growth is
 * bounded by time, not by calls; a slope taken before it levels off would report it as a leak.
 */
const REPLAY_WINDOW_S = 310;

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status); NaN off Linux or once it is gone. */
export function rssKiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.replace(/\D+/g, '')) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/**
 * The least-squares slopes of the first and the second half of `points` (the middle point in both when there is
 * one): a steady leak climbs alike in both halves, while RSS wandering around a level gives halves of opposite sign
 * or far apart, which one slope over the whole run does not show.
 */
export function halfSlopes(points: readonly (readonly [number, number])[]): [number, number] {
  const middle = Math.ceil(points.length / 2);
  return [slope(points.slice(0, middle)), slope(points.slice(points.length - middle))];
}

/** What each connection sent last (autocannon's per-connection context): the request a response answers. */
interface Sent {
  sent?: Record<string, string>;
}

/**
 * `amount` allowed calls through autocannon (closed loop, keep-alive); rejects on anything but a 2xx, naming the
 * statuses, the first refusal's body (its reason code), what a verifier in this process says of the refused call's
 * own signature headers (a refusal of a call that verifies here is the server's misjudgement), and the first
 * transport error, so a failed soak says why.
 */
export async function driveAllowed(url: string, amount: number, connections: number, signed: SignedRequests): Promise<void> {
  const host = new URL(url).host;
  const statuses: Record<string, number> = {};
  let firstRefusal: string | undefined;
  let refusedHeaders: Record<string, string> | undefined;
  let firstError: string | undefined;
  const failure = await new Promise<string | undefined>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        amount,
        pipelining: 1,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: BENCH_PATH,
            setupRequest: (req: autocannon.Request, context: Sent) => {
              context.sent = signed.next();
              return { ...req, method: 'POST', path: BENCH_PATH, body: BENCH_BODY, headers: { host, 'content-type': 'application/json', ...context.sent } };
            },
            onResponse: (status: number, body: string, context: Sent) => {
              if ((status < 200 || status >= 300) && firstRefusal === undefined) {
                firstRefusal = `${status} ${body.slice(0, 400)}`;
                refusedHeaders = context.sent;
              }
            },
          },
        ],
      } as autocannon.Options,
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        if (result.non2xx > 0 || result.errors + result.timeouts > 0) {
          const seen = Object.entries(statuses).map(([status, n]) => `${n} × ${status}`).join(', ');
          return resolve(`${result.non2xx} refused calls, ${result.errors} errors and ${result.timeouts} timeouts in a chunk of ${amount}${seen && ` (statuses ${seen})`}`);
        }
        resolve(undefined);
      },
    );
    instance.on('response', (_client, statusCode) => {
      if (statusCode < 200 || statusCode >= 300) statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
    instance.on('reqError', (error: Error) => {
      firstError ??= error.message;
    });
  });
  if (failure === undefined) return;
  const offline = refusedHeaders && `the refused call's headers ${JSON.stringify(refusedHeaders)}, checked again in the load generator: ${await signed.checkOffline(refusedHeaders)}`;
  const why = [firstRefusal && `first refusal: ${firstRefusal}`, offline, firstError && `first error: ${firstError}`].filter(Boolean).join('; ');
  throw new Error(`soak: ${failure}: the soak must drive allowed calls only (${why || 'no detail'})`);
}

/**
 * Drives the pipeline server (its own child process, as in the HTTP targets) with `calls` allowed calls in chunks of
 * 10,000 and reads its RSS after each; reports the least-squares slope over the chunks after the first 20 % and
 * the first 310 s (KiB per 100,000 calls; NaN when the run is too short to have any). A flat RSS has a slope near 0;
 * a leak of n bytes per call shows as about 98 n KiB. Every 100,000 calls the server also collects its garbage
 * and reports its live memory (JavaScript heap in use plus external): its slope tells a leak from memory the
 * collector has not yet been asked to give back.
 */
export async function runSoak(workspace: BenchWorkspace, spec: SoakSpec, log: (line: string) => void): Promise<SoakResult> {
  const stateDir = join(workspace.stateDir, 'soak');
  mkdirSync(stateDir, { recursive: true });
  const child = await startServerChild({ kind: 'pipeline', bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir });
  try {
    const signed = new SignedRequests(workspace.agents.keys[BENCH_AGENT], `${child.url}${BENCH_PATH}`, BENCH_BODY);
    const samples: [number, number][] = [[0, rssKiB(child.pid)]];
    const live: LiveSample[] = [];
    const started = performance.now();
    const at: number[] = [0];
    const liveAt: number[] = [];
    for (let done = 0; done < spec.calls; ) {
      const n = Math.min(CHUNK, spec.calls - done);
      signed.refill(n);
      await driveAllowed(child.url, n, spec.connections, signed).catch(async (error: unknown) => {
        const tail = child.stderr.length ? `\nserver stderr:\n${child.stderr.join('\n')}` : '';
        throw new Error(`${error instanceof Error ? error.message : String(error)}${await refusedInAudit(stateDir)}${tail}`, { cause: error });
      });
      done += n;
      samples.push([done, rssKiB(child.pid)]);
      at.push((performance.now() - started) / 1000);
      // After the RSS reading, so the collection it forces never shapes the RSS slope; rare enough (every 100,000
      // calls) not to stand in for the collector's own schedule.
      if ((samples.length - 1) % LIVE_EVERY === 0 || done === spec.calls) {
        live.push({ calls: done, ...(await child.memory(true)) });
        liveAt.push((performance.now() - started) / 1000);
      }
      if (samples.length % 5 === 1 || done === spec.calls) log(`soak: ${done.toLocaleString('en-US')} calls, server RSS ${Math.round(samples.at(-1)![1] / 1024)} MiB`);
    }
    const settled = (calls: number, seconds: number) => calls >= spec.calls * WARMUP_FRACTION && seconds >= REPLAY_WINDOW_S;
    const measured = samples.filter(([calls], i) => settled(calls, at[i]!));
    const liveMeasured = live.filter((l, i) => settled(l.calls, liveAt[i]!));
    const rss = measured.map(([, r]) => r);
    return {
      calls: spec.calls,
      seconds: (performance.now() - started) / 1000,
      warmupCalls: measured[0]?.[0] ?? spec.calls,
      rssStartKiB: samples[0]![1],
      rssAfterWarmupKiB: rss[0] ?? Number.NaN,
      rssEndKiB: samples.at(-1)![1],
      rssMaxKiB: Math.max(...samples.map(([, r]) => r)),
      slopeKiBPer100k: slope(measured) * 100_000,
      halfSlopesKiBPer100k: halfSlopes(measured).map((v) => v * 100_000) as [number, number],
      liveSlopeKiBPer100k: slope(liveMeasured.map((l) => [l.calls, l.heapUsedKiB + l.externalKiB] as const)) * 100_000,
      samples,
      live,
    };
  } finally {
    await child.stop();
  }
}
