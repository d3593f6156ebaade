import fc from 'fast-check';

/** The canonical spellings of the demo's protected routes. */
export const PROTECTED_TARGETS: readonly string[] = ['/tools/email.send', '/tools/trade.suggest', '/tools/memory.write', '/mcp'];

type Mutation = (target: string) => string;

const at = (s: string, n: number) => (s.length === 0 ? 0 : n % s.length);
const hex = (c: number, upper: boolean) => `%${c.toString(16).padStart(2, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`;

/** Spelling changes a router, proxy or framework might read past: each keeps the target sendable over HTTP/1.1. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n): Mutation => (t) => {
    const i = at(t, n);
    const c = t[i]!;
    const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
    return t.slice(0, i) + flipped + t.slice(i + 1);
  }),
  fc.constant<Mutation>((t) => `${t}/`),
  fc.nat().map((n): Mutation => (t) => {
    const slashes = [...t.matchAll(/\//g)].map((m) => m.index);
    const i = slashes[n % Math.max(1, slashes.length)] ?? 0;
    return `${t.slice(0, i)}/${t.slice(i)}`;
  }),
  fc.tuple(fc.nat(), fc.boolean()).map(([n, upper]): Mutation => (t) => {
    const i = at(t, n);
    if (t[i] === '%') return t;
    return t.slice(0, i) + hex(t.charCodeAt(i), upper) + t.slice(i + 1);
  }),
  fc.constant<Mutation>((t) => t.replace('%', '%25')),
  fc.tuple(fc.nat(), fc.constantFrom('/.', '/x/..', '/%2e', '/x/.%2E', '/./.')).map(([n, dots]): Mutation => (t) => {
    const slashes = [...t.matchAll(/\//g)].map((m) => m.index);
    const i = slashes[n % Math.max(1, slashes.length)] ?? 0;
    return `${t.slice(0, i)}${dots}${t.slice(i)}`;
  }),
  fc.tuple(fc.nat(), fc.constantFrom(';', ';p=1', ';jsessionid=x')).map(([n, param]): Mutation => (t) => {
    const ends = [...t.matchAll(/(?=\/)|$/g)].map((m) => m.index).filter((i) => i > 0);
    const i = ends[n % Math.max(1, ends.length)] ?? t.length;
    return `${t.slice(0, i)}${param}${t.slice(i)}`;
  }),
  fc.constantFrom<Mutation>((t) => `${t}?`, (t) => `${t}?a=b`, (t) => `${t}?tool=email.send`),
  fc.nat().map((n): Mutation => (t) => {
    const slashes = [...t.matchAll(/\//g)].map((m) => m.index);
    const i = slashes[n % Math.max(1, slashes.length)];
    return i === undefined ? t : `${t.slice(0, i)}\\${t.slice(i + 1)}`;
  }),
);

export interface TargetVariant {
  readonly base: string;
  readonly target: string;
}

/**
 * A request target aimed at one of the protected routes: the canonical spelling with 0-4 spelling changes, in
 * origin-form or (sometimes) absolute-form against `origin`.
 */
export function targetVariant(origin: string): fc.Arbitrary<TargetVariant> {
  return fc
    .tuple(fc.constantFrom(...PROTECTED_TARGETS), fc.array(mutation, { maxLength: 4 }), fc.boolean(), fc.nat(9))
    .map(([base, mutations, absolute, roll]) => {
      let target = base;
      for (const m of mutations) target = m(target);
      if (!target.startsWith('/') && !target.startsWith('\\')) target = `/${target}`;
      // Absolute-form now and then: Express routes it by its path.
      if (absolute && roll < 3) target = `${origin}${target}`;
      return { base, target };
    });
}
