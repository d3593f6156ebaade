import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AuditEvent } from '../../src/audit/types.js';

const schema = JSON.parse(readFileSync(new URL('../../schema/audit-event.v1.json', import.meta.url), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** Throws with every schema violation when `event` does not match schema/audit-event.v1.json. */
export function assertAuditEvent(event: unknown): asserts event is AuditEvent {
  if (!validate(event)) {
    throw new Error(`audit event does not match schema/audit-event.v1.json: ${ajv.errorsText(validate.errors, { separator: '; ' })}`);
  }
}
