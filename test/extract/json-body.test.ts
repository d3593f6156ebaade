import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON_LIMITS, parseHttpCall, parseJsonBody, parseMcpCall, resolveJsonLimits } from '../../src/extract/index.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { BadRequestError, ConfigError } from '../../src/errors.js';
import { jsonObject, nestedText, PROTO_KEYS } from '../helpers/json-shapes.js';

const buf = (s: string) => Buffer.from(s, 'utf8');
const reasonOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as BadRequestError).reason;
  }
};
const mcp = (args: string) => buf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":${args}}}`);

describe('nesting depth', () => {
  it('accepts exactly maxDepth levels and refuses one more, over HTTP and MCP', () => {
    const max = DEFAULT_JSON_LIMITS.maxDepth;
    // The body's own braces count: an HTTP body is the arguments, an MCP body spends two levels on the envelope.
    expect(reasonOf(() => parseHttpCall('t', buf(`{"a":${nestedText(max - 1)}}`)))).toBeUndefined();
    expect(reasonOf(() => parseHttpCall('t', buf(`{"a":${nestedText(max)}}`)))).toBe('json_too_deep');
    expect(reasonOf(() => parseMcpCall(mcp(`{"a":${nestedText(max - 3)}}`)))).toBeUndefined();
    expect(reasonOf(() => parseMcpCall(mcp(`{"a":${nestedText(max - 2)}}`)))).toBe('json_too_deep');
  });

  it.each([8_000, 10_000, 100_000, 500_000])('refuses %i levels (the 503s of the issue) with json_too_deep, fast', (depth) => {
    const body = buf(`{"a":${nestedText(depth - 1)}}`);
    const started = performance.now();
    expect(reasonOf(() => parseHttpCall('t', body))).toBe('json_too_deep');
    expect(reasonOf(() => parseMcpCall(mcp(nestedText(depth))))).toBe('json_too_deep');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('follows configured limits', () => {
    const limits = resolveJsonLimits({ maxDepth: 3 });
    expect(reasonOf(() => parseHttpCall('t', buf('{"a":{"b":[]}}'), limits))).toBeUndefined();
    expect(reasonOf(() => parseHttpCall('t', buf('{"a":{"b":[[]]}}'), limits))).toBe('json_too_deep');
  });
});

describe('element count', () => {
  const array = (n: number) => `{"a":[${Array(n).fill('0').join(',')}]}`;
  it('counts every value, the root included, and refuses one over maxElements', () => {
    const max = DEFAULT_JSON_LIMITS.maxElements;
    // root + member "a" + its elements
    expect(reasonOf(() => parseHttpCall('t', buf(array(max - 2))))).toBeUndefined();
    expect(reasonOf(() => parseHttpCall('t', buf(array(max - 1))))).toBe('json_too_many_elements');
  });

  it.each([
    ['a 1 MiB array of zeros', array(512 * 1024)],
    ['many small objects', `{"a":[${Array(6000).fill('{"k":1}').join(',')}]}`],
    ['many members', `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":null`).join(',')}}`],
  ])('refuses %s with json_too_many_elements', (_name, body) => {
    expect(reasonOf(() => parseHttpCall('t', buf(body)))).toBe('json_too_many_elements');
  });

  it('follows configured limits', () => {
    expect(reasonOf(() => parseHttpCall('t', buf('{"a":[1,2]}'), resolveJsonLimits({ maxElements: 4 })))).toBeUndefined();
    expect(reasonOf(() => parseHttpCall('t', buf('{"a":[1,2,3]}'), resolveJsonLimits({ maxElements: 4 })))).toBe('json_too_many_elements');
  });
});

describe('UTF-8', () => {
  it.each([
    ['a lone continuation byte', [0x80]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
    ['0xFF', [0xff]],
    ['a code point beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses %s inside a string with invalid_utf8 (never replaced by U+FFFD)', (_name, bytes) => {
    const body = Buffer.concat([buf('{"to":"a'), Buffer.from(bytes), buf('b"}')]);
    expect(reasonOf(() => parseHttpCall('t', body))).toBe('invalid_utf8');
    expect(reasonOf(() => parseMcpCall(Buffer.concat([buf('{"jsonrpc":"2.0","method":"x'), Buffer.from(bytes), buf('"}')])))).toBe('invalid_utf8');
  });

  it('keeps valid multi-byte text exactly', () => {
    expect(parseHttpCall('t', buf('{"s":"é 😀 \u2028 ok"}')).args).toEqual({ s: 'é 😀 \u2028 ok' });
  });

  it('refuses a byte order mark, as before (RFC 8259 §8.1)', () => {
    expect(reasonOf(() => parseHttpCall('t', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf('{}')])))).toBe('invalid_json');
  });
});

describe('lone surrogates', () => {
  it.each([
    ['a high surrogate alone', '{"s":"x\\ud800"}'],
    ['a low surrogate alone', '{"s":"\\udc00x"}'],
    ['reversed halves', '{"s":"\\udc00\\ud800"}'],
    ['in a member name', '{"k\\ud800":1}'],
    ['deep in an array', '{"a":[[[{"b":["ok","\\udfff"]}]]]}'],
    ['in a nested member name', '{"a":{"b":{"\\ud83d":true}}}'],
    ['in an MCP method name', '{"jsonrpc":"2.0","method":"tools/\\ud800"}'],
  ])('refuses %s with invalid_unicode', (_name, body) => {
    const run = body.includes('jsonrpc') ? () => parseMcpCall(buf(body)) : () => parseHttpCall('t', buf(body));
    expect(reasonOf(run)).toBe('invalid_unicode');
  });

  it('accepts an escaped surrogate pair', () => {
    expect(parseHttpCall('t', buf('{"s":"\\ud83d\\ude00"}')).args).toEqual({ s: '😀' });
  });
});

describe('numbers', () => {
  it.each(['1e400', '-1e400', '1E309', '-2e308', `1${'0'.repeat(400)}`, '9007199254740993', '-9007199254740993', '12345678901234567891', '18446744073709551615', '34973199644181631'])(
    'refuses %s with number_out_of_range, at any depth',
    (n) => {
      expect(reasonOf(() => parseHttpCall('t', buf(`{"n":${n}}`)))).toBe('number_out_of_range');
      expect(reasonOf(() => parseHttpCall('t', buf(`{"a":[{"b":[${n}]}]}`)))).toBe('number_out_of_range');
      expect(reasonOf(() => parseMcpCall(mcp(`{"n":${n}}`)))).toBe('number_out_of_range');
    },
  );

  it.each([
    ['2^53 exactly', '9007199254740992', 9007199254740992],
    ['2^53 - 1', '9007199254740991', Number.MAX_SAFE_INTEGER],
    ['a large exact integer', '1000000000000000000000', 1e21],
    ['the shortest text of a large number, as JSON.stringify writes it', '34973199644181630', 34973199644181630],
    ['an exponent (a float by writing)', '1e300', 1e300],
    ['a fraction beyond 2^53', '9007199254740993.0', 9007199254740992],
    ['an underflow (rounds to 0 for everyone)', '1e-400', 0],
    ['an ordinary fraction', '0.1', 0.1],
  ])('accepts %s', (_name, text, value) => {
    expect(parseHttpCall('t', buf(`{"n":${text}}`)).args.n).toBe(value);
  });

  it('property: every finite number as JSON.stringify writes it is accepted as that number', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(Number)), (n) => {
        expect(parseHttpCall('t', buf(`{"n":${JSON.stringify(n)}}`)).args.n).toBe(n === 0 ? 0 : n);
      }),
      { numRuns: 1000 },
    );
  });

  it('property: an integer literal beyond 2^53 is accepted exactly when JSON numbers carry it back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }), fc.boolean(), (big, negative) => {
        const literal = `${negative ? '-' : ''}${big}`;
        const n = Number(literal);
        const faithful = BigInt(n) === BigInt(literal) || String(n) === literal;
        expect(reasonOf(() => parseHttpCall('t', buf(`{"n":${literal}}`)))).toBe(faithful ? undefined : 'number_out_of_range');
      }),
      { numRuns: 1000 },
    );
  });

  it('does not read digits inside strings as numbers', () => {
    expect(parseHttpCall('t', buf('{"a":1e300,"s":"9007199254740993","t":"\\"12345678901234567890"}')).args.s).toBe('9007199254740993');
  });

  it('stores -0 as 0, which is what the policy and the audit see', () => {
    const { args } = parseHttpCall('t', buf('{"a":-0,"b":[-0.0],"__proto__":-0}'));
    expect(Object.is(args.a, 0)).toBe(true);
    expect(Object.is((args.b as number[])[0], 0)).toBe(true);
    expect(Object.getOwnPropertyDescriptor(args, '__proto__')?.value).toBe(0);
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
  });
});

describe('what extraction lets through', () => {
  it.each(PROTO_KEYS)('keeps %s as an own data member at every depth', (key) => {
    const { args } = parseHttpCall('t', buf(`{"${key}":{"${key}":[{"${key}":1}]}}`));
    const inner = (Object.getOwnPropertyDescriptor(args, key)?.value as Record<string, unknown[]>);
    expect(Object.getOwnPropertyDescriptor(inner, key)?.value).toEqual([JSON.parse(`{"${key}":1}`)]);
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
  });

  it('property: any faithful JSON object is accepted unchanged, and canonical JSON round-trips it', () => {
    fc.assert(
      fc.property(jsonObject, (args) => {
        const text = JSON.stringify(args);
        const parsed = parseHttpCall('t', buf(text)).args;
        expect(canonicalJson(parsed)).toBe(canonicalJson(args));
        expect(canonicalJson(JSON.parse(canonicalJson(parsed)))).toBe(canonicalJson(parsed));
        expect(Object.keys(parsed)).toEqual(Object.keys(args));
      }),
      { numRuns: 300 },
    );
  });

  it('property: a byte string is refused with a coded 400 or parsed; never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          parseHttpCall('t', Buffer.from(bytes));
        } catch (error) {
          expect(error).toBeInstanceOf(BadRequestError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('json limits options', () => {
  it.each([[{ maxDepth: 0 }], [{ maxElements: 1.5 }], [{ maxDepth: '64' }], [{ depth: 3 }], [null]])('refuses %j at start-up', (given) => {
    expect(() => resolveJsonLimits(given as never)).toThrow(ConfigError);
  });
  it('defaults to 64 levels and 10,000 values', () => {
    expect(resolveJsonLimits(undefined)).toEqual({ maxDepth: 64, maxElements: 10_000 });
    expect(resolveJsonLimits({ maxElements: 50_000 })).toEqual({ maxDepth: 64, maxElements: 50_000 });
  });
});

describe('parseJsonBody', () => {
  it('reads an empty body as no value', () => {
    expect(parseJsonBody(Buffer.alloc(0))).toBeUndefined();
  });
});
