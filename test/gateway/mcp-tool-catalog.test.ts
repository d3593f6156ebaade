import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANNOTATIONS, definitionFacts, ToolCatalog, UNKNOWN_TOOL } from '../../src/gateway/mcp-tool-catalog.js';

describe('tool definition facts', () => {
  it('fills every missing hint with the spec default and takes only JSON booleans', () => {
    expect(definitionFacts({ name: 't' }).annotations).toEqual(DEFAULT_ANNOTATIONS);
    const odd = definitionFacts({ name: 't', annotations: { readOnlyHint: 'true', destructiveHint: 0, idempotentHint: null, openWorldHint: false } });
    expect(odd.annotations).toEqual({ ...DEFAULT_ANNOTATIONS, openWorldHint: false });
    expect(definitionFacts({ name: 't', annotations: [true] }).annotations).toEqual(DEFAULT_ANNOTATIONS);
  });

  it('digests the definition canonically: member order does not matter, any change does', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), (extra, description) => {
        const a = definitionFacts({ name: 't', description, ...extra });
        const reordered = definitionFacts(Object.fromEntries(Object.entries({ name: 't', description, ...extra }).reverse()));
        expect(reordered.definition_sha256).toBe(a.definition_sha256);
        const changed = definitionFacts({ name: 't', ...extra, description: `${description}!` });
        if (!('description' in extra)) expect(changed.definition_sha256).not.toBe(a.definition_sha256);
      }),
    );
  });

  it('is unknown for anything that is not an object definition', () => {
    for (const v of [null, 1, 'x', [], undefined]) expect(definitionFacts(v)).toBe(UNKNOWN_TOOL);
  });
});

describe('ToolCatalog', () => {
  it('keeps the latest listing of a tool and judges unlisted tools with the defaults', () => {
    const catalog = new ToolCatalog();
    expect(catalog.facts('t', 'a')).toBe(UNKNOWN_TOOL);
    catalog.learn([{ name: 't', annotations: { readOnlyHint: true } }, { nameless: true }, 7], 'a');
    expect(catalog.facts('t', 'a').annotations.readOnlyHint).toBe(true);
    catalog.learn([{ name: 't', annotations: { readOnlyHint: false } }], 'a');
    expect(catalog.facts('t', 'a').annotations.readOnlyHint).toBe(false);
    expect(catalog.size).toBe(1);
  });

  it('is bounded: past maxTools the least recently listed tools become unknown again', () => {
    const catalog = new ToolCatalog({ maxTools: 3 });
    catalog.learn([{ name: 'a' }, { name: 'b' }, { name: 'c' }], 'a');
    catalog.learn([{ name: 'a' }], 'a'); // listed again: now the most recent
    catalog.learn([{ name: 'd' }], 'a');
    expect(catalog.size).toBe(3);
    expect(catalog.facts('b', 'a')).toBe(UNKNOWN_TOOL);
    for (const n of ['a', 'c', 'd']) expect(catalog.facts(n, 'a').definition_known).toBe(true);
    expect(() => new ToolCatalog({ maxTools: 0 })).toThrow(/maxTools/);
  });

  it("counts a definition only for the agent whose list showed it, unless the service said the list is public", () => {
    const catalog = new ToolCatalog();
    catalog.learn([{ name: 't', annotations: { readOnlyHint: true } }], 'a');
    expect(catalog.facts('t', 'a').annotations.readOnlyHint).toBe(true);
    expect(catalog.facts('t', 'b')).toBe(UNKNOWN_TOOL);
    expect(catalog.mirrors('t', 'b')).toBeUndefined();
    catalog.learn([{ name: 't', annotations: { destructiveHint: false } }], 'b', true);
    expect(catalog.facts('t', 'c').annotations.destructiveHint).toBe(false);
    // An agent's own listing wins over the public one.
    expect(catalog.facts('t', 'a').annotations.readOnlyHint).toBe(true);
  });

  it('a tool named like an Object.prototype member is just a name', () => {
    const catalog = new ToolCatalog();
    expect(catalog.facts('__proto__', 'a')).toBe(UNKNOWN_TOOL);
    catalog.learn([{ name: '__proto__', annotations: { readOnlyHint: true } }, { name: 'constructor' }], 'a');
    expect(catalog.facts('__proto__', 'a').annotations.readOnlyHint).toBe(true);
    expect(catalog.facts('toString', 'a')).toBe(UNKNOWN_TOOL);
  });
});
