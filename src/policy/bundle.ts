import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../errors.js';

/** The pieces of an `opa build -t wasm` bundle the gateway needs. */
export interface PolicyBundle {
  readonly wasm: Buffer;
  /** data.json as bytes: opa-wasm takes pre-serialized JSON, and the bytes feed the bundle hash. */
  readonly data: Buffer;
  readonly manifest: { readonly revision: string; readonly roots?: readonly string[]; readonly wasm?: readonly { entrypoint: string; module: string }[] };
  /** SHA-256 over policy.wasm then data.json: what the audit event calls `policy.sha256`. */
  readonly sha256: string;
}

const MAX_ENTRY = 64 * 1024 * 1024;

/** Reads the few files we need out of a (gzipped) ustar archive; opa's bundles hold no links or long names we use. */
function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= archive.length) {
    const header = archive.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 48);
    if (!Number.isFinite(size) || size < 0 || size > MAX_ENTRY) throw new Error(`tar entry ${name} has a bad size`);
    const body = archive.subarray(off + 512, off + 512 + size);
    if (type === '0' || type === '\0') files.set((prefix ? `${prefix}/${name}` : name).replace(/^\.?\/+/, ''), Buffer.from(body));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Loads a bundle from a directory (policy.wasm, data.json, .manifest) or from `bundle.tar.gz` as `opa build` wrote it. */
export async function loadBundle(path: string): Promise<PolicyBundle> {
  let files: Map<string, Buffer>;
  try {
    if ((await stat(path)).isDirectory()) {
      files = new Map();
      for (const name of ['policy.wasm', 'data.json', '.manifest']) {
        files.set(name, await readFile(join(path, name)).catch(() => Buffer.alloc(0)));
      }
    } else {
      files = untar(gunzipSync(await readFile(path)));
    }
  } catch (cause) {
    throw new ConfigError('policy_bundle_unreadable', `Cannot read the policy bundle at ${path}: run \`make policy\` to build it, or set policy.bundle to a bundle directory or bundle.tar.gz.`, { cause });
  }
  const wasm = files.get('policy.wasm');
  if (!wasm || wasm.length === 0) {
    throw new ConfigError('policy_bundle_invalid', `The policy bundle at ${path} has no policy.wasm: build it with \`opa build -t wasm -e toolgate/decision\` (make policy).`);
  }
  const data = files.get('data.json')?.length ? files.get('data.json')! : Buffer.from('{}');
  let manifest: PolicyBundle['manifest'] = { revision: '' };
  const rawManifest = files.get('.manifest');
  if (rawManifest?.length) {
    try {
      manifest = JSON.parse(rawManifest.toString('utf8')) as PolicyBundle['manifest'];
    } catch (cause) {
      throw new ConfigError('policy_bundle_invalid', `The policy bundle's .manifest at ${path} is not JSON: rebuild the bundle with make policy.`, { cause });
    }
  }
  try {
    JSON.parse(data.toString('utf8'));
  } catch (cause) {
    throw new ConfigError('policy_bundle_invalid', `The policy bundle's data.json at ${path} is not JSON: fix rego/data.json and rebuild.`, { cause });
  }
  const sha256 = createHash('sha256').update(wasm).update(data).digest('hex');
  return { wasm, data, manifest, sha256 };
}

/** `toolgate.config.timezone` from the bundle's data.json, if the policy declares one. */
export function bundleTimezone(data: Buffer): string | undefined {
  try {
    const tz = (JSON.parse(data.toString('utf8')) as { toolgate?: { config?: { timezone?: unknown } } }).toolgate?.config?.timezone;
    return typeof tz === 'string' && tz !== '' ? tz : undefined;
  } catch {
    return undefined;
  }
}
