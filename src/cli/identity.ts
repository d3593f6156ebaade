import { readFile, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createKeyDirectory, serveKeyDirectory } from '../agent/directory.js';
import { generateAgentKey } from '../agent/keys.js';
import { createRequestSigner, type SigningOptions } from '../agent/sign-request.js';
import { algorithmForJwk, ALGORITHMS, isAlgorithm, JOSE_NAMES, type Algorithm } from '../identity/algorithms.js';
import { hasPrivateMembers, jwkThumbprint, publicJwk, type Jwk } from '../identity/jwk.js';
import { UsageError } from './audit.js';

/*
 * Identity commands (the lead's main.ts dispatches to these):
 *   keygen [--out agent.key.json] [--alg ed25519] [--agent NAME] [--force] [--json]
 *   jwks KEYFILE... [--agent NAME] [--label k=v]...
 *   directory KEYFILE... [--authority HOST[:PORT]] [--serve [--host 127.0.0.1] [--port 0]] [--max-age 3600]
 *   sign URL --key KEYFILE [-X METHOD] [-d JSON | --data-file F] [-H 'Name: value']... [--signature-agent ORIGIN] [--tag T] [--label L] [--key-id ID]
 *   request URL (same options)   sends it; exit 0 on a 2xx answer, 1 otherwise
 */

const SIGNABLE = ALGORITHMS.filter((a): a is Exclude<Algorithm, 'hmac-sha256'> => a !== 'hmac-sha256');

/** `toolgate keygen`: writes a private JWK (mode 600) and prints the public key as a registry entry. */
export async function keygen(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { out: { type: 'string', short: 'o', default: 'agent.key.json' }, alg: { type: 'string', default: 'ed25519' }, agent: { type: 'string' }, force: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const alg = values.alg as Exclude<Algorithm, 'hmac-sha256'>;
  if (!SIGNABLE.includes(alg)) throw new UsageError(`--alg must be one of ${SIGNABLE.join(', ')}`);
  const key = generateAgentKey(alg);
  try {
    // 'wx' refuses to overwrite: losing a private key by accident is worse than an extra flag.
    await writeFile(values.out, `${JSON.stringify(key.privateJwk, null, 2)}\n`, { mode: 0o600, flag: values.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${values.out} exists: pick another --out or pass --force to overwrite it`);
    throw new UsageError(`cannot write ${values.out}: ${(error as Error).message}`);
  }
  const entry = { ...key.publicJwk, ...(values.agent ? { agent: values.agent } : {}) };
  if (values.json) {
    out.write(`${JSON.stringify({ keyFile: values.out, thumbprint: key.thumbprint, publicJwk: key.publicJwk, jwks: { keys: [entry] } }, null, 2)}\n`);
    return 0;
  }
  out.write(`wrote private key ${values.out} (mode 600: keep it secret)\n`);
  out.write(`thumbprint (keyid): ${key.thumbprint}\n`);
  out.write(`registry entry for the gateway's JWKS file${values.agent ? '' : ' (add "agent": "<name>")'}:\n`);
  out.write(`${JSON.stringify({ keys: [entry] }, null, 2)}\n`);
  return 0;
}

/** `toolgate jwks`: the public JWKS (registry format) for one or more key files. */
export async function jwks(argv: string[], out: Writable): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { agent: { type: 'string' }, label: { type: 'string', multiple: true, default: [] } } });
  if (positionals.length === 0) throw new UsageError('give one or more key files: toolgate jwks agent.key.json');
  const labels = Object.fromEntries(values.label.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--label takes key=value, got "${pair}"`);
    return [pair.slice(0, eq), pair.slice(eq + 1)];
  }));
  const keys = [];
  for (const file of positionals) {
    const jwk = await readJwk(file);
    const thumbprint = jwkThumbprint(jwk);
    const alg = algorithmForJwk(jwk);
    // Written under its JOSE name even when the key file predates it (RFC 9421 name): JWK tools check "alg".
    keys.push({ ...publicJwk(jwk), kid: jwk.kid ?? thumbprint, ...(isAlgorithm(alg) ? { alg: JOSE_NAMES[alg] } : {}), ...(values.agent ? { agent: values.agent } : {}), ...(Object.keys(labels).length ? { labels } : {}) });
  }
  out.write(`${JSON.stringify({ keys }, null, 2)}\n`);
  return 0;
}

/** `toolgate directory`: a signed Web Bot Auth key directory, printed (for an authority) or served. */
export async function directory(argv: string[], out: Writable, options: { signal?: AbortSignal } = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { authority: { type: 'string' }, serve: { type: 'boolean', default: false }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' }, 'max-age': { type: 'string', default: '3600' } },
  });
  if (positionals.length === 0) throw new UsageError('give one or more private key files: toolgate directory agent.key.json --serve');
  const maxAge = Number(values['max-age']);
  if (!Number.isInteger(maxAge) || maxAge < 0) throw new UsageError('--max-age takes whole seconds');
  const keys = await Promise.all(positionals.map((file) => readJwk(file, { private: true })));
  const dir = createKeyDirectory(keys, { maxAge });
  if (!values.serve) {
    // The response signatures bind the authority the directory is fetched from, so they exist only for one.
    out.write(`${JSON.stringify(values.authority ? { body: JSON.parse(dir.body), headers: dir.headersFor(values.authority) } : JSON.parse(dir.body), null, 2)}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port takes a TCP port (0 picks a free one)');
  const served = await serveKeyDirectory(dir, { host: values.host, port });
  out.write(`serving ${served.url}/.well-known/http-message-signatures-directory (Signature-Agent: sig1="${served.url}"); Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    if (options.signal) {
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    } else {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }
  });
  await served.close();
  return 0;
}

interface PreparedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

async function prepare(argv: string[]): Promise<PreparedRequest> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      key: { type: 'string', short: 'k' },
      request: { type: 'string', short: 'X' },
      data: { type: 'string', short: 'd' },
      'data-file': { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      'signature-agent': { type: 'string' },
      tag: { type: 'string' },
      label: { type: 'string' },
      'key-id': { type: 'string' },
      'expires-in': { type: 'string' },
    },
  });
  const [target] = positionals;
  if (target === undefined || positionals.length > 1) throw new UsageError('give one URL: toolgate request https://gateway.example/tools/email.send --key agent.key.json -d \'{"to":"…"}\'');
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`"${target}" is not a URL`);
  }
  if (values.key === undefined) throw new UsageError('--key <private key file> is required (toolgate keygen makes one)');
  if (values.data !== undefined && values['data-file'] !== undefined) throw new UsageError('give -d or --data-file, not both');
  const body = values['data-file'] !== undefined ? await readText(values['data-file']) : values.data;
  if (body !== undefined) {
    try {
      JSON.parse(body);
    } catch (error) {
      throw new UsageError(`the body is not JSON: ${(error as Error).message}`);
    }
  }
  const headers: Record<string, string> = {};
  for (const line of values.header) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new UsageError(`-H takes "Name: value", got "${line}"`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const expiresIn = values['expires-in'] === undefined ? undefined : Number(values['expires-in']);
  if (expiresIn !== undefined && !(expiresIn > 0)) throw new UsageError('--expires-in takes seconds');
  const signing: SigningOptions = {
    privateJwk: await readJwk(values.key, { private: true }),
    ...(values['key-id'] ? { keyId: values['key-id'] } : {}),
    ...(values.label ? { label: values.label } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
    ...(values['signature-agent'] ? { signatureAgent: values['signature-agent'] } : {}),
    ...(expiresIn ? { expiresIn } : {}),
  };
  const method = (values.request ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
  let signer;
  try {
    signer = createRequestSigner(signing);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  Object.assign(headers, signer({ method, url, headers, ...(body === undefined ? {} : { body }) }));
  return { url: url.href, method, headers, body };
}

/** `toolgate sign`: prints the signed request's headers (curl -H lines) without sending it. */
export async function sign(argv: string[], out: Writable): Promise<number> {
  const prepared = await prepare(argv);
  out.write(`${prepared.method} ${prepared.url}\n`);
  for (const [name, value] of Object.entries(prepared.headers)) out.write(`${name}: ${value}\n`);
  if (prepared.body !== undefined) out.write(`\n${prepared.body}\n`);
  return 0;
}

/** `toolgate request`: sends a signed request and prints the status line and body. Exit 0 on 2xx. */
export async function request(argv: string[], out: Writable): Promise<number> {
  const prepared = await prepare(argv);
  let response: Response;
  try {
    response = await fetch(prepared.url, { method: prepared.method, headers: prepared.headers, ...(prepared.body === undefined ? {} : { body: prepared.body }), redirect: 'manual' });
  } catch (error) {
    throw new UsageError(`cannot reach ${prepared.url}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  out.write(`HTTP ${response.status} ${response.statusText}\n`);
  const text = await response.text();
  if (text.length > 0) out.write(text.endsWith('\n') ? text : `${text}\n`);
  return response.ok ? 0 : 1;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function readJwk(file: string, want: { private?: boolean } = {}): Promise<Jwk> {
  let jwk: Jwk;
  try {
    jwk = JSON.parse(await readText(file)) as Jwk;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${file} is not a JWK (JSON): ${(error as Error).message}`);
  }
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') throw new UsageError(`${file} is not a JWK: no "kty"`);
  if (want.private && !hasPrivateMembers(jwk)) throw new UsageError(`${file} holds a public key: signing needs the private key file written by toolgate keygen`);
  return jwk;
}
