/**
 * Canonical JSON for hashing: object keys sorted by code unit, no whitespace, `undefined` members dropped,
 * as JSON.stringify renders primitives. Close to RFC 8785 for the values we produce (no floats in hashes
 * that could render differently across engines), and stable across gateway versions.
 *
 * Written as loops appending to one string rather than entries/filter/sort/map/join: 22 µs → 11.5 µs per decision
 * event (Node 26, warm, events from the bench's audit log); both events of every allowed call pay it. The output is
 * pinned byte for byte, odd values included, by test/audit/canonical.test.ts.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole renders as nothing, as Array.prototype.join does ([1,,3]); an undefined element as null.
      if (i in value) out += value[i] === undefined ? 'null' : canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, the order RFC 8785 asks for.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}
