import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { SIGNATURES_FILE, verifySignatures, type BundleVerification } from './signature.js';
import { DEFAULT_ARCHIVE_LIMITS, readTarball } from './tarball.js';

/** The pieces of an `opa build -t wasm` bundle the gateway needs. */
export interface PolicyBundle {
  readonly wasm: Buffer;
  /** data.json as bytes: opa-wasm takes pre-serialized JSON, and the bytes feed the bundle hash. */
  readonly data: Buffer;
  readonly manifest: { readonly revision: string; readonly roots?: readonly string[]; readonly wasm?: readonly { entrypoint: string; module: string }[] };
  /** SHA-256 over policy.wasm then data.json: what the audit event calls `policy.sha256`. */
  readonly sha256: string;
  /** The key id that signed it, when signatures were verified. */
  readonly signedBy?: string;
}

/** The files a directory bundle contributes: the gateway loads these and nothing else from it. */
const DIRECTORY_FILES = ['policy.wasm', 'data.json', '.manifest', SIGNATURES_FILE] as const;

export interface LoadBundleOptions {
  /** Verify `.signatures.json` with this key and refuse unsigned bundles. Default: signatures are not checked. */
  readonly verification?: BundleVerification;
}

/**
 * The bundle's files, by OPA's names: from a directory (policy.wasm, data.json, .manifest and .signatures.json
 * when present) or from `bundle.tar.gz` as `opa build` wrote it (every file).
 */
export async function readBundleFiles(path: string): Promise<{ files: Map<string, Buffer>; archive: boolean }> {
  try {
    if ((await stat(path)).isDirectory()) {
      const files = new Map<string, Buffer>();
      for (const name of DIRECTORY_FILES) {
        const file = join(path, name);
        const info = await stat(file).catch(() => null);
        if (!info) continue;
        if (!info.isFile() || info.size > DEFAULT_ARCHIVE_LIMITS.maxBytes) throw new Error(`${file} is not a regular file under ${DEFAULT_ARCHIVE_LIMITS.maxBytes} bytes`);
        files.set(name, await readFile(file));
      }
      return { files, archive: false };
    }
    return { files: await readTarball(await readFile(path), path), archive: true };
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError('policy_bundle_unreadable', `Cannot read the policy bundle at ${path}: run \`make policy\` to build it, or set policy.bundle to a bundle directory, bundle.tar.gz or bundle server URL.`, { cause });
  }
}

/** Loads a bundle from a directory or a `bundle.tar.gz`, verifying its signature when `verification` is set. */
export async function loadBundle(path: string, options: LoadBundleOptions = {}): Promise<PolicyBundle> {
  const { files, archive } = await readBundleFiles(path);
  return parseBundle(files, path, { ...options, complete: archive });
}

/**
 * Turns a bundle's files into what the engine loads: signature first (so nothing unsigned is even parsed), then
 * policy.wasm, data.json and .manifest. `complete`: the files are the whole bundle (an archive), so a signature
 * must list exactly them.
 */
export async function parseBundle(files: ReadonlyMap<string, Buffer>, where: string, options: LoadBundleOptions & { readonly complete?: boolean } = {}): Promise<PolicyBundle> {
  const signedBy = options.verification ? await verifySignatures(files, options.verification, where, options.complete ?? true) : undefined;
  const wasm = files.get('policy.wasm');
  if (!wasm || wasm.length === 0) {
    throw new ConfigError('policy_bundle_invalid', `The policy bundle at ${where} has no policy.wasm: build it with \`opa build -t wasm -e toolgate/decision\` (make policy).`);
  }
  const data = files.get('data.json')?.length ? files.get('data.json')! : Buffer.from('{}');
  let manifest: PolicyBundle['manifest'] = { revision: '' };
  const rawManifest = files.get('.manifest');
  if (rawManifest?.length) {
    try {
      manifest = JSON.parse(rawManifest.toString('utf8')) as PolicyBundle['manifest'];
    } catch (cause) {
      throw new ConfigError('policy_bundle_invalid', `The policy bundle's .manifest at ${where} is not JSON: rebuild the bundle with make policy.`, { cause });
    }
  }
  try {
    JSON.parse(data.toString('utf8'));
  } catch (cause) {
    throw new ConfigError('policy_bundle_invalid', `The policy bundle's data.json at ${where} is not JSON: fix rego/data.json and rebuild.`, { cause });
  }
  const sha256 = createHash('sha256').update(wasm).update(data).digest('hex');
  return { wasm, data, manifest, sha256, ...(signedBy !== undefined ? { signedBy } : {}) };
}

/** Settings the gateway itself reads from a bundle's data.json (the rules never see them as such). */
export interface BundleSettings {
  /** `toolgate.config.timezone`: the zone the policy's time windows are written for. */
  readonly timezone: string | undefined;
  /** `toolgate.rollout.canary_fraction` (0-1): the share of agents a canary candidate decides for. */
  readonly rollout: number | undefined;
}

/** Reads BundleSettings once per revision; anything malformed is treated as unset. */
export function bundleSettings(data: Buffer): BundleSettings {
  let doc: { toolgate?: { config?: { timezone?: unknown }; rollout?: { canary_fraction?: unknown } } } = {};
  try {
    doc = JSON.parse(data.toString('utf8')) as typeof doc;
  } catch {
    // parseBundle refuses data.json that is not JSON; a caller with raw bytes gets no settings.
  }
  const tz = doc?.toolgate?.config?.timezone;
  const f = doc?.toolgate?.rollout?.canary_fraction;
  return { timezone: typeof tz === 'string' && tz !== '' ? tz : undefined, rollout: typeof f === 'number' && f >= 0 && f <= 1 ? f : undefined };
}
