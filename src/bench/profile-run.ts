import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServerChild } from './children.js';
import { cpuMs, threadCpuDelta, threadCpuMs } from './cpu.js';
import { runLoad } from './load.js';
import { summarizeProfiles } from './profile.js';
import type { ProfileResult } from './types.js';
import { SignedRequests } from './signed-requests.js';
import { BENCH_AGENT, BENCH_BODY, BENCH_PATH, type BenchWorkspace } from './workspace.js';

export interface ProfileSpec {
  /** Where the .cpuprofile files are left (emptied first), to open in Chrome DevTools or speedscope. */
  readonly profileDir: string;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

interface Window {
  readonly from: number;
  readonly to: number;
  readonly ok: number;
  readonly cpuUs: number;
  readonly rps: number;
  readonly threadCpu: readonly { readonly name: string; readonly usPerCall: number; readonly sysUsPerCall: number }[];
}

/** One pipeline server (its own process) warmed up, then measured for `durationS`; the server is stopped after. */
async function measured(workspace: BenchWorkspace, spec: ProfileSpec, stateDir: string, execArgv: readonly string[]): Promise<Window> {
  mkdirSync(stateDir, { recursive: true });
  const child = await startServerChild({ kind: 'pipeline', bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir }, 30_000, execArgv);
  try {
    const signed = new SignedRequests(workspace.agents.keys[BENCH_AGENT], `${child.url}${BENCH_PATH}`, BENCH_BODY);
    const load = async (durationS: number): Promise<Window> => {
      signed.refill(Math.min(200_000, 3_000 * durationS + 100));
      const cpu0 = cpuMs(child.pid);
      const threads0 = threadCpuMs(child.pid);
      const from = nowUs();
      const out = await runLoad({ url: child.url, path: BENCH_PATH, body: BENCH_BODY, connections: spec.connections, durationS, headers: signed.next });
      const to = nowUs();
      if (out.non2xx > 0 || out.errors > 0 || out.ok === 0) throw new Error(`profile: ${out.ok} allowed, ${out.non2xx} refused, ${out.errors} errors: the profiled path must be the allowed call only`);
      const threads = threadCpuDelta(threads0, threadCpuMs(child.pid));
      const threadCpu = [...threads].sort((a, b) => b[1].ms - a[1].ms).map(([name, t]) => ({ name, usPerCall: (t.ms * 1000) / out.ok, sysUsPerCall: (t.sysMs * 1000) / out.ok }));
      return { from, to, ok: out.ok, cpuUs: ((cpuMs(child.pid) - cpu0) * 1000) / out.ok, rps: out.rps, threadCpu };
    };
    if (spec.warmupS > 0) await load(spec.warmupS);
    return await load(spec.durationS);
  } finally {
    await child.stop(); // a profiled server's threads write their profiles as they end
  }
}

/**
 * Where the pipeline's CPU goes. First the server unprofiled, its CPU per call split by thread from /proc (the
 * kernel's count); then a second server under the same load with `node --cpu-prof` (every thread writes a profile
 * when it ends), the samples of its measured window summed per part of the pipeline and per function of ours.
 * Sampling every 500 µs (the default 1 ms leaves short runs thin; finer costs the server more than it measures).
 * The profile's times are wall time between samples: on a loaded machine a thread preempted (after waking another,
 * say) has its wait counted in the sample it resumes with, so read it for shares, the kernel's split for totals.
 */
export async function runProfile(workspace: BenchWorkspace, spec: ProfileSpec, log: (line: string) => void): Promise<ProfileResult> {
  const { profileDir } = spec;
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });
  const plain = await measured(workspace, spec, join(workspace.stateDir, 'profile-plain'), []);
  log(`profile: unprofiled ${plain.ok} calls at ${Math.round(plain.rps)} req/s, ${Math.round(plain.cpuUs)} us CPU/call: ${plain.threadCpu.map((t) => `${t.name} ${Math.round(t.usPerCall)} (sys ${Math.round(t.sysUsPerCall)})`).join(', ')}`);
  const profiled = await measured(workspace, spec, join(workspace.stateDir, 'profile'), ['--cpu-prof', '--cpu-prof-interval', '500', '--cpu-prof-dir', profileDir]);
  log(`profile: profiled ${profiled.ok} calls at ${Math.round(profiled.rps)} req/s, ${Math.round(profiled.cpuUs)} us CPU/call`);
  return { ...summarizeProfiles(profileDir, profiled.ok, profiled.from, profiled.to), cpuUsPerCall: plain.cpuUs, rps: plain.rps, threadCpu: plain.threadCpu.filter((t) => t.usPerCall >= 0.5), profiledCpuUsPerCall: profiled.cpuUs };
}
