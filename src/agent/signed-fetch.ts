import { createRequestSigner, type SigningOptions } from './sign-request.js';

export interface SignedFetchOptions extends SigningOptions {
  /** The fetch to wrap. Default globalThis.fetch. */
  readonly fetch?: typeof fetch;
  /** Extra headers on every request, signed with it (e.g. Signature-Agent for Web Bot Auth). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A fetch that signs every request. Bodies must be a string or bytes (a stream cannot be digested before it is
 * sent). A string body without Content-Type gets the one fetch itself would add, so the signed value is the sent one.
 */
export function createSignedFetch(options: SignedFetchOptions): typeof fetch {
  const sign = createRequestSigner(options);
  const doFetch = options.fetch ?? globalThis.fetch;
  return async (input: string | URL | Request, init: RequestInit = {}) => {
    if (input instanceof Request) {
      const body = input.body === null ? undefined : new Uint8Array(await input.arrayBuffer());
      return signAndSend(input.url, { method: input.method, headers: input.headers, ...(body === undefined ? {} : { body }), ...init });
    }
    return signAndSend(input, init);
  };

  async function signAndSend(url: string | URL, init: RequestInit): Promise<Response> {
    const headers = new Headers(options.headers);
    new Headers(init.headers).forEach((value, name) => headers.set(name, value));
    const body = init.body ?? undefined;
    let bytes: string | Uint8Array | undefined;
    if (body === undefined || body === null) bytes = undefined;
    else if (typeof body === 'string') {
      bytes = body;
      if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
    } else if (body instanceof Uint8Array) bytes = body;
    else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
    else throw new TypeError('createSignedFetch signs string, Uint8Array or ArrayBuffer bodies only: serialize the body first');
    const method = init.method ?? 'GET';
    const signature = sign({ method, url, headers, ...(bytes === undefined ? {} : { body: bytes }) });
    for (const [name, value] of Object.entries(signature)) headers.set(name, value);
    return doFetch(url, { ...init, method, headers, ...(bytes === undefined ? {} : { body: bytes }) });
  }
}
