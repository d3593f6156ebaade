/**
 * A child process that appends audit events through FileSink in a loop, printing `{"durable":"<id>"}` once each
 * is acknowledged, for tests that SIGKILL it. Run with `node --import ./ts-hooks.mjs append-child.ts FILE KEY MODE N`.
 *  - `loop`: events with a 64 KiB payload, so a kill often lands inside a write.
 *  - `tear`: after N acknowledged events the file system takes the next write 16 bytes at a time; once the first
 *    piece is on disk the child prints `{"midWrite":16}` and waits to be killed (a torn line, every time).
 */
import { readFileSync } from 'node:fs';
import { loadEd25519PrivateKey } from '../../../src/audit/chain.js';
import { FileSink } from '../../../src/audit/file-sink.js';
import { AuditLog } from '../../../src/audit/log.js';
import type { UnchainedEvent } from '../../../src/audit/types.js';
import { faultyOpen } from './faulty-fs.js';

const [file = '', keyFile = '', mode = 'loop', n = '0'] = process.argv.slice(2);
const tearAfter = Number(n);
let acknowledged = 0;
const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

const openFile = mode === 'tear'
  ? faultyOpen({
    write: () => (acknowledged >= tearAfter ? { take: 16 } : 'ok'),
    written: async (_call, bytes) => {
      if (acknowledged < tearAfter) return;
      say({ midWrite: bytes });
      await new Promise((resolve) => setTimeout(resolve, 60_000)); // held here until the parent's SIGKILL
    },
  })
  : undefined;

const log = await AuditLog.open(new FileSink(file, openFile ? { openFile } : {}), loadEd25519PrivateKey(readFileSync(keyFile, 'utf8')), 'child');
const pad = mode === 'loop' ? 'x'.repeat(64 * 1024) : '';
for (let i = 0; ; i++) {
  const id = `e${i}`;
  await log.record({ decision_id: id, input: { pad } } as unknown as UnchainedEvent);
  acknowledged++;
  say({ durable: id });
}
