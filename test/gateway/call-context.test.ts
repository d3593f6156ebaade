import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { openContext } from '../../src/gateway/call-context.js';
import type { PolicyInput } from '../../src/policy/index.js';

type Gc = (options?: { type: 'minor' | 'major' }) => void;

/** `gc` without starting the test process with --expose-gc: the flag set now exposes it to new contexts. */
function collector(): Gc {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Gc;
}

const oldSpaceBytes = (): number => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

const config = { now: () => Date.now(), gatewayId: 'gw-test' };
const route = { kind: 'http', tool: 'email.send' } as const;
const request = (i: number) => ({ headers: {}, originalUrl: `/tools/email.send?i=${i}`, url: `/tools/email.send?i=${i}` }) as unknown as Request;
const response = {} as Response;

/** Opens `n` contexts, each holding about 20 KiB of young objects as a call's state does, and drops them. */
function finishedCalls(n: number): void {
  for (let i = 0; i < n; i++) {
    const ctx = openContext(request(i), response, route, config);
    ctx.input = { args: { rows: new Array(2500).fill(i) } } as unknown as PolicyInput;
    if (ctx.decisionId === '') throw new Error('unreachable: keeps the context in use');
  }
}

describe('a request context', () => {
  it('dies in the young generation with everything it holds once its call is done', () => {
    const gc = collector();
    finishedCalls(200); // compiled and warm, so what the measured loop leaves in the old generation is its own
    gc({ type: 'major' });
    const before = oldSpaceBytes();
    finishedCalls(2000);
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    // About 40 MiB were allocated. Kept alive from the old generation (a per-object accessor pair whose getter held
    // the context), all of it was promoted: 42 MiB measured here with that getter. Dying young, none of it is.
    expect((oldSpaceBytes() - before) / 2 ** 20).toBeLessThan(4);
  });

  it('opens its decision span once, on first use, with the parent the stages settled by then', () => {
    const ctx = openContext(request(1), response, route, config);
    expect(ctx.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.target).toBe('/tools/email.send?i=1');
    expect(ctx.timers).toEqual({});
    expect(ctx.span).toBe(ctx.span);
  });
});
