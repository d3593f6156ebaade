import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/policy/pool.js';

describe('FairQueue', () => {
  it('keeps each key first in, first out, serves the keys in turn, and loses or repeats nothing', () => {
    const op = fc.oneof(fc.record({ push: fc.constantFrom('a', 'b', 'c', 'd') }), fc.constant({ shift: true as const }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const queue = new FairQueue<string>();
        let n = 0;
        const pushed: string[] = [];
        const served: string[] = [];
        // The model: keys in turn order, each with its items.
        const turns: [string, string[]][] = [];
        for (const o of ops) {
          if ('push' in o) {
            const item = `${o.push}${n++}`;
            queue.push(o.push, item);
            pushed.push(item);
            const entry = turns.find(([k]) => k === o.push);
            if (entry) entry[1].push(item);
            else turns.push([o.push, [item]]);
          } else {
            const got = queue.shift();
            const turn = turns.shift();
            const want = turn?.[1].shift();
            if (turn && turn[1].length > 0) turns.push(turn);
            expect(got).toBe(want);
            if (got !== undefined) served.push(got);
          }
          expect(queue.size).toBe(turns.reduce((sum, [, items]) => sum + items.length, 0));
        }
        const rest = queue.drain();
        expect(queue.size).toBe(0);
        expect([...served, ...rest].sort()).toEqual([...pushed].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('gives a newcomer the next turn after the key being served', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 100; i++) queue.push('flooder', `f${i}`);
    expect(queue.shift()).toBe('f0');
    queue.push('victim', 'v');
    expect(queue.shift()).toBe('f1');
    expect(queue.shift()).toBe('v');
  });
});
