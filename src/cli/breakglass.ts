import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import type { Jwk } from '../identity/jwk.js';
import { generateBreakGlassKey, issueBreakGlass } from '../breakglass/index.js';
import { UsageError } from './audit.js';

const DEFAULT_KEY = 'break-glass-admin.jwk';
const DEFAULT_JWKS = 'break-glass-admin.jwks.json';
// The verifier's default maxTtlS: longer tokens are refused unless the gateway was configured for them.
const GATEWAY_DEFAULT_MAX_TTL_S = 4 * 3600;

/**
 * `toolgate breakglass keygen [--key break-glass-admin.jwk] [--jwks break-glass-admin.jwks.json] [--force]`:
 * writes a new Ed25519 admin key (private JWK, mode 0600) and its public JWKS for the gateways' `adminJwks`.
 * Refuses to overwrite either file without --force.
 */
export async function breakGlassKeygen(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { key: { type: 'string' }, jwks: { type: 'string' }, force: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  const keyFile = values.key ?? DEFAULT_KEY;
  const jwksFile = values.jwks ?? DEFAULT_JWKS;
  if (keyFile === jwksFile) throw new UsageError('--key and --jwks must be different files: one is secret, the other public.');
  const admin = generateBreakGlassKey();
  const flag = values.force ? 'w' : 'wx';
  write(keyFile, `${JSON.stringify(admin.privateJwk, null, 2)}\n`, flag, 0o600);
  write(jwksFile, `${JSON.stringify(admin.publicJwks, null, 2)}\n`, flag, 0o644);
  out.write(`private key: ${keyFile} (keep it offline; it can unlock every tool)\n`);
  out.write(`public JWKS: ${jwksFile} (give it to the gateways as breakGlass adminJwks)\n`);
  out.write(`thumbprint:  ${admin.thumbprint}\n`);
  return 0;
}

/**
 * `toolgate breakglass issue --key admin.jwk --who alice --why "incident 42" [--ttl 1h] --scope trade.place
 * [--scope …] [--json]`: prints a token for the `Toolgate-Break-Glass` header (or {token, payload} with --json).
 */
export async function breakGlassIssue(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' },
      who: { type: 'string' },
      why: { type: 'string' },
      ttl: { type: 'string' },
      scope: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.key) throw new UsageError('--key is required: the private admin JWK from `toolgate breakglass keygen`.');
  if (!values.who) throw new UsageError('--who is required: the person breaking the glass, e.g. --who alice@example.com.');
  if (!values.why) throw new UsageError('--why is required: the incident or ticket, e.g. --why "incident 42".');
  const scopes = (values.scope ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (scopes.length === 0) throw new UsageError('--scope is required: the tool names to unlock (repeat it, or "*" for every tool).');
  const ttlS = parseDuration(values.ttl ?? '1h');
  const issued = issueBreakGlass({ privateJwk: readKey(values.key), who: values.who, why: values.why, ttlS, scopes });
  if (ttlS > GATEWAY_DEFAULT_MAX_TTL_S) {
    process.stderr.write(`toolgate: warning: gateways refuse tokens longer than their maxTtlS (default 4h) with ttl_too_long\n`);
  }
  out.write(values.json ? `${JSON.stringify(issued, null, 2)}\n` : `${issued.token}\n`);
  return 0;
}

/** `90`, `90s`, `30m`, `1h`, `2d` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,7})([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--ttl "${text}" is not a duration: use e.g. 900, 15m, 1h or 4h.`);
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
  const n = Number(m[1]) * (unit[m[2] ?? ''] ?? 1);
  if (n <= 0) throw new UsageError('--ttl must be longer than zero.');
  return n;
}

function readKey(file: string): Jwk {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('break_glass_key_unreadable', `cannot read the admin key ${file} (${(error as Error).message}); make one with \`toolgate breakglass keygen\`.`, { cause: error });
  }
  try {
    return JSON.parse(text) as Jwk;
  } catch (error) {
    throw new ConfigError('break_glass_key_invalid', `${file} is not a JWK (JSON); make one with \`toolgate breakglass keygen\`.`, { cause: error });
  }
}

function write(file: string, text: string, flag: string, mode: number): void {
  try {
    writeFileSync(file, text, { flag, mode });
    chmodSync(file, mode); // mode only applies when the file is created; --force may replace a looser one
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${file} exists: pass --force to replace it (gateways trusting the old key will refuse new tokens).`);
    throw error;
  }
}
