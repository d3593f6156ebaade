import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadBundle, PolicyEngine } from '../policy/index.js';
import { canonicalJson } from '../audit/canonical.js';
import { DEFAULT_AUDIT_TOPIC, type AuditEvent } from '../audit/types.js';
import { runSimulation } from '../policy/simulate-run.js';
import { formatSimulation } from '../policy/simulate-format.js';
import type { SimulationSource } from '../policy/simulate-source.js';
import { formatProfile, profilePolicy } from '../policy/profile.js';
import { UsageError } from './audit.js';

/** What `--input` or `--event` named, read: the policy input, and the audit event it came from. */
interface PolicyDocument {
  readonly file: string;
  readonly input: unknown;
  readonly event?: Partial<AuditEvent>;
}

/**
 * Reads exactly one of `--input FILE` (a policy input document) or `--event FILE` (an audit event; its recorded
 * input is the input), `-` for standard input. Every way this can fail is a UsageError saying what to give instead.
 */
function readPolicyDocument(values: { input?: string | undefined; event?: string | undefined }, stdin: () => string = () => readFileSync(0, 'utf8')): PolicyDocument {
  const file = values.input ?? values.event;
  if (!file || (values.input && values.event)) throw new UsageError('Give one of --input <file> (a policy input document; test/fixtures/policy/inputs/ has examples) or --event <file> (an audit event: its recorded input is used); - reads standard input.');
  const flag = values.input ? '--input' : '--event';
  const what = values.input ? 'policy input document' : 'audit event (one line of the audit log, or what `audit tail --json` prints for one event)';
  let document: unknown;
  try {
    document = JSON.parse(file === '-' ? stdin() : readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new UsageError(`${flag} ${file} could not be read as JSON (${cause instanceof Error ? cause.message : String(cause)}): give a file holding one ${what}.`);
  }
  if (values.input) return { file, input: document };
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new UsageError(`--event ${file} is not an audit event (a JSON object): give a file holding one ${what}.`);
  const event = document as Partial<AuditEvent>;
  if (event.input === undefined || event.input === null) {
    throw new UsageError(`--event ${file} carries no input: the event did not record one (its audit level, or a call decided before the policy). Pick an event with an "input" member, or give --input.`);
  }
  return { file, input: event.input, event };
}

/**
 * `toolgate policy eval --bundle build/policy (--input input.json | --event audit-event.json)`: evaluates the
 * WASM bundle the gateway would load. With `--event`, replays a decision from its audit event's input and says
 * whether the result matches what was recorded, compared as canonical JSON (the recorded copy went through JSON,
 * so member order is no part of a decision); exit 1 when it does not. Masked or erased values can change a
 * replay: the output names them.
 */
export async function policyEval(argv: string[], out: Writable, stdin?: () => string): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { bundle: { type: 'string' }, input: { type: 'string' }, event: { type: 'string' } },
    strict: true,
  });
  const { input, event } = readPolicyDocument(values, stdin);
  const engine = await PolicyEngine.load(await loadBundle(values.bundle ?? 'build/policy'), 'toolgate', { workers: 0 });
  try {
    const result = engine.evaluateRaw(input);
    if (!event) {
      out.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    const recorded = event.result ?? null;
    const matches = canonicalJson(result ?? null) === canonicalJson(recorded);
    const hidden = (event.masked?.length ?? 0) + (event.erased?.length ?? 0) > 0;
    const report = {
      revision: engine.info.revision,
      recorded_revision: event.policy?.revision ?? null,
      matches,
      result,
      ...(matches ? {} : { recorded }),
      ...(hidden ? { masked: event.masked ?? [], erased: event.erased ?? [], note: 'the event recorded these input values masked or erased, and the replay evaluates them as recorded: a difference may come from them' } : {}),
    };
    out.write(`${JSON.stringify(report, null, 2)}\n`);
    return matches ? 0 : 1;
  } finally {
    await engine.close();
  }
}

/**
 * `toolgate policy profile [--bundle build/policy] (--input F | --event AUDIT_EVENT) [--seconds 3] [--top 25] [--json]`:
 * evaluates one input over and over under V8's sampling profiler and prints where the time goes, rule by rule
 * (src/policy/profile.ts). With `--event`, the input is the one an audit event recorded.
 */
export async function policyProfile(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { bundle: { type: 'string' }, input: { type: 'string' }, event: { type: 'string' }, seconds: { type: 'string' }, top: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const seconds = values.seconds === undefined ? 3 : Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw new UsageError(`--seconds ${values.seconds}: give a number of seconds above 0, at most 600.`);
  const top = values.top === undefined ? 25 : Number(values.top);
  if (!Number.isInteger(top) || top < 1 || top > 1000) throw new UsageError(`--top ${values.top}: give how many parts to print, a whole number from 1 to 1000.`);
  const { file, input } = readPolicyDocument(values);
  const profile = await profilePolicy(await loadBundle(values.bundle ?? 'build/policy'), input, { seconds });
  out.write(values.json ? `${JSON.stringify(profile, null, 2)}\n` : `Policy ${profile.revision}, input ${file}: ${formatProfile(profile, top)}`);
  return 0;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `toolgate policy simulate --candidate BUNDLE (--file audit.jsonl | --brokers B [--topic T]) [--since T]
 * [--until T] [--max-changed N] [--examples N] [--json]`: replays every recorded decision's input through the
 * candidate and reports what would change. Exit 0, or 1 when more decisions (with clear inputs) changed than
 * --max-changed allows; 2 for a usage error.
 */
export async function policySimulate(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      candidate: { type: 'string' },
      file: { type: 'string' },
      brokers: { type: 'string' },
      topic: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'max-changed': { type: 'string' },
      examples: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.candidate) throw new UsageError('Give --candidate <bundle directory or bundle.tar.gz>: the policy to simulate (make policy builds one in build/policy).');
  const source = simulationSource(values);
  const sinceMs = instant(values.since, '--since');
  const untilMs = instant(values.until, '--until');
  if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) throw new UsageError(`--since ${values.since} is not before --until ${values.until}: give a window that holds some time.`);
  const maxChanged = whole(values['max-changed'], '--max-changed');
  const examples = whole(values.examples, '--examples');
  if (examples !== undefined && examples > 100) throw new UsageError('--examples takes at most 100 decision ids per change.');
  const engine = await PolicyEngine.load(await loadBundle(values.candidate), 'toolgate', { workers: 0 });
  const report = await runSimulation(engine, source, {
    ...(sinceMs !== undefined ? { sinceMs } : {}),
    ...(untilMs !== undefined ? { untilMs } : {}),
    ...(maxChanged !== undefined ? { maxChanged } : {}),
    ...(examples !== undefined ? { examples } : {}),
  });
  out.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatSimulation(report));
  return report.exceeded ? 1 : 0;
}

function simulationSource(values: { file?: string; brokers?: string; topic?: string }): SimulationSource {
  if (values.file && values.brokers) throw new UsageError('Give either --file or --brokers, not both.');
  if (values.file) return { file: values.file };
  const brokers = (values.brokers ?? process.env.TOOLGATE_KAFKA_BROKERS ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new UsageError('Give --file <audit.jsonl> or --brokers host:port (or set TOOLGATE_KAFKA_BROKERS): the recorded decisions to replay.');
  return { brokers, topic: values.topic ?? process.env.TOOLGATE_AUDIT_TOPIC ?? DEFAULT_AUDIT_TOPIC };
}

function instant(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!RFC3339.test(value) || !Number.isFinite(ms)) throw new UsageError(`${flag} ${value} is not an RFC 3339 time: write it like 2026-11-25T15:00:00Z.`);
  return ms;
}

function whole(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${flag} takes a whole number of decisions (got ${value}).`);
  return Number(value);
}
