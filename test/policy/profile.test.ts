import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { policyProfile } from '../../src/cli/policy.js';
import { UsageError } from '../../src/cli/audit.js';
import { loadBundle } from '../../src/policy/index.js';
import { attributeSamples, CUT_SHORT, formatProfile, GC, INPUT_PARSE, leastLost, OUTSIDE, profilePolicy, RESULT_WRITE, RUNTIME_OTHER, summarizeProfile, type CpuProfileLike, type PolicyProfile } from '../../src/policy/profile.js';
import { buildBundle } from './bundles.js';
import { runCommand } from './simulate-cli.js';

/** A V8 CPU profile from call paths (root first) and a sample count for each. */
function profileOf(paths: readonly [readonly string[], number][]): CpuProfileLike {
  const nodes: { id: number; callFrame: { functionName: string }; children: number[] }[] = [{ id: 1, callFrame: { functionName: '(root)' }, children: [] }];
  const samples: number[] = [];
  for (const [path, count] of paths) {
    let at = nodes[0]!;
    for (const name of path) {
      let next = at.children.map((id) => nodes[id - 1]!).find((n) => n.callFrame.functionName === name);
      if (!next) {
        next = { id: nodes.length + 1, callFrame: { functionName: name }, children: [] };
        nodes.push(next);
        at.children.push(next.id);
      }
      at = next;
    }
    for (let i = 0; i < count; i++) samples.push(at.id);
  }
  return { nodes, samples };
}

describe('attributeSamples: each sample to the innermost rule, else what the runtime or V8 was doing', () => {
  const wasm = ['evaluateValue', 'evaluateInPlace', 'js-to-wasm', 'opa_eval'];
  const profile = profileOf([
    [[...wasm, 'eval', 'g0.data.toolgate.decision', 'g0.data.toolgate.tools.email.deny', 'g0.data.toolgate.tools.email.key', 'opa_strings_trim_left'], 5],
    [[...wasm, 'eval', 'g0.data.toolgate.decision', 'g0.data.toolgate.tools.email.deny', 'opa_value_hash'], 3],
    [[...wasm, 'eval', 'g0.data.toolgate.decision'], 1],
    [[...wasm, 'opa_value_parse', 'opa_json_parse', 'opa_json_parse_token', 'opa_value_hash'], 4],
    [[...wasm, 'opa_json_dump', 'opa_json_writer_write', 'opa_malloc'], 2],
    [[...wasm, 'opa_heap_ptr_set'], 1],
    [['evaluateValue', 'stringify'], 6],
    [['(garbage collector)'], 2],
    [['(idle)'], 9],
  ]);
  const parts = attributeSamples(profile);

  it('charges a rule only for its own time: a nested rule and the builtins it calls count for the innermost rule', () => {
    expect(parts.get('data.toolgate.tools.email.key')).toEqual({ kind: 'rule', samples: 5 });
    expect(parts.get('data.toolgate.tools.email.deny')).toEqual({ kind: 'rule', samples: 3 });
    expect(parts.get('data.toolgate.decision')).toEqual({ kind: 'rule', samples: 1 });
  });

  it('splits the runtime outside rules by what opa_eval called, and leaves idle time out', () => {
    expect(parts.get(INPUT_PARSE)).toEqual({ kind: 'runtime', samples: 4 });
    expect(parts.get(RESULT_WRITE)).toEqual({ kind: 'runtime', samples: 2 });
    expect(parts.get(RUNTIME_OTHER)).toEqual({ kind: 'runtime', samples: 1 });
    expect(parts.get(OUTSIDE)).toEqual({ kind: 'outside', samples: 6 });
    expect(parts.get(GC)).toEqual({ kind: 'outside', samples: 2 });
    expect([...parts.values()].reduce((a, p) => a + p.samples, 0)).toBe(24);
  });

  it('summarizes into shares that add up to 1 and microseconds of the unprofiled evaluation', () => {
    const s = summarizeProfile(parts, 48, 1000);
    expect(s.parts[0]).toMatchObject({ name: OUTSIDE, share: 6 / 24, usPerEvaluation: 12 });
    expect(s.totals.rule).toBeCloseTo(9 / 24);
    expect(s.totals.runtime).toBeCloseTo(7 / 24);
    expect(s.totals.outside).toBeCloseTo(8 / 24);
    expect(s.totals.unattributed).toBe(0);
    expect(s.parts.reduce((a, p) => a + p.share, 0)).toBeCloseTo(1);
  });

  it('profiles again while over 2 % of the samples lost their callers, three times at most, keeping the one that lost the fewest', async () => {
    const lost = (share: number, evaluations: number): PolicyProfile => ({ evaluations, samples: 100, cpuUsPerEvaluation: 40, parts: [], totals: { rule: 0, runtime: 0, outside: 1 - share, unattributed: share } });
    const taking = (shares: number[]) => {
      let taken = 0;
      return { take: async () => lost(shares[taken]!, ++taken), count: () => taken };
    };
    const once = taking([0.01, 0.5]);
    expect((await leastLost(once.take)).evaluations).toBe(1);
    expect(once.count()).toBe(1);
    const second = taking([0.17, 0.004, 0.3]);
    expect((await leastLost(second.take)).evaluations).toBe(2);
    expect(second.count()).toBe(2);
    const never = taking([0.2, 0.1, 0.15, 0.001]);
    expect((await leastLost(never.take)).evaluations).toBe(2); // the fewest of three; no fourth
    expect(never.count()).toBe(3);
    const exactly = taking([0.02, 0.0]);
    expect((await leastLost(exactly.take)).evaluations).toBe(1);
  });

  it('charges a sample with no rule and no opa_eval on its stack outside WASM, and an empty profile to nothing', () => {
    expect(attributeSamples(profileOf([[['opa_value_hash'], 1]])).get(OUTSIDE)?.samples).toBe(1);
    expect(attributeSamples({ nodes: [{ id: 1, callFrame: { functionName: '(root)' } }] }).size).toBe(0);
  });

  it('shows a WASM sample whose callers the profiler lost apart, never as outside WASM', () => {
    // What V8 records now and then: the WASM leaf, then straight to the JavaScript that called into WASM.
    const wasm = 'wasm://wasm/opa.wasm-000efcf6';
    const cut: CpuProfileLike = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)' }, children: [2] },
        { id: 2, callFrame: { functionName: 'evaluateValue', url: 'file:///dist/policy/abi.js' }, children: [3, 4] },
        { id: 3, callFrame: { functionName: 'opa_value_hash', url: wasm } },
        { id: 4, callFrame: { functionName: 'stringify', url: '' } },
      ],
      samples: [3, 3, 3, 4],
    };
    const parts = attributeSamples(cut);
    expect(parts.get(CUT_SHORT)).toEqual({ kind: 'unattributed', samples: 3 });
    expect(parts.get(OUTSIDE)).toEqual({ kind: 'outside', samples: 1 });
    const text = formatProfile(summarizeProfile(parts, 40, 10));
    expect(text).toContain('outside WASM 25.0 %; inside WASM with its callers lost 75.0 %.');
  });
});

describe('profilePolicy on a real bundle', () => {
  it('puts a rule that does 100x the work of another far above it', { timeout: 60_000 }, async () => {
    const bundle = buildBundle({
      revision: 'profile-test',
      rego: {
        'p.rego': [
          'package toolgate',
          '',
          'heavy := count([x | some x in numbers.range(1, 2000); x % 7 == input.n])',
          '',
          'light := count([x | some x in numbers.range(1, 20); x % 7 == input.n])',
          '',
          'decision := {"heavy": heavy, "light": light}',
          '',
        ].join('\n'),
      },
    });
    const profile = await profilePolicy(await loadBundle(bundle), { n: 3 }, { seconds: 0.5 });
    expect(profile.revision).toBe('profile-test');
    const heavy = profile.parts.find((p) => p.name === 'data.toolgate.heavy');
    const light = profile.parts.find((p) => p.name === 'data.toolgate.light');
    expect(heavy?.kind).toBe('rule');
    expect(profile.parts[0]).toBe(heavy);
    expect(heavy!.share).toBeGreaterThan(0.8);
    expect(heavy!.share).toBeGreaterThan(20 * (light?.share ?? 0));
    expect(profile.cpuUsPerEvaluation).toBeGreaterThan(0);
    expect(profile.evaluations).toBeGreaterThan(0);
  });
});

describe('toolgate policy profile', () => {
  const run = (args: string[]) => runCommand(policyProfile, args);

  it('prints the demo decision\'s parts, the address check among its rules', { timeout: 60_000 }, async () => {
    const { code, out } = await run(['--input', 'test/fixtures/policy/inputs/email-send-allow.json', '--seconds', '0.5', '--top', '40']);
    expect(code).toBe(0);
    expect(out).toContain(INPUT_PARSE);
    expect(out).toContain('data.toolgate.tools.email.key');
    expect(out).toMatch(/Rules \d+\.\d %, OPA's runtime outside any rule \d+\.\d %, outside WASM \d+\.\d %(; inside WASM with its callers lost \d+\.\d %)?\./);
  });

  it('profiles the input an audit event recorded (--event), and refuses an event without one', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-profile-'));
    const input = JSON.parse(readFileSync('test/fixtures/policy/inputs/email-send-allow.json', 'utf8')) as unknown;
    writeFileSync(join(dir, 'event.json'), JSON.stringify({ schema: 'toolgate.audit/v2', type: 'decision', input }));
    const { code, out } = await run(['--event', join(dir, 'event.json'), '--seconds', '0.3', '--top', '60', '--json']);
    expect(code).toBe(0);
    const profile = JSON.parse(out) as { parts: { name: string }[] };
    expect(profile.parts.map((p) => p.name)).toContain('data.toolgate.tools.email.key');
    writeFileSync(join(dir, 'no-input.json'), JSON.stringify({ schema: 'toolgate.audit/v2', type: 'decision', input: null }));
    await expect(run(['--event', join(dir, 'no-input.json')])).rejects.toThrow(/carries no input.*Pick an event with an "input" member/);
  });

  it('refuses a missing input, a bad --seconds or --top, a file that is not JSON and one that is not there, saying what to give', async () => {
    await expect(run([])).rejects.toThrow(UsageError);
    await expect(run(['--input', 'a.json', '--event', 'b.json'])).rejects.toThrow(/Give one of --input/);
    await expect(run(['--input', 'x.json', '--top', '0'])).rejects.toThrow(/--top 0: give how many parts/);
    await expect(run(['--input', 'x.json', '--seconds', '0'])).rejects.toThrow(/--seconds 0/);
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-profile-'));
    writeFileSync(join(dir, 'bad.json'), '{not json');
    await expect(run(['--input', join(dir, 'bad.json')])).rejects.toThrow(/could not be read as JSON .*give a file holding one policy input document/);
    await expect(run(['--input', join(dir, 'missing.json')])).rejects.toThrow(/missing\.json could not be read/);
  });
});
