import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { ALL_TARGETS, TARGET_NAMES, type BenchOptions, type TargetName } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

export const BENCH_USAGE = `node dist/bench/main.js [options]   (make bench runs it with none; use the variables through make)

  --rounds N            measured rounds per target, median reported      BENCH_ROUNDS        default 3
  --duration S          seconds of load per HTTP target per round        BENCH_DURATION_S    default 5
  --warmup S            unmeasured seconds per HTTP target first          BENCH_WARMUP_S      default 2
  --connections LIST    closed-loop shapes, keep-alive connections each    BENCH_CONNECTIONS   default 10,100
  --open-fraction F     open loop at F x the pipeline's best closed rate   BENCH_OPEN_FRACTION default 0.5 (0: none)
  --wasm-iterations N   evaluate() calls per WASM round                   BENCH_WASM_ITERATIONS default 20000
  --hostile-search N    generated strings timed for the hostile bodies    BENCH_HOSTILE_SEARCH default 300
  --only LIST           comma list of bare,durable,pipeline,workers,fair, BENCH_TARGETS       default all
                        sidecar,wasm,micro,body,hostile,soak (all), profile (only when named);
                        workers (serve --workers, one per core) starts its own redis-server
  --soak-calls N        allowed calls of the soak (server RSS slope)      BENCH_SOAK_CALLS    default 1000000
  --out DIR             results.md, results.json, scratch state           BENCH_OUT           default build/bench
  --readme FILE         table written between its bench markers ("" off)  BENCH_README        default README.md (none with --only)
  --policy-bundle DIR   the make policy bundle                            TOOLGATE_POLICY_BUNDLE default build/policy
  --opa PATH            opa binary                                        TOOLGATE_OPA        default scripts/opa.sh
`;

function number(name: string, raw: string | undefined, fallback: number, opts: { integer?: boolean; min: number; max?: number }): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isFinite(n) || n < opts.min || n > max || (opts.integer && !Number.isInteger(n))) {
    throw new ConfigError('bench_option_invalid', `${name}=${raw}: use ${opts.integer ? 'an integer' : 'a number'} from ${opts.min} to ${max}.`);
  }
  return n;
}

function targets(raw: string | undefined): TargetName[] {
  if (raw === undefined || raw.trim() === '' || raw === 'all') return [...TARGET_NAMES];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(ALL_TARGETS as readonly string[]).includes(n)) throw new ConfigError('bench_option_invalid', `Unknown bench target "${n}": use a comma list of ${ALL_TARGETS.join(', ')}.`);
  }
  return ALL_TARGETS.filter((t) => names.includes(t));
}

function connectionList(label: string, raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') return [10, 100];
  const list = raw.split(',').map((s) => number(label, s.trim(), 0, { integer: true, min: 1, max: 10_000 }));
  return [...new Set(list)].sort((a, b) => a - b);
}

/** Resolves flags over environment variables over defaults, once; bad values are refused with the fix. */
export function parseBenchOptions(argv: readonly string[], env: Env = process.env): BenchOptions & { help: boolean; readme: string } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        'open-fraction': { type: 'string' },
        'wasm-iterations': { type: 'string' },
        'wasm-warmup': { type: 'string' },
        'hostile-search': { type: 'string' },
        'soak-calls': { type: 'string' },
        only: { type: 'string' },
        out: { type: 'string' },
        readme: { type: 'string' },
        'policy-bundle': { type: 'string' },
        opa: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (cause) {
    throw new ConfigError('bench_option_invalid', `${cause instanceof Error ? cause.message : String(cause)}\n${BENCH_USAGE}`, { cause });
  }
  const v = (flag: string, name: string): [string, string | undefined] => (typeof values[flag] === 'string' ? [`--${flag}`, values[flag] as string] : [name, env[name]]);
  const num = (flag: string, name: string, fallback: number, opts: { integer?: boolean; min: number; max?: number }) => {
    const [label, raw] = v(flag, name);
    return number(label, raw, fallback, opts);
  };
  return {
    help: values.help === true,
    rounds: num('rounds', 'BENCH_ROUNDS', 3, { integer: true, min: 1 }),
    // Pre-signed requests live SIGNATURE_LIFETIME_S (290 s): a round must end well before they expire.
    durationS: num('duration', 'BENCH_DURATION_S', 5, { min: 0.2, max: 240 }),
    warmupS: num('warmup', 'BENCH_WARMUP_S', 2, { min: 0, max: 240 }),
    connections: connectionList(...v('connections', 'BENCH_CONNECTIONS')),
    openFraction: num('open-fraction', 'BENCH_OPEN_FRACTION', 0.5, { min: 0, max: 1 }),
    wasmIterations: num('wasm-iterations', 'BENCH_WASM_ITERATIONS', 20_000, { integer: true, min: 10 }),
    wasmWarmup: num('wasm-warmup', 'BENCH_WASM_WARMUP', 2_000, { integer: true, min: 0 }),
    hostileSearch: num('hostile-search', 'BENCH_HOSTILE_SEARCH', 300, { integer: true, min: 0 }),
    soakCalls: num('soak-calls', 'BENCH_SOAK_CALLS', 1_000_000, { integer: true, min: 20_000 }),
    targets: targets(v('only', 'BENCH_TARGETS')[1]),
    outDir: v('out', 'BENCH_OUT')[1] || 'build/bench',
    // README's table is the full run's: a partial run (--only) writes it only when asked to by name.
    readme: v('readme', 'BENCH_README')[1] ?? (v('only', 'BENCH_TARGETS')[1] ? '' : 'README.md'),
    policyBundle: v('policy-bundle', 'TOOLGATE_POLICY_BUNDLE')[1] || 'build/policy',
    regoDir: 'rego',
    opa: v('opa', 'TOOLGATE_OPA')[1] || undefined,
  };
}
