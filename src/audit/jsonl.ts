import { readFile, type FileHandle } from 'node:fs/promises';
import { UnavailableError } from '../errors.js';
import type { AuditEvent } from './types.js';

/**
 * Appends events as JSON lines in one write and fdatasyncs: when this resolves, they survive a crash. `what` names
 * the file in the error a caller sees (audit_unavailable: nothing was executed).
 */
export async function appendDurably(fh: FileHandle | undefined, events: readonly AuditEvent[], what: string): Promise<void> {
  if (!fh) throw new UnavailableError('audit_unavailable', `The ${what} is not open; nothing was executed. Check that it is writable.`);
  try {
    await fh.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await fh.datasync();
  } catch (cause) {
    throw new UnavailableError('audit_unavailable', `Writing the ${what} failed; nothing was executed. Free disk space or fix permissions.`, { cause });
  }
}

/** Reads a JSONL audit file; a missing file is empty, and a torn line (a crash mid-append, never acknowledged) is skipped. */
export async function readEvents(path: string): Promise<AuditEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // torn line: that event never counted as recorded
    }
  }
  return events;
}

/** The last event of `instance` in a JSONL file, so a restarted gateway continues its chain. */
export async function lastEventOf(path: string, instance: string): Promise<AuditEvent | undefined> {
  const events = await readEvents(path);
  for (let i = events.length - 1; i >= 0; i--) if (events[i]?.chain?.instance === instance) return events[i];
  return undefined;
}
