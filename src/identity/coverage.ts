import type { ComponentId } from './signature-fields.js';

// A required component is also satisfied by one that carries it in full: @target-uri holds scheme, authority,
// path and query; @request-target holds path and query.
const SATISFIED_BY: Readonly<Record<string, readonly string[]>> = {
  '@authority': ['@target-uri'],
  '@scheme': ['@target-uri'],
  '@path': ['@target-uri', '@request-target'],
  '@query': ['@target-uri', '@request-target'],
};

/** True when `components` cover `required` in full (a `;key=` member of a field is only part of it). */
export function covers(components: readonly ComponentId[], required: string): boolean {
  const names = [required, ...(SATISFIED_BY[required] ?? [])];
  return components.some((c) => names.includes(c.name) && !c.params.has('key') && !c.params.has('name'));
}

/** Required components the signature leaves out; body-bound fields are required only when there is a body. */
export function missingCoverage(components: readonly ComponentId[], required: readonly string[], hasBody: boolean): string[] {
  const all = hasBody ? [...required, 'content-digest', 'content-type'] : required;
  return all.filter((name, i) => all.indexOf(name) === i && !covers(components, name));
}
