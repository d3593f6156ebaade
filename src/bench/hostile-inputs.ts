/**
 * The worst inputs for the detectors: fixed shapes (the reports of issue 8, the attacks recheck found on the old
 * patterns, the ones the search below found) and a fast-check search over generated strings for more. A shape is
 * a short unit repeated to any size, so the same input can be timed at 256 KiB and at 1 MiB.
 */
import { detect } from '../classify/detectors.js';
import { median } from './stats.js';

/**
 * Ordinary calls the hostile gateway answers before the first hostile body, as every other target is measured after
 * a warm-up: the first calls through a new process run its request path before V8 has compiled it (the first answer
 * held the loop 33 ms in the enforce and response code alone), which says nothing about hostile bodies.
 */
export const HOSTILE_WARMUP_CALLS = 100;

export interface HostileShape {
  readonly name: string;
  /** Written once at the start. */
  readonly prefix: string;
  /** Repeated to the size asked for. */
  readonly unit: string;
  /** `fixed` (written down here) or `search` (found by searchHostileShapes in this run). */
  readonly origin: 'fixed' | 'search';
}

/** A string of exactly `chars` characters: the prefix, then the unit repeated (the last copy cut). */
export function buildHostile(shape: Pick<HostileShape, 'prefix' | 'unit'>, chars: number): string {
  const rest = Math.max(0, chars - shape.prefix.length);
  return (shape.prefix + shape.unit.repeat(Math.ceil(rest / shape.unit.length))).slice(0, chars);
}

const fixed = (name: string, unit: string, prefix = ''): HostileShape => ({ name, prefix, unit, origin: 'fixed' });

export const HOSTILE_SHAPES: readonly HostileShape[] = [
  // Issue 8: spaces after a seed-phrase-like word (seconds per 100 KiB before), thousands of addresses.
  fixed('seed word, then spaces', ' ', 'seed phrase'),
  fixed('seed word, then tabs', '\t', 'SEED\tWORD\t'),
  fixed('e-mail addresses', 'jane.doe@example.com '),
  fixed('short e-mail addresses', 'a@b.cc,'),
  // recheck's attack strings on the old patterns (jwt, email).
  fixed('JWT header fragments', 'eyJJ-'),
  fixed('e-mail local-part fragments', '_.'),
  fixed('address with dotted domain', `a@${'a.'.repeat(120)}`),
  // Dense candidates for the number detectors (cards, phones, SSNs, IBANs).
  fixed('digits and spaces', '1 '),
  fixed('card numbers', '4111 1111 1111 1111 '),
  fixed('phone-like groups', '+1 (555) 123 4567 8'),
  fixed('IBAN-like groups', 'DE89 3704 0044 0532 013 '),
  // Secret detectors' prefixes with runs that almost match.
  fixed('token prefixes', 'sk-ghp_xoxb-AKIAAIza'),
  fixed('api key assignments', 'token = "'),
  // Found by the search (2026-11-28): one assignment whose value runs on through the whole body, which the entropy
  // check then read at 70 ms per MiB.
  fixed('api key value running on', 'token=xoxb-'),
  fixed('private key headers', '-----BEGIN A PRIVATE KEY'),
];

/** The characters and fragments the search combines: every detector's anchors, separators and runs. */
const ATOMS = [
  'seed', 'phrase', 'words', 'mnemonic', 'abandon', 'abc', ' ', '\t', '\n', ':', '=', '-', '_', '.', ',', '"', "'",
  '@', 'a@', '@a.', '.co', 'eyJ', '.eyJ', 'AKIA', 'ghp_', 'github_pat_', 'xoxb-', 'sk-', 'sk_live_', 'AIza', 'token',
  'api_key', 'password', '-----BEGIN ', 'PRIVATE KEY-----', '-----END ', 'RSA ', 'DE89', 'GB', '0', '1', '12', '123',
  '1234', '+', '(', ')', '%', 'a', 'Z', '9', 'aaaaaaaa', '00000000',
];

/** CPU milliseconds of one `detect(text)`, median of `runs` (CPU time: other processes on the machine don't count). */
export function detectCpuMs(text: string, runs = 3): number {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const before = process.cpuUsage();
    detect(text);
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / 1000);
  }
  return median(samples);
}

/** The same per MiB of `text`. */
export function detectCostMsPerMiB(text: string, runs = 3): number {
  return (detectCpuMs(text, runs) * (1024 * 1024)) / text.length;
}

export interface SearchOptions {
  /** Generated units to try. */
  readonly runs: number;
  /** Size each unit is repeated to while timed (characters). */
  readonly sampleChars: number;
  /** How many of the slowest distinct units to return. */
  readonly keep: number;
  readonly seed: number;
}

/**
 * Lets fast-check generate units from ATOMS (1 to 12 of them), times `detect` on each repeated to `sampleChars`,
 * and returns the `keep` slowest as shapes, slowest first. fast-check is a dev dependency, so it is loaded only
 * when a search runs (make bench, tests).
 */
export async function searchHostileShapes(options: SearchOptions): Promise<(HostileShape & { readonly msPerMiB: number })[]> {
  const { default: fc } = await import('fast-check');
  const units = fc.sample(
    fc.array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: 12 }).map((parts) => parts.join('')),
    { numRuns: options.runs, seed: options.seed },
  );
  const timed = new Map<string, number>();
  for (const unit of units) {
    if (timed.has(unit)) continue;
    timed.set(unit, detectCostMsPerMiB(buildHostile({ prefix: '', unit }, options.sampleChars), 1));
  }
  // Re-time the slowest candidates with more runs: one sample on a shared machine can be a scheduling hiccup.
  const candidates = [...timed].sort((a, b) => b[1] - a[1]).slice(0, options.keep * 3);
  const retimed = candidates.map(([unit]) => ({ unit, msPerMiB: detectCostMsPerMiB(buildHostile({ prefix: '', unit }, options.sampleChars), 3) }));
  return retimed
    .sort((a, b) => b.msPerMiB - a.msPerMiB)
    .slice(0, options.keep)
    .map(({ unit, msPerMiB }, i) => ({ name: `search #${i + 1}: ${JSON.stringify(unit.slice(0, 40))}`, prefix: '', unit, origin: 'search' as const, msPerMiB }));
}
