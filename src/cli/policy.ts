import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadBundle, PolicyEngine } from '../policy/index.js';
import type { AuditEvent } from '../audit/types.js';

/**
 * `toolgate policy eval --bundle build/policy (--input input.json | --event audit-event.json)`: evaluates the
 * WASM bundle the gateway would load. With `--event`, replays a decision from its audit event's input and says
 * whether the result matches what was recorded (masked values can change a replay: the event lists them).
 */
export async function policyEval(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { bundle: { type: 'string' }, input: { type: 'string' }, event: { type: 'string' } },
    strict: true,
  });
  const engine = await PolicyEngine.load(await loadBundle(values.bundle ?? 'build/policy'), 'toolgate', { workers: 0 });
  if (values.event) {
    const event = JSON.parse(readFileSync(values.event, 'utf8')) as AuditEvent;
    const result = engine.evaluateRaw(event.input);
    const same = JSON.stringify(result) === JSON.stringify(event.result);
    out.write(`${JSON.stringify({ revision: engine.info.revision, recorded_revision: event.policy?.revision, matches: same, result }, null, 2)}\n`);
    return same ? 0 : 1;
  }
  const input = JSON.parse(readFileSync(values.input ?? '/dev/stdin', 'utf8')) as unknown;
  out.write(`${JSON.stringify(engine.evaluateRaw(input), null, 2)}\n`);
  return 0;
}
