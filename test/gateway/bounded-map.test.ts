import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OwnedBoundedMap } from '../../src/gateway/bounded-map.js';
import { ElicitationSessions } from '../../src/gateway/mcp-elicitation.js';
import { MemoryMcpSessionStore } from '../../src/gateway/mcp-sessions.js';

type Op = { kind: 'set'; key: string; owner: string; value: number } | { kind: 'delete'; key: string } | { kind: 'get'; key: string };

/** The obvious model: one list in recency order, oldest first; trim the owner's oldest, then the oldest of all. */
class Model {
  entries: { key: string; owner: string; value: number }[] = [];
  constructor(
    readonly max: number,
    readonly perOwner: number,
  ) {}
  set(key: string, owner: string, value: number): void {
    this.delete(key);
    this.entries.push({ key, owner, value });
    while (this.entries.filter((e) => e.owner === owner).length > this.perOwner) this.delete(this.entries.find((e) => e.owner === owner)!.key);
    while (this.entries.length > this.max) this.entries.shift();
  }
  delete(key: string): void {
    this.entries = this.entries.filter((e) => e.key !== key);
  }
}

describe('OwnedBoundedMap', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
  const owner = fc.constantFrom('x', 'y', 'z');
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key, owner, value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), key }),
    fc.record({ kind: fc.constant('get' as const), key }),
  );

  it('agrees with the model on every entry, owner and size, whatever the operations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (max, perOwner, ops) => {
        const map = new OwnedBoundedMap<number>(max, perOwner);
        const model = new Model(max, perOwner);
        for (const o of ops) {
          if (o.kind === 'set') {
            map.set(o.key, o.owner, o.value);
            model.set(o.key, o.owner, o.value);
          } else if (o.kind === 'delete') {
            map.delete(o.key);
            model.delete(o.key);
          }
          for (const k of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
            const m = model.entries.find((e) => e.key === k);
            expect(map.get(k)).toBe(m?.value);
            expect(map.ownerOf(k)).toBe(m?.owner);
          }
          expect(map.size).toBe(model.entries.length);
          for (const w of ['x', 'y', 'z']) expect(map.sizeOf(w)).toBe(model.entries.filter((e) => e.owner === w).length);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('refuses bounds below 1', () => {
    expect(() => new OwnedBoundedMap(0, 1)).toThrow(TypeError);
    expect(() => new OwnedBoundedMap(1, 0)).toThrow(TypeError);
  });
});

describe('MemoryMcpSessionStore under one agent opening sessions in a loop', () => {
  it('pushes out only that agent\'s own sessions, however many it opens', () => {
    const store = new MemoryMcpSessionStore({ maxSessions: 1_000, maxSessionsPerAgent: 100 });
    expect(store.bind('victim-session', 'room-assistant', 0)).toBe(true);
    for (let i = 0; i < 50_000; i++) store.bind(`flood-${i}`, 'advisor', i);
    expect(store.owner('victim-session', 50_000)).toBe('room-assistant');
    expect(store.size).toBe(101);
    expect(store.owner('flood-49999', 50_000)).toBe('advisor');
    expect(store.owner('flood-49899', 50_000)).toBeNull(); // its own 101st newest went
  });
});

describe('ElicitationSessions under one agent opening sessions in a loop', () => {
  it('keeps another agent\'s declared session and its pending approval', () => {
    const sessions = new ElicitationSessions(1_000, 1_000, 100);
    sessions.declare('victim-session', 'room-assistant');
    sessions.remember('victim-session', 'room-assistant', 'binding', 'apr_1');
    for (let i = 0; i < 20_000; i++) {
      sessions.declare(`flood-${i}`, 'advisor');
      sessions.remember(`flood-${i}`, 'advisor', 'binding', `apr_f${i}`);
    }
    expect(sessions.capable('victim-session')).toBe(true);
    expect(sessions.pendingFor('victim-session', 'binding')).toBe('apr_1');
    expect(sessions.capable('flood-19999')).toBe(true);
    expect(sessions.capable('flood-0')).toBe(false);
  });
});
