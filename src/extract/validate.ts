import { BadRequestError } from '../errors.js';
import type { JsonLimits } from './json-limits.js';
import { firstInexactInteger } from './json-numbers.js';

type Container = unknown[] | Record<string, unknown>;

/**
 * One pass over a freshly parsed body, with an explicit stack (no recursion, whatever the nesting), that refuses
 * what the gateway cannot carry faithfully to the policy, the audit and the tool:
 * - nesting deeper than `maxDepth` or more than `maxElements` values (`json_too_deep`, `json_too_many_elements`);
 * - a string or member name with a lone surrogate (`invalid_unicode`): JSON.parse accepts `"\ud800"`, the policy
 *   engine's parser does not, and the audit would render it differently from what was signed;
 * - a number that is not a finite binary64 (`1e400` is Infinity to the tool, null to the policy), or an integer
 *   literal that comes back from binary64 as a different integer (`9007199254740993` → ...992; see
 *   firstInexactInteger) (`number_out_of_range`), so nobody judges a different number than the one signed.
 *   Fractions and exponents are decimal approximations by nature and round as in every JSON parser.
 * `-0` is stored as `0`: JSON renders both as `0`, so the policy would otherwise see a different value from the tool.
 *
 * `text` is the JSON text `value` was parsed from, read only when an integer beyond 2^53 needs its digits checked.
 */
export function validateJson(value: unknown, text: string, limits: JsonLimits): void {
  let elements = 1;
  let bigIntegers = false;
  const containers: Container[] = [];
  const depths: number[] = [];
  if (value !== null && typeof value === 'object') {
    containers.push(value as Container);
    depths.push(1);
  } else if (typeof value === 'string') {
    checkString(value);
  } else if (typeof value === 'number') {
    checkNumber(value);
    bigIntegers = !Number.isSafeInteger(value) && Number.isInteger(value);
  }
  while (containers.length > 0) {
    const node = containers.pop()!;
    const depth = depths.pop()!;
    if (depth > limits.maxDepth) {
      throw new BadRequestError('json_too_deep', `The JSON body nests objects and arrays more than ${limits.maxDepth} levels deep; the gateway accepts at most ${limits.maxDepth}. Send flatter arguments (or ask the operator to raise json.maxDepth).`);
    }
    const keys = Array.isArray(node) ? null : Object.keys(node);
    const count = keys ? keys.length : (node as unknown[]).length;
    // Counted before the children are pushed: a 500,000-element array is refused without stacking it.
    elements += count;
    if (elements > limits.maxElements) {
      throw new BadRequestError('json_too_many_elements', `The JSON body holds more than ${limits.maxElements} values (objects, arrays, strings, numbers, booleans and nulls together); the gateway accepts at most ${limits.maxElements}. Send fewer (or ask the operator to raise json.maxElements).`);
    }
    for (let i = 0; i < count; i++) {
      const key = keys ? keys[i]! : i;
      if (keys) checkString(key as string);
      const child = (node as Record<string | number, unknown>)[key];
      if (typeof child === 'string') {
        checkString(child);
      } else if (typeof child === 'number') {
        checkNumber(child);
        // -0 → 0. The member is an own data property (even "__proto__"), so this assignment runs no setter.
        if (child === 0 && 1 / child < 0) (node as Record<string | number, unknown>)[key] = 0;
        else if (!bigIntegers && Number.isInteger(child) && !Number.isSafeInteger(child)) bigIntegers = true;
      } else if (child !== null && typeof child === 'object') {
        containers.push(child as Container);
        depths.push(depth + 1);
      }
    }
  }
  if (bigIntegers) {
    const literal = firstInexactInteger(text);
    if (literal !== undefined) {
      const shown = literal.length > 40 ? `${literal.slice(0, 40)}…` : literal;
      throw new BadRequestError('number_out_of_range', `The integer ${shown} in the JSON body does not survive a JSON number (binary64 rounds integers beyond ±2^53): the policy, the tool and the audit would see ${String(Number(literal)).slice(0, 40)}. Send it as a string.`);
    }
  }
}

/** String.prototype.isWellFormed (ES2024, Node 20+; the project's lib is ES2023): a native scan, 2.4 µs per MiB. */
type Checked = string & { isWellFormed(): boolean };

function checkString(s: string): void {
  if (!(s as Checked).isWellFormed()) {
    throw new BadRequestError('invalid_unicode', 'A string or member name in the JSON body holds a lone surrogate (such as "\\ud800" without its low half), which is not Unicode text. Send well-formed UTF-16 escapes (a high and a low surrogate together) or the character itself.');
  }
}

function checkNumber(n: number): void {
  if (!Number.isFinite(n)) {
    throw new BadRequestError('number_out_of_range', 'A number in the JSON body is beyond the range of a JSON number (binary64, about ±1.8e308), e.g. 1e400; the policy would see null and the tool Infinity. Send a finite number, or the value as a string.');
  }
}
