import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ensureDemoAgents, type DemoAgents } from '../demo/agents.js';
import { loadBundle } from '../policy/index.js';
import type { BenchOptions } from './types.js';

/** The measured call: an e-mail the demo policy allows receipts-bot to send (usual recipient, plain subject). */
export const BENCH_TOOL = 'email.send';
export const BENCH_PATH = `/tools/${BENCH_TOOL}`;
export const BENCH_AGENT = 'receipts-bot';
export const BENCH_ARGS = { to: ['accountant@ledger-partners.example'], subject: 'Receipts for October', body: 'Hi, the October receipts are attached.' };
export const BENCH_BODY = JSON.stringify(BENCH_ARGS);

/**
 * email.send's rate limit in the demo data is 20 an hour per agent. The bench raises it so every measured call
 * is the allowed path (with its limit obligation still in the decision) once the gateway enforces limits; the
 * rules themselves are the demo policy's, unchanged, for the gateway, the WASM engine and the sidecar alike.
 */
const BENCH_RATE_MAX = 1_000_000_000;
const BENCH_RATE_WINDOW_S = 60;

export interface BenchWorkspace {
  readonly dir: string;
  readonly agents: DemoAgents;
  /** Bundle directory (policy.wasm, data.json, .manifest) for the gateway and the WASM micro-benchmark. */
  readonly bundleDir: string;
  /** The same policy as Rego plus its data document, for `opa run --server`. */
  readonly opaPolicyDir: string;
  /** The gateway's state (audit file, its key). On the repo's disk, not tmpfs, so fsync costs what it costs. */
  readonly stateDir: string;
  remove(): void;
}

export function overlayBenchData(data: unknown): unknown {
  const copy = structuredClone(data) as { toolgate?: { config?: { tools?: Record<string, { rate?: { max?: number; window_s?: number } }> } } };
  const rate = copy.toolgate?.config?.tools?.[BENCH_TOOL]?.rate;
  if (!rate) throw new Error(`the policy data has no toolgate.config.tools["${BENCH_TOOL}"].rate; update src/bench/workspace.ts to the new data layout`);
  rate.max = BENCH_RATE_MAX;
  // A rate limit keeps one entry per call in its window (a sliding log, exact to the call): at a bench's ~1,000
  // calls/s the demo's one-hour window would hold millions (bounded by the store's maxEntries), a working set that
  // grows for an hour and would read as a leak in the soak. A minute reaches its steady state inside the warm-up.
  rate.window_s = BENCH_RATE_WINDOW_S;
  return copy;
}

function copyRego(from: string, to: string, root = from): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    if (entry.isDirectory()) copyRego(src, to, root);
    else if (entry.name.endsWith('.rego') && !entry.name.endsWith('_test.rego')) {
      const dest = join(to, relative(root, src));
      mkdirSync(resolve(dest, '..'), { recursive: true });
      copyFileSync(src, dest);
    }
  }
}

/** Scratch directory for one run under `options.outDir`, removed by `remove()`. */
export async function prepareWorkspace(options: Pick<BenchOptions, 'outDir' | 'policyBundle' | 'regoDir'>): Promise<BenchWorkspace> {
  const dir = resolve(options.outDir, `run-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const agents = ensureDemoAgents(join(dir, 'agents'));
    const bundle = await loadBundle(options.policyBundle);
    const data = `${JSON.stringify(overlayBenchData(JSON.parse(bundle.data.toString('utf8'))))}\n`;
    const bundleDir = join(dir, 'policy');
    mkdirSync(bundleDir);
    writeFileSync(join(bundleDir, 'policy.wasm'), bundle.wasm);
    writeFileSync(join(bundleDir, 'data.json'), data);
    writeFileSync(join(bundleDir, '.manifest'), JSON.stringify(bundle.manifest));
    // The bundle's data.json is the merged data document, so one file at the root loads identically in OPA;
    // the test files and reason_codes.json stay out, as in scripts/policy.sh.
    const opaPolicyDir = join(dir, 'opa-policy');
    copyRego(resolve(options.regoDir), opaPolicyDir);
    writeFileSync(join(opaPolicyDir, 'data.json'), data);
    const stateDir = join(dir, 'state');
    mkdirSync(stateDir);
    return { dir, agents, bundleDir, opaPolicyDir, stateDir, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
