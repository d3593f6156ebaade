/**
 * The first integer literal (digits, optional minus, no fraction or exponent) in valid JSON `text` that does not
 * survive the trip through a binary64 number, e.g. `9007199254740993` (parsed as ...992): undefined when there is
 * none. A literal survives when the number holds its value exactly (`1000000000000000000000`), or when it is the
 * number's shortest decimal text (`34973199644181630`, what JSON.stringify writes for that number): either way the
 * policy, the tool and the audit render the number the agent signed, not a neighbour.
 *
 * The parsed value no longer knows its digits, so this reads the text: one linear pass that skips strings. It runs
 * only when the parsed body holds an integer beyond 2^53, so ordinary bodies never pay for it. Literals are at most
 * 309 digits here (anything longer parsed to Infinity and was refused before), so BigInt stays cheap.
 */
export function firstInexactInteger(text: string): string | undefined {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote; an escape takes the next character with it.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else {
          i++;
          if (d === 0x22) break;
        }
      }
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      let integer = true;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d >= 0x30 && d <= 0x39) i++;
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          integer = false;
          i++;
        } else break;
      }
      if (integer) {
        const literal = text.slice(start, i);
        const value = Number(literal);
        if (!Number.isSafeInteger(value) && Number.isFinite(value) && String(value) !== literal && BigInt(literal) !== BigInt(value)) return literal;
      }
    } else {
      i++;
    }
  }
  return undefined;
}
