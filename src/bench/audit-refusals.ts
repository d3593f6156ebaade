import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseEventLine } from '../audit/line.js';

/**
 * What the target's audit files say about the calls it did not allow (up to five, with their reason codes), for the
 * error that stops the run: the load generator sees only statuses. Read after the fact, line by line (a round's
 * audit file can hold hundreds of MB), so measuring pays nothing.
 */
export async function refusedInAudit(stateDir: string | undefined): Promise<string> {
  if (!stateDir || !existsSync(stateDir)) return '';
  const refused: string[] = [];
  for (const name of readdirSync(stateDir).filter((f) => f.endsWith('.jsonl'))) {
    if (refused.length >= 5) break;
    for await (const line of createInterface({ input: createReadStream(join(stateDir, name), 'utf8'), crlfDelay: Infinity })) {
      const event = line ? parseEventLine(line) : null;
      if (event?.type !== 'decision' || event.outcome === 'allow') continue;
      refused.push(`${String(event.outcome)} ${(Array.isArray(event.reasons) ? event.reasons : []).map((r) => `${r.code}: ${r.message}`.slice(0, 300)).join('; ')} (decision ${String(event.decision_id)})`);
      if (refused.length >= 5) break;
    }
  }
  return refused.length ? `; the audit's refused calls: ${refused.join(' | ')}` : '; the audit holds no refused decision';
}
