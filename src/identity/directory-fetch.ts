import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressRefusal } from './address-policy.js';
import { parseIp } from './ip-address.js';

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Host names and IP literals a fetch may reach even when they are loopback/private (tests, internal directories). */
  readonly allow: ReadonlySet<string>;
  readonly allowHttp: boolean;
}

export interface FetchedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Authority the request was sent to (Host), for `"@authority";req` in the response's signature. */
  readonly authority: string;
}

/** A directory fetch that failed; the message says why (it ends up in a directory_unavailable error). */
export class DirectoryFetchError extends Error {
  override readonly name = 'DirectoryFetchError';
}

/**
 * GET with the SSRF guards the Web Bot Auth draft asks for: no redirects, a wall-clock timeout, a byte cap, and
 * no connection to loopback/private/link-local addresses unless allowlisted. The address check runs in the socket's
 * DNS lookup, i.e. on the address actually dialled, so DNS rebinding cannot slip past it.
 */
export async function fetchDirectory(url: URL, accept: string, limits: FetchLimits): Promise<FetchedResponse> {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && limits.allowHttp)) throw new DirectoryFetchError(`${url.origin}: directories must be served over https`);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const hostAllowed = limits.allow.has(hostname);
  const literalRefusal = parseIp(hostname) === undefined || hostAllowed ? undefined : addressRefusal(hostname, limits.allow);
  if (literalRefusal !== undefined) throw new DirectoryFetchError(`${url.origin}: not a public address: ${literalRefusal} (allowlist it to fetch from it)`);
  const lookup: LookupFunction = (host, options, callback) => {
    dnsLookup(host, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refusals = hostAllowed ? [] : addresses.map((a) => addressRefusal(a.address, limits.allow));
      const usable = addresses.filter((_, i) => refusals[i] === undefined);
      if (usable.length === 0) return callback(new DirectoryFetchError(`${host} resolves only to non-public addresses: ${refusals.join('; ')}`), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
      const first = usable[0]!;
      return callback(null, first.address, first.family);
    });
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  return new Promise<FetchedResponse>((resolve, reject) => {
    const req = send(url, { method: 'GET', headers: { accept, 'accept-encoding': 'identity' }, lookup, signal, agent: false }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        // Redirects included: following one would let the directory point us anywhere.
        return reject(new DirectoryFetchError(`${url.href} answered ${status}, not 200`));
      }
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding !== 'identity') {
        res.destroy();
        return reject(new DirectoryFetchError(`${url.href} sent content-encoding ${encoding}`));
      }
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > limits.maxBytes) {
        res.destroy();
        return reject(new DirectoryFetchError(`${url.href} is larger than ${limits.maxBytes} bytes`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) {
          res.destroy();
          reject(new DirectoryFetchError(`${url.href} is larger than ${limits.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks), authority: url.host }));
      res.on('error', (error) => reject(new DirectoryFetchError(`${url.href}: ${error.message}`)));
    });
    req.on('error', (error) => reject(error instanceof DirectoryFetchError ? error : new DirectoryFetchError(`${url.href}: ${signal.aborted ? `no answer within ${limits.timeoutMs} ms` : error.message}`)));
    req.end();
  });
}
