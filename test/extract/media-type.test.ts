import { describe, expect, it } from 'vitest';
import { requireJsonMediaType } from '../../src/extract/index.js';

const reasonOf = (contentType: string | undefined, length: number): string | undefined => {
  try {
    requireJsonMediaType(contentType, length);
    return undefined;
  } catch (error) {
    return (error as { reason: string }).reason;
  }
};

describe('requireJsonMediaType', () => {
  it.each([
    'application/json',
    'Application/JSON',
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'application/json; charset="utf-8"',
    'application/json; charset=utf8',
    'application/json; profile="x"',
    'application/merge-patch+json',
    'application/vnd.api+json; charset=utf-8',
    ' application/json ',
  ])('accepts %j', (type) => {
    expect(reasonOf(type, 10)).toBeUndefined();
  });

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'text/json',
    'application/jsonx',
    'application/json-seq',
    'application/+json',
    'application/json/x',
    'json',
    'application/json; charset=iso-8859-1',
    'application/json; charset=utf-16',
    'application/json; charset="utf-16le"',
  ])('refuses %j with unsupported_media_type', (type) => {
    expect(reasonOf(type, 10)).toBe('unsupported_media_type');
    expect(reasonOf(type, 0)).toBe('unsupported_media_type');
  });

  it('lets an empty body without Content-Type through (no arguments), and refuses a body without one', () => {
    expect(reasonOf(undefined, 0)).toBeUndefined();
    expect(reasonOf('', 0)).toBeUndefined();
    expect(reasonOf(undefined, 2)).toBe('unsupported_media_type');
  });

  it('stays linear on a hostile header', () => {
    const started = performance.now();
    expect(reasonOf(`application/json${'; charset='.repeat(1000)}"${'"'.repeat(8000)}`, 1)).toBe('unsupported_media_type');
    expect(reasonOf(`application/${'a'.repeat(16000)}`, 1)).toBe('unsupported_media_type');
    expect(performance.now() - started).toBeLessThan(100);
  });
});
