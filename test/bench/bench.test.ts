import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { auditEventsUs, benchCrypto, BODY_SIZES, decisionEventUs, CHECK, checkTargets, cpuCeiling, DATA_SIZES, machineCpuPerCall, outOfReach, overloaded, README_END, README_START, replaceBenchSection, HOSTILE_BODY_BYTES, HOSTILE_CHECK, HOSTILE_SHAPES, parseBenchOptions, runBench, toMarkdown, type BenchResults, type HttpTargetName } from '../../src/bench/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';

/**
 * Keeps `make bench` from rotting: the real harness (child servers, OPA sidecar, autocannon, WASM engine) with
 * ~0.5 s per target. It asserts that every target produced numbers, never the targets themselves: the machine
 * is shared with the rest of the suite while this runs.
 */
describe('bench harness', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'toolgate-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('measures every target, both load shapes, the floor, stages and growth with tiny durations', async () => {
    const options = {
      ...parseBenchOptions([], {}),
      rounds: 1,
      durationS: 0.5,
      warmupS: 0,
      connections: [4, 16],
      wasmIterations: 200,
      wasmWarmup: 50,
      hostileSearch: 20,
      // The smallest soak: its live-memory reading comes from the server child after a collection it asks for.
      soakCalls: 20_000,
      outDir,
      policyBundle: POLICY_BUNDLE,
      opa: process.env.TOOLGATE_OPA,
    };
    const results: BenchResults = await runBench(options);
    expect(results.http.map((h) => h.shape)).toEqual(['closed-4', 'closed-16', 'open']);
    for (const h of results.http) {
      const expected = h.shape === 'open' ? ['bare', 'durable', 'pipeline', 'fair'] : ['bare', 'durable', 'pipeline', 'workers', 'fair', 'sidecar'];
      expect(Object.keys(h.targets).sort(), h.shape).toEqual(expected.sort());
      for (const r of Object.values(h.targets)) {
        expect(r.rps, `${h.shape} ${r.target} req/s`).toBeGreaterThan(0);
        expect(r.p99Ms, `${h.shape} ${r.target} p99`).toBeGreaterThanOrEqual(r.p50Ms);
        expect(r.rounds[0]!.non2xx).toBe(0);
        // The fair sidecar's decisions come from OPA: its process works for every call.
        if (r.target === 'fair' || r.target === 'sidecar') expect(r.opaCpuUsPerCall, r.target).toBeDefined();
        expect(r.machineBusy, `${h.shape} ${r.target} machine busy`).toBeGreaterThan(0);
        expect(r.machineBusy).toBeLessThanOrEqual(1);
        // serve --workers has no IPC channel to the bench: its loop delay is not read. Its processes share Redis.
        if (r.target === 'workers') {
          expect(r.loopMaxMs).toBeNaN();
          expect(r.redisCpuUsPerCall, 'Redis works for every call').toBeGreaterThan(0);
        } else expect(r.loopMaxMs, `${h.shape} ${r.target} loop max`).toBeGreaterThanOrEqual(r.loopP99Ms);
      }
    }
    // The added latency's checks carry the floor the durable write alone measured in the same run.
    const open = results.http.find((h) => h.shape === 'open')!.targets;
    const p99 = results.checks.find((c) => c.name === CHECK.addedP99)!;
    expect(p99.floor!.value).toBeCloseTo(open.durable!.p99Ms - open.bare!.p99Ms, 6);
    expect(results.checks.find((c) => c.name === CHECK.addedP50)!.floor!.basis).toMatch(/durable write alone over bare, plus one Ed25519 verify/);
    expect(results.floor!.totalUs).toBeGreaterThan(0);
    expect(results.floor!.multiple).toBeGreaterThan(0);
    // The multiple's own floor: the durable write alone in the floor's shape (the first closed loop).
    expect(results.floor!.durableCpuUs).toBe(results.http[0]!.targets.durable!.cpuUsPerCall);
    expect(results.checks.find((c) => c.name === CHECK.floor)!.floor!.basis).toMatch(/durable write alone adds.*two hash-chained audit events/);
    expect(results.floor!.auditEventsUs).toBeGreaterThan(0);
    expect(results.floor!.decisionEventUs).toBeGreaterThan(0);
    expect(results.floor!.decisionEventUs).toBeLessThan(results.floor!.auditEventsUs!);
    expect(results.checks.find((c) => c.name === CHECK.addedP50)!.floor!.basis).toMatch(/and the decision's audit event/);
    // The ratio to bare Express is bounded by what a recording gateway's least call costs the machine.
    expect(results.checks.find((c) => c.name === CHECK.vsBare)!.floor!.basis).toMatch(/^\d+ CPUs over the least a call of a gateway that records first/);
    expect(results.soakFailed).toBeUndefined();
    expect(results.wasm!.p99Us).toBeGreaterThanOrEqual(results.wasm!.p50Us);
    // A one-rule policy giving the same answer costs less than the demo policy's rules on top of it.
    expect(results.wasm!.runtimeFloorP50Us).toBeGreaterThan(0);
    expect(results.wasm!.runtimeFloorP50Us).toBeLessThan(results.wasm!.p50Us);
    // The demo decision's profile: the rules hold most of it, and the report breaks it down.
    const profile = results.wasm!.profile!;
    expect(profile.totals.rule).toBeGreaterThan(0.3);
    expect(profile.totals.rule + profile.totals.runtime + profile.totals.outside + profile.totals.unattributed).toBeCloseTo(1);
    expect(profile.parts.map((p) => p.name)).toContain('data.toolgate.tools.email.key');
    expect(toMarkdown(results)).toMatch(/Where the demo decision's time goes .*the rules \d+ %, OPA's runtime outside any rule \d+ %/);
    expect(results.micro!.map((m) => m.name)).toContain('Ed25519 verify (identity primitive, in line)');
    expect(results.dataSize!.map((d) => d.entries)).toEqual([...DATA_SIZES]);
    expect(results.body!.map((b) => b.bytes)).toEqual([...BODY_SIZES]);
    for (const b of results.body!) expect(b.pipeline!.rps, `${b.bytes} B`).toBeGreaterThan(0);
    const hostile = results.hostile!;
    expect(hostile.cases.length).toBeGreaterThan(HOSTILE_SHAPES.length);
    for (const c of hostile.cases) {
      expect(c.bodyBytes, c.name).toBeLessThanOrEqual(HOSTILE_BODY_BYTES);
      expect([200, 403], `${c.name}: ${c.status}`).toContain(c.status);
    }
    const soak = results.soak!;
    expect(soak.calls).toBe(20_000);
    expect(soak.live.map((l) => l.calls)).toEqual([20_000]);
    expect(soak.live[0]!.heapUsedKiB).toBeGreaterThan(1024);
    expect(soak.live[0]!.heapUsedKiB).toBeLessThan(soak.live[0]!.rssKiB);
    // The replay store's table, as the pipeline's /readyz reports it: 20,000 live nonces need more than the first table.
    expect(soak.live[0]!.replayKiB).toBeGreaterThanOrEqual(Math.ceil((20_000 / 0.75) * 20 / 1024));
    expect(soak.live[0]!.replayKiB).toBeLessThan(soak.live[0]!.externalKiB);
    expect(soak.slopeKiBPer100k).toBeNaN(); // 20,000 calls end inside the warm-up: no slope, and no check judged on it
    expect(results.checks.map((c) => c.name)).toEqual([CHECK.floor, CHECK.vsBare, CHECK.vsFair, CHECK.vsSidecar, CHECK.workersVsFair, CHECK.workersVsSidecar, CHECK.addedP50, CHECK.addedP99, CHECK.wasm, HOSTILE_CHECK]);
    const md = toMarkdown(results);
    expect(md).toContain('machine CPU busy');
    expect(md).toContain('the floor');
    expect(md).toContain(`Targets: ${results.checks.filter((c) => c.met).length} of 10 met`);
    expect(md).toContain('one process per core');
    expect(md).toContain('Durable write alone');
  }, 300_000);

  it('reads flags over environment variables and refuses bad values with the fix', () => {
    const o = parseBenchOptions(['--rounds', '2', '--only', 'wasm,bare'], { BENCH_ROUNDS: '7', BENCH_DURATION_S: '1.5' });
    expect(o).toMatchObject({ rounds: 2, durationS: 1.5, warmupS: 2, connections: [10, 100], openFraction: 0.5, hostileSearch: 300, targets: ['bare', 'wasm'] });
    expect(parseBenchOptions(['--connections', '100,10,10'], {}).connections).toEqual([10, 100]);
    expect(() => parseBenchOptions(['--connections', '10,x'], {})).toThrow(/--connections=x/);
    expect(() => parseBenchOptions(['--only', 'opa'], {})).toThrow(ConfigError);
    expect(() => parseBenchOptions([], { BENCH_ROUNDS: '0' })).toThrow(/BENCH_ROUNDS=0/);
    expect(() => parseBenchOptions(['--durations', '1'], {})).toThrow(/durations/);
    // README's table is written by a full run only, unless a partial run names the file.
    expect(parseBenchOptions([], {}).readme).toBe('README.md');
    expect(parseBenchOptions(['--only', 'soak'], {}).readme).toBe('');
    expect(parseBenchOptions(['--only', 'soak', '--readme', 'R.md'], {}).readme).toBe('R.md');
  });

  it('marks a missed target without failing', () => {
    const round = { rps: 100, p50Ms: 1, p99Ms: 2, p999Ms: 3, ok: 1, non2xx: 0, errors: 0, durationS: 1, signedInline: 0, cpuUsPerCall: 100, machineBusy: 0.5, loadCpuUsPerCall: 50, loopMaxMs: 3, loopP99Ms: 1 };
    const t = (target: HttpTargetName, rps: number, p50Ms = 1, p99Ms = 2) => ({ target, rounds: [{ ...round, rps }], rps, p50Ms, p99Ms, p999Ms: 3, cpuUsPerCall: 100, machineBusy: 0.5, loadCpuUsPerCall: 50, loopMaxMs: 3, loopP99Ms: 1 });
    const http = [
      { shape: 'closed-100' as const, connections: 100, targets: { bare: t('bare', 1000), pipeline: t('pipeline', 400), fair: t('fair', 200), sidecar: t('sidecar', 100) } },
      { shape: 'open' as const, connections: 0, rate: 200, targets: { bare: t('bare', 200, 0.3, 1), pipeline: t('pipeline', 200, 1.0, 2.5) } },
    ];
    const floor = { verifyUs: 50, evaluateUs: 30, bareCpuUs: 40, totalUs: 120, pipelineCpuUs: 240, multiple: 2 };
    const checks = checkTargets(http, { target: 'wasm', iterations: 1, rounds: [], p50Us: 12, p99Us: 40, benchInputP50Us: 10 }, undefined, floor);
    expect(checks.map((c) => [c.name, c.met])).toEqual([
      [CHECK.floor, false],
      [CHECK.vsBare, false],
      [CHECK.vsFair, false],
      [CHECK.vsSidecar, true],
      [CHECK.addedP50, false],
      [CHECK.addedP99, true],
      [CHECK.wasm, true],
    ]);
    // No durable-write target measured: the latency checks have no floor to judge reach by.
    expect(checks.find((c) => c.name === CHECK.addedP50)!.floor).toBeUndefined();
  });

  it('judges the added latency against the durable write alone: out of reach when the floor is already past the target', () => {
    const round = { rps: 100, p50Ms: 1, p99Ms: 2, p999Ms: 3, ok: 1, non2xx: 0, errors: 0, durationS: 1, signedInline: 0, cpuUsPerCall: 100, machineBusy: 0.5, loadCpuUsPerCall: 50, loopMaxMs: 3, loopP99Ms: 1 };
    const t = (target: HttpTargetName, p50Ms: number, p99Ms: number) => ({ target, rounds: [round], rps: 200, p50Ms, p99Ms, p999Ms: p99Ms, cpuUsPerCall: 100, machineBusy: 0.5, loadCpuUsPerCall: 50, loopMaxMs: 3, loopP99Ms: 1 });
    // The disk adds 0.2 ms at the median and 9 ms at p99; verify and evaluate add 0.08 ms more to the median.
    const open = { shape: 'open' as const, connections: 0, rate: 200, targets: { bare: t('bare', 0.3, 1), durable: t('durable', 0.5, 10), pipeline: t('pipeline', 1.3, 40) } };
    const floor = { verifyUs: 50, evaluateUs: 30, bareCpuUs: 40, totalUs: 120, pipelineCpuUs: 240, multiple: 2 };
    const checks = checkTargets([open], undefined, undefined, floor);
    const p50 = checks.find((c) => c.name === CHECK.addedP50)!;
    const p99 = checks.find((c) => c.name === CHECK.addedP99)!;
    expect(p50.floor!.value).toBeCloseTo(0.28, 9);
    expect([p50.met, outOfReach(p50)]).toEqual([false, false]); // missed, but the machine allows it
    expect(p99.floor!.value).toBeCloseTo(9, 9);
    expect([p99.met, outOfReach(p99)]).toEqual([false, true]);
    const md = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [open], checks } as unknown as BenchResults);
    expect(md).toContain(`${CHECK.addedP99}: 39.0 ms (target ≤ 2 ms): **missed**, out of reach on this machine: its floor is 9.00 ms (the durable write alone over bare)`);
    expect(md).toContain(`${CHECK.addedP50}: 1.00 ms (target ≤ 0.5 ms): **missed** (floor 0.28 ms: the durable write alone over bare, plus one Ed25519 verify and one WASM evaluation)`);
    expect(md).toContain('| Durable write alone (bare Express + the audit file\'s durable append of a decision before the tool): the latency floor | 0.50 ms | 10.0 ms |');
    // With the decision event's cost measured, the median's floor carries it too: here it takes the floor past 0.5 ms.
    const withEvent = checkTargets([open], undefined, undefined, { ...floor, decisionEventUs: 240 }).find((c) => c.name === CHECK.addedP50)!;
    expect(withEvent.floor!.value).toBeCloseTo(0.52, 9);
    expect([withEvent.met, outOfReach(withEvent)]).toEqual([false, true]);
    const withEventMd = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [open], checks: [withEvent] } as unknown as BenchResults);
    expect(withEventMd).toContain(`${CHECK.addedP50}: 1.00 ms (target ≤ 0.5 ms): **missed**, out of reach on this machine: its floor is 0.52 ms (the durable write alone over bare, plus one Ed25519 verify, one WASM evaluation and the decision's audit event (240 µs, the cheapest way measured in this run))`);
  });
});

describe('open loop beyond a target\'s capacity', () => {
  it('tolerates timeouts only for a target offered more than its best closed-loop rate, and reports them', () => {
    expect(overloaded(675, 343)).toBe(true); // run O's fair sidecar
    expect(overloaded(675, 1_721)).toBe(false); // the pipeline at half its best rate: an error stops the run
    expect(overloaded(675, undefined)).toBe(false);
    expect(overloaded(undefined, 343)).toBe(false); // closed loops never tolerate errors
    const round = (errors: number) => ({ rps: 300, p50Ms: 4_000, p99Ms: 8_000, p999Ms: 9_000, ok: 3_000, non2xx: 0, errors, durationS: 5, signedInline: 0, cpuUsPerCall: 1_500, machineBusy: 1, loadCpuUsPerCall: 50, loopMaxMs: 3, loopP99Ms: 1 });
    const t = (target: HttpTargetName, errors: number[]) => ({ target, rounds: errors.map(round), rps: 300, p50Ms: 4_000, p99Ms: 8_000, p999Ms: 9_000, cpuUsPerCall: 1_500, machineBusy: 1, loadCpuUsPerCall: 50, loopMaxMs: 3, loopP99Ms: 1 });
    const open = { shape: 'open' as const, connections: 0, rate: 675, targets: { bare: t('bare', [0, 0, 0]), fair: t('fair', [3, 0, 2]) } };
    const md = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [open], checks: [] } as unknown as BenchResults);
    expect(md).toMatch(/Fair sidecar[^;]* did not answer 5 of its requests within 10 s \(over 3 rounds\): those are not in its percentiles/);
    expect(md).not.toMatch(/Bare Express[^|]*did not answer/);
  });
});

describe('floor multiple', () => {
  const floor = { verifyUs: 50, evaluateUs: 30, bareCpuUs: 100, totalUs: 180, pipelineCpuUs: 1_080, multiple: 6 };
  const judged = (durableCpuUs?: number) => checkTargets([], undefined, undefined, durableCpuUs === undefined ? floor : { ...floor, durableCpuUs }).find((c) => c.name === CHECK.floor)!;

  it('carries the durable write alone as its floor: out of reach when recording first already costs more than the target allows', () => {
    // The durable write alone adds 100 µs to bare Express's 100: at least 280 µs a call, 1.56x the 180 µs floor.
    const c = judged(200);
    expect(c.floor!.value).toBeCloseTo(280 / 180, 9);
    expect([c.met, outOfReach(c)]).toEqual([false, true]);
    const md = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [], checks: [c], floor: { ...floor, durableCpuUs: 200 } } as unknown as BenchResults);
    expect(md).toContain('out of reach on this machine: its floor is 1.56× (the floor plus what the durable write alone adds to bare Express\'s server CPU in the same shape, 100 µs a call)');
    expect(md).toContain('a gateway that records each decision durably before its tool runs needs at least 280 µs a call here, 1.56× the floor; the pipeline\'s own work above that is 800 µs a call (the pipeline is 3.86× that least)');
  });

  it('adds the call\'s two audit events, made the cheapest way the run measured, to what recording first costs', () => {
    // 180 floor + 30 disk + 35 events = 245 µs, 1.36x: within reach; with 70 µs of events 1.5x is already past.
    const within = checkTargets([], undefined, undefined, { ...floor, durableCpuUs: 130, auditEventsUs: 35 }).find((c) => c.name === CHECK.floor)!;
    expect(within.floor!.value).toBeCloseTo(245 / 180, 9);
    expect(outOfReach(within)).toBe(false);
    const past = checkTargets([], undefined, undefined, { ...floor, durableCpuUs: 130, auditEventsUs: 70 }).find((c) => c.name === CHECK.floor)!;
    expect(past.floor!.value).toBeCloseTo(280 / 180, 9);
    expect(outOfReach(past)).toBe(true);
    expect(past.floor!.basis).toContain('30.0 µs a call, and 70.0 µs for the call\'s two hash-chained audit events (decision and completion)');
    const md = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [], checks: [past], floor: { ...floor, durableCpuUs: 130, auditEventsUs: 70 } } as unknown as BenchResults);
    expect(md).toContain('records each decision durably before its tool runs and makes its two hash-chained audit events (70.0 µs, the cheapest way measured in this run) needs at least 280 µs a call here, 1.56× the floor');
  });

  it('takes the cheapest decision row and the completion row of the audit micro-benchmark, and nothing when either is missing', () => {
    const rows = [
      { name: 'audit event, v1 (canonical hash + JSON.stringify line + node:crypto signature per event)', us: 10 },
      { name: 'audit event, v2 (one serialisation, libsodium checkpoint per batch of 1)', us: 50 },
      { name: 'audit event, v2 (one serialisation, libsodium checkpoint per batch of 16)', us: 30 },
      { name: 'audit completion event, v2 (one serialisation, libsodium checkpoint per batch of 16)', us: 12 },
    ];
    expect(auditEventsUs(rows)).toBe(42);
    expect(decisionEventUs(rows)).toBe(30);
    expect(auditEventsUs(rows.slice(0, 3))).toBeUndefined();
    expect(decisionEventUs(rows.slice(0, 3))).toBe(30);
    expect(decisionEventUs(rows.slice(0, 1))).toBeUndefined();
    expect(auditEventsUs(undefined)).toBeUndefined();
    // The micro-benchmark itself makes both kinds of row, so a run always has the events' cost.
    const measured = benchCrypto({ iterations: 20, rounds: 1 });
    expect(measured.map((r) => r.name)).toContain('audit completion event, v2 (one serialisation, libsodium checkpoint per batch of 16)');
    expect(auditEventsUs(measured)).toBeGreaterThan(0);
  });

  it('is within reach when the disk adds little, and has no floor when the durable write was not measured', () => {
    const c = judged(130);
    expect(c.floor!.value).toBeCloseTo(210 / 180, 9);
    expect([c.met, outOfReach(c)]).toEqual([false, false]);
    // A durable write measured cheaper than bare (noise) adds nothing rather than lowering the floor.
    expect(judged(90).floor!.value).toBe(1);
    expect(judged().floor).toBeUndefined();
  });
});

describe('a soak that stopped', () => {
  it('is named in the report, which keeps what the run measured before it', () => {
    const md = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [], checks: [], soakFailed: 'soak: 1 refused calls' } as unknown as BenchResults);
    expect(md).toContain('**The soak stopped, so this run failed** (its RSS slope is not judged): soak: 1 refused calls');
  });
});

describe('the ratio to bare Express: its ceiling', () => {
  const floor = { verifyUs: 60, evaluateUs: 40, bareCpuUs: 100, totalUs: 200, pipelineCpuUs: 1_000, multiple: 5, durableCpuUs: 150, auditEventsUs: 50 };
  const target = (name: HttpTargetName, rps: number, cpuUsPerCall: number, loadCpuUsPerCall: number) => ({ target: name, rounds: [], rps, p50Ms: 1, p99Ms: 2, p999Ms: 3, cpuUsPerCall, machineBusy: 1, loadCpuUsPerCall, loopMaxMs: 1, loopP99Ms: 1 });
  const shape = (bareRps: number) => ({ shape: 'closed-100' as const, connections: 100, targets: { bare: target('bare', bareRps, 100, 50), durable: target('durable', 7_000, 150, 50), pipeline: target('pipeline', 1_500, 800, 80) } });
  const judged = (bareRps: number, cpus?: number, f: typeof floor | undefined = floor) => checkTargets([shape(bareRps)], undefined, undefined, f, undefined, cpus).find((c) => c.name === CHECK.vsBare)!;

  it('is the machine\'s CPU over the least a recording gateway\'s call costs, against bare Express\'s measured rate', () => {
    // The least: 150 + 50 (durable's server and load generator) + 60 + 40 + 50 = 350 µs; 2 CPUs serve 5,714 calls/s.
    const c = judged(8_000, 2);
    expect(c.floor!.value).toBeCloseTo(2e6 / 350 / 8_000, 9);
    expect([c.met, outOfReach(c)]).toEqual([false, false]);
    expect(c.floor!.basis).toContain('2 CPUs over the least a call of a gateway that records first costs the machine at saturation, 350 µs');
    const md = toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [], checks: [c] } as unknown as BenchResults);
    expect(md).toContain('full pipeline vs bare Express: 0.19× (target ≥ 0.5×): **missed** (ceiling 0.71×: 2 CPUs');
    // Bare Express faster than the machine lets any recording gateway be by half: out of reach.
    const past = judged(20_000, 2);
    expect(outOfReach(past)).toBe(true);
    expect(toMarkdown({ startedAt: 'now', machine: { cpus: 2, cpuModel: 'test', node: 'v0', opa: null }, options: parseBenchOptions([], {}), http: [], checks: [past] } as unknown as BenchResults)).toContain('out of reach on this machine: its ceiling is 0.29×');
  });

  it('has none unless the durable write, the audit events and the CPU count were all measured', () => {
    expect(judged(8_000).floor).toBeUndefined();
    expect(judged(8_000, 2, { ...floor, auditEventsUs: undefined as unknown as number }).floor).toBeUndefined();
    expect(checkTargets([shape(8_000)], undefined, undefined, undefined, undefined, 2).find((c) => c.name === CHECK.vsBare)!.floor).toBeUndefined();
  });
});

describe('CPU-bound ceiling', () => {
  const t = (target: HttpTargetName, cpuUsPerCall: number, opaCpuUsPerCall?: number) => ({
    target, rounds: [], rps: 1, p50Ms: 1, p99Ms: 1, p999Ms: 1, cpuUsPerCall, machineBusy: 1, loadCpuUsPerCall: 250, loopMaxMs: 1, loopP99Ms: 1,
    ...(opaCpuUsPerCall === undefined ? {} : { opaCpuUsPerCall }),
  });

  it('bounds the pipeline/sidecar ratio by the machine CPU each call costs, load generator and OPA included', () => {
    // Pipeline 1,000 + 250 = 1,250 µs of the machine per call; fair 1,200 + OPA 2,050 + 250 = 3,500 µs.
    const c = cpuCeiling(t('pipeline', 1_000), t('fair', 1_200, 2_050), 3);
    expect(machineCpuPerCall(t('fair', 1_200, 2_050))).toBe(3_500);
    expect(c.ratio).toBeCloseTo(2.8, 10);
    // 3x needs the pipeline's call to cost the machine 3,500 / 3 µs, of which the load generator keeps 250.
    expect(c.neededServerUs).toBeCloseTo(3_500 / 3 - 250, 10);
    expect(cpuCeiling(t('pipeline', 900), t('sidecar', 700, 2_000), 2).ratio).toBeCloseTo(2_950 / 1_150, 10);
    // Redis's share of a multi-process pipeline's call stays too: only the server's part is what the target asks.
    const workers = { ...t('workers', 1_000), redisCpuUsPerCall: 150 };
    expect(machineCpuPerCall(workers)).toBe(1_400);
    expect(cpuCeiling(workers, t('fair', 1_200, 2_050), 3).neededServerUs).toBeCloseTo(3_500 / 3 - 250 - 150, 10);
  });

  it('prints the ceiling under the closed-loop table only when the pipeline and a sidecar were measured', () => {
    const results = (targets: Record<string, ReturnType<typeof t>>) => toMarkdown({
      startedAt: 'x', options: parseBenchOptions([], {}), machine: { cpus: 2, cpuModel: 'm', node: 'v', opa: undefined }, checks: [],
      http: [{ shape: 'closed-100', connections: 100, targets }],
    } as unknown as BenchResults);
    expect(results({ pipeline: t('pipeline', 1_000), fair: t('fair', 1_200, 2_050) })).toMatch(/CPU-bound ceiling at 100 connections[\s\S]*\*\*2\.80×\*\*/);
    expect(results({ pipeline: t('pipeline', 1_000), bare: t('bare', 80) })).not.toMatch(/CPU-bound ceiling/);
  });
});

describe('README bench section', () => {
  it('replaces only what lies between the markers, and leaves a file without them alone', () => {
    const text = `# x\n${README_START}\nold table\n${README_END}\n\nprose after\n`;
    expect(replaceBenchSection(text, '| new |\n')).toBe(`# x\n${README_START}\n| new |\n${README_END}\n\nprose after\n`);
    expect(replaceBenchSection('no markers', 't')).toBeUndefined();
    expect(replaceBenchSection(`${README_END} ${README_START}`, 't')).toBeUndefined();
  });
});
