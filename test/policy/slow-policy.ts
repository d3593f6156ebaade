import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The opa binary: TOOLGATE_OPA (make test exports it) or the project's cached build. */
export function opaBinary(): string {
  return process.env.TOOLGATE_OPA ?? execFileSync('scripts/opa.sh', { encoding: 'utf8' }).trim();
}

/**
 * Builds test/fixtures/policy/slow (a policy whose run time grows with the square of `args.spin`) as a WASM bundle
 * the way scripts/policy.sh does, and returns the bundle's path.
 */
export function buildSlowPolicy(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'toolgate-slow-policy-')), 'bundle.tar.gz');
  execFileSync(opaBinary(), ['build', '-t', 'wasm', '-e', 'toolgate/decision', '-o', out, 'test/fixtures/policy/slow'], { stdio: 'pipe' });
  return out;
}

/** Arguments that keep the slow policy busy for seconds (9,000² pairs, about 4 s; under the gateway's 10,000-value body limit). */
export const RUNAWAY_ARGS = { spin: Array.from({ length: 9_000 }, (_, i) => i) };
