import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The pinned opa the project builds with (scripts/opa.sh downloads it once into the cache). */
export const OPA = process.env.TOOLGATE_OPA ?? execFileSync('bash', ['scripts/opa.sh'], { encoding: 'utf8' }).trim();

/** The demo policy's data.json, loosely typed: tests change a few settings in it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DemoData = { toolgate: { config: Record<string, any> } };

/** Lifts every rate limit of the demo data: load tests are about which revision decides, not about limits. */
export function unlimited(d: DemoData): void {
  for (const tool of Object.values(d.toolgate.config.tools) as { rate?: { max: number } }[]) if (tool.rate) tool.rate.max = 1_000_000;
  d.toolgate.config.defaults.rate.max = 1_000_000;
}

export interface BuildOptions {
  readonly revision: string;
  /** Changes the demo policy's data.json before building (the rego stays the project's). */
  readonly data?: (data: DemoData) => void;
  /** PEM private key for `opa build --signing-key`. */
  readonly signingKey?: string;
  readonly signingAlg?: string;
  /** Default toolgate/decision. */
  readonly entrypoint?: string;
  /** Rego files (name → source) to build instead of the project's rego/. */
  readonly rego?: Readonly<Record<string, string>>;
}

/**
 * Builds a real bundle.tar.gz from rego/ (plus modified data) with the real opa, the way scripts/policy.sh does
 * in bundle mode, into a temp dir. Returns the archive's path.
 */
export function buildBundle(options: BuildOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bundle-'));
  const src = join(dir, 'src');
  mkdirSync(src);
  if (options.rego) {
    for (const [name, text] of Object.entries(options.rego)) writeFileSync(join(src, name), text);
    writeFileSync(join(src, 'data.json'), '{"toolgate": {"config": {}}}');
  } else {
    cpSync('rego', src, { recursive: true, filter: (p) => !p.endsWith('_test.rego') && !p.endsWith('.md') && !p.endsWith('reason_codes.json') });
  }
  if (options.data) {
    const data = JSON.parse(readFileSync(join(src, 'data.json'), 'utf8')) as DemoData;
    options.data(data);
    writeFileSync(join(src, 'data.json'), JSON.stringify(data, null, 2));
  }
  const out = join(dir, 'bundle.tar.gz');
  const args = ['build', '-b', '-t', 'wasm', '-e', options.entrypoint ?? 'toolgate/decision', '-r', options.revision, '--capabilities', resolve('build/wasm-capabilities.json'), '-o', out];
  if (options.signingKey) args.push('--signing-key', options.signingKey, ...(options.signingAlg ? ['--signing-alg', options.signingAlg] : []));
  // Relative paths, so the signed file names are the bundle's own (src/toolgate/lib.rego), not the temp dir's.
  execFileSync(OPA, [...args, 'src'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** A key pair in PEM files (openssl, as a policy author would make one). */
export function keyPair(kind: 'rsa' | 'ec' | 'ed25519'): { privateKey: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-key-'));
  const privateKey = join(dir, 'key.pem');
  const publicKey = join(dir, 'key.pub.pem');
  const gen = kind === 'rsa' ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : kind === 'ec' ? ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['genpkey', '-algorithm', 'ED25519'];
  execFileSync('openssl', [...gen, '-out', privateKey], { stdio: 'ignore' });
  execFileSync('openssl', ['pkey', '-in', privateKey, '-pubout', '-out', publicKey], { stdio: 'ignore' });
  return { privateKey, publicKey };
}
