import { createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequestSigner } from '../agent/sign-request.js';
import { sha256Hex } from '../audit/index.js';
import { scan } from '../classify/scan.js';
import { signatureCheck } from '../identity/algorithms.js';
import { setSignatureCheckPlacement, signatureCheckPlacement } from '../identity/check-placement.js';
import { createVerifier } from '../identity/index.js';
import type { IdentityOptions } from '../identity/types.js';
import { loadBundle, PolicyEngine, type PolicyBundle, type PolicyInput } from '../policy/index.js';
import { median, percentile, sorted } from './stats.js';
import type { MicroResult } from './types.js';
import { WASM_INPUT_FILE } from './wasm.js';
import { BENCH_AGENT, BENCH_ARGS, BENCH_BODY, BENCH_PATH, type BenchWorkspace } from './workspace.js';

export interface MicroSpec {
  readonly iterations: number;
  readonly rounds: number;
}

/** Times `fn` one call at a time (hrtime); the median over rounds of each round's p50 and p99. */
export async function timeCalls(name: string, fn: () => unknown, spec: MicroSpec): Promise<MicroResult> {
  const warm = Math.max(10, spec.iterations >> 3);
  for (let i = 0; i < warm; i++) await fn();
  const p50: number[] = [];
  const p99: number[] = [];
  const samples = new Float64Array(spec.iterations);
  for (let r = 0; r < spec.rounds; r++) {
    for (let i = 0; i < spec.iterations; i++) {
      const t = process.hrtime.bigint();
      const out = fn();
      if (out instanceof Promise) await out;
      samples[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    const s = sorted(samples);
    p50.push(percentile(s, 50));
    p99.push(percentile(s, 99));
  }
  return { name, p50Us: median(p50), p99Us: median(p99) };
}

/** The input the gateway builds for the HTTP bench call: the policy fixture with the bench's arguments, no attachment. */
export function benchCallInput(): PolicyInput {
  const fixture = JSON.parse(readFileSync(WASM_INPUT_FILE, 'utf8')) as PolicyInput & { resources: unknown; request: Record<string, unknown> };
  return { ...fixture, args: { ...BENCH_ARGS }, resources: { attachments: [] }, request: { ...fixture.request, content_length: Buffer.byteLength(BENCH_BODY) } } as PolicyInput;
}

/**
 * One Ed25519 verification through the identity stage's primitive (signatureCheck), on a signature base's size, in
 * line: the floor counts the verification's CPU, not the wait for a pool thread that the default placement adds
 * (check-placement.ts; timed that way the same run read 237 µs against 89 µs).
 */
export async function benchVerify(spec: MicroSpec): Promise<MicroResult> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const data = randomBytes(400);
  const signature = sign(null, data, privateKey);
  const check = signatureCheck(createPublicKey(publicKey.export({ format: 'pem', type: 'spki' })), 'ed25519');
  const placement = signatureCheckPlacement();
  setSignatureCheckPlacement('inline');
  try {
    if (!(await check(data, signature))) throw new Error('Ed25519 self-check failed');
    return await timeCalls('Ed25519 verify (identity primitive, in line)', () => check(data, signature), spec);
  } finally {
    setSignatureCheckPlacement(placement);
  }
}

/**
 * The request path's stages that run without a server, each alone: the whole signature check (signature base,
 * content digest, nonce, Ed25519), the detectors, the body hash, and the WASM evaluation of the bench call.
 */
export async function benchStages(workspace: BenchWorkspace, spec: MicroSpec): Promise<MicroResult[]> {
  const out: MicroResult[] = [await benchVerify(spec)];
  const verifier = await createVerifier({ jwksFiles: [workspace.agents.jwksFile] } as IdentityOptions);
  try {
    // Every verification spends a nonce: one fresh signature per call, made before timing.
    const signer = createRequestSigner({ privateJwk: workspace.agents.keys[BENCH_AGENT], expiresIn: 290 });
    const url = `http://127.0.0.1:8080${BENCH_PATH}`;
    const raw = Buffer.from(BENCH_BODY);
    const total = spec.iterations * spec.rounds + Math.max(10, spec.iterations >> 3);
    const pool = Array.from({ length: total }, () => signer({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: BENCH_BODY }));
    let next = 0;
    out.push(
      await timeCalls('request signature check (RFC 9421, digest, nonce)', () => {
        const headers = { host: '127.0.0.1:8080', 'content-type': 'application/json', ...lower(pool[next++]!) };
        return verifier.verify({ method: 'POST', target: BENCH_PATH, scheme: 'http', authority: '127.0.0.1:8080', headers, rawBody: raw });
      }, spec),
    );
  } finally {
    await verifier.close?.();
  }
  out.push(await timeCalls('detectors (scan of the arguments)', () => scan(BENCH_ARGS, '/args'), spec));
  out.push(await timeCalls('body SHA-256', () => sha256Hex(Buffer.from(BENCH_BODY)), spec));
  const engine = await PolicyEngine.load(await loadBundle(workspace.bundleDir), 'toolgate', { workers: 0 });
  try {
    const input = benchCallInput();
    out.push(await timeCalls('WASM evaluate (bench call input)', () => engine.evaluate(input), spec));
    out.push(await timeCalls('input serialisation (JSON.stringify)', () => JSON.stringify(input), spec));
  } finally {
    await engine.close();
  }
  return out;
}

function lower(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Policy data sizes the evaluation is timed against: entries in the bench agent's recipient lists. */
export const DATA_SIZES = [10, 100, 1000, 10_000] as const;

/**
 * WASM evaluation of the bench call against growing policy data: the bench agent's allowed and usual recipients
 * padded to `entries` addresses each (the bench recipient among them). The rules look recipients up in these
 * objects; before they were lists the rules turned into sets on every evaluation, linear in the data.
 */
export async function benchDataSize(bundle: PolicyBundle, spec: MicroSpec): Promise<(MicroResult & { entries: number })[]> {
  const base = JSON.parse(bundle.data.toString('utf8')) as { toolgate: { config: { agents: Record<string, { email?: Record<string, unknown> }> } } };
  const input = benchCallInput();
  const out: (MicroResult & { entries: number })[] = [];
  for (const entries of DATA_SIZES) {
    const data = structuredClone(base);
    const agent = data.toolgate.config.agents[BENCH_AGENT]!;
    // Keyed by address, as rego/data.json lays the allowlists out.
    const keyed = Object.fromEntries([BENCH_ARGS.to[0]!, ...Array.from({ length: entries - 1 }, (_, i) => `person${i}@ledger-partners.example`)].map((a) => [a, true]));
    agent.email = { ...(agent.email ?? {}), allowed_recipients: keyed, usual_recipients: keyed };
    const engine = await PolicyEngine.load({ ...bundle, data: Buffer.from(JSON.stringify(data)) }, 'toolgate', { workers: 0 });
    try {
      const first = engine.evaluate(input);
      if (first.outcome !== 'allow') throw new Error(`with ${entries} data entries the bench call is decided ${first.outcome}, not allow`);
      out.push({ entries, ...(await timeCalls(`WASM evaluate, ${entries.toLocaleString('en-US')} recipients in data`, () => engine.evaluate(input), spec)) });
    } finally {
      await engine.close();
    }
  }
  return out;
}
