import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { ConfigError } from '../errors.js';

/** Bounds on one bundle archive: a hostile or broken bundle server cannot exhaust memory through us. */
export interface ArchiveLimits {
  /** Largest archive after gunzip, bytes. Default 128 MiB. */
  readonly maxBytes: number;
  /** Most files in one archive. Default 10,000. */
  readonly maxFiles: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = { maxBytes: 128 * 1024 * 1024, maxFiles: 10_000 };

/**
 * Reads every regular file of a gzipped tarball (as `opa build` writes it) into memory, named as OPA names bundle
 * files: relative to the root, without the leading "/". Links, devices and paths that climb out of the root are
 * refused rather than skipped — a bundle that holds them was not written by opa build, so it is not trusted.
 */
export async function readTarball(gz: Buffer, where: string, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<Map<string, Buffer>> {
  let tar: Buffer;
  try {
    // maxOutputLength bounds a gzip bomb before any of it is parsed.
    tar = gunzipSync(gz, { maxOutputLength: limits.maxBytes });
  } catch (cause) {
    const big = (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ConfigError(big ? 'policy_bundle_too_large' : 'policy_bundle_unreadable', big
      ? `The policy bundle ${where} unpacks to more than ${limits.maxBytes} bytes: build a smaller bundle (opa build) or check what the bundle server serves.`
      : `The policy bundle ${where} is not a gzipped tarball: serve the bundle.tar.gz that opa build (make policy) wrote.`, { cause });
  }
  const files = new Map<string, Buffer>();
  let refusal: ConfigError | undefined;
  const refuse = (error: ConfigError) => {
    refusal ??= error;
  };
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (refusal) return entry.resume();
      if (entry.type === 'Directory') return entry.resume();
      const name = bundlePath(entry.path);
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
        refuse(new ConfigError('policy_bundle_invalid', `The policy bundle ${where} holds ${JSON.stringify(entry.path)} of type ${entry.type}; bundles may hold only regular files: rebuild it with opa build.`));
        return entry.resume();
      }
      if (name === null) {
        refuse(new ConfigError('policy_bundle_invalid', `The policy bundle ${where} holds a file named ${JSON.stringify(entry.path)} outside its root; refused. Rebuild it with opa build.`));
        return entry.resume();
      }
      if (files.has(name) || files.size >= limits.maxFiles) {
        refuse(new ConfigError('policy_bundle_invalid', files.has(name)
          ? `The policy bundle ${where} holds ${name} twice; refused (which one would count is ambiguous). Rebuild it with opa build.`
          : `The policy bundle ${where} holds more than ${limits.maxFiles} files; refused.`));
        return entry.resume();
      }
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => files.set(name, Buffer.concat(chunks)));
      return undefined;
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('warn', (code: string, message: string) => refuse(new ConfigError('policy_bundle_unreadable', `The policy bundle ${where} is not a valid tarball (${code}: ${message}): serve the bundle.tar.gz that opa build wrote.`)));
    parser.on('end', resolve);
    parser.end(tar);
  }).catch((cause: unknown) => {
    refuse(new ConfigError('policy_bundle_unreadable', `The policy bundle ${where} is not a valid tarball (${cause instanceof Error ? cause.message : String(cause)}): serve the bundle.tar.gz that opa build wrote.`, { cause }));
  });
  if (refusal) throw refusal;
  return files;
}

/** OPA's name for an archive member ("/data.json" → "data.json"), or null when it is absolute elsewhere or climbs with "..". */
export function bundlePath(raw: string): string | null {
  const name = raw.replace(/\\/g, '/').replace(/^(?:\.?\/)+/, '');
  if (name === '' || /^[A-Za-z]:/.test(name)) return null;
  const segments = name.split('/');
  if (segments.some((s) => s === '..' || s === '')) return null;
  return segments.filter((s) => s !== '.').join('/');
}
