import { open, stat } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { AuditFeed } from './feed.js';

const CHUNK = 1 << 20;

/**
 * Follows the gateway's JSONL audit file into the feed: at start the last `startBytes` of it (a long trail is not
 * read whole), then whatever is appended, polled every `pollMs`. Only complete lines are taken; a file that got
 * shorter (a torn last line set aside at restart) is followed from its new end.
 */
export function tailAuditFile(file: string, feed: AuditFeed, options: { pollMs: number; startBytes: number; logger?: Logger | undefined }): { ready: Promise<void>; close(): void } {
  let offset = -1;
  let rest = '';
  let busy: Promise<void> | null = null;
  let closed = false;
  let warned = false;

  const poll = async (): Promise<void> => {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (error) {
      // No file yet: the gateway creates it with its first event.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && !warned) {
        warned = true;
        options.logger?.warn('console cannot read the audit file', { file, error: (error as Error).message });
      }
      if (offset < 0) offset = 0;
      return;
    }
    if (offset < 0) offset = Math.max(0, size - options.startBytes);
    if (size < offset) {
      offset = size;
      rest = '';
      return;
    }
    if (size === offset) return;
    const handle = await open(file, 'r');
    try {
      const skipFirst = offset > 0 && rest === '' && feed.size === 0;
      let first = skipFirst;
      while (offset < size && !closed) {
        const buffer = Buffer.alloc(Math.min(CHUNK, size - offset));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        const text = rest + buffer.subarray(0, bytesRead).toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          // Starting mid-file, the first line is a tail of an event: skip it.
          if (first) {
            first = false;
            continue;
          }
          if (line.trim() !== '') feed.add(line);
        }
      }
    } finally {
      await handle.close();
    }
  };

  const tick = (): Promise<void> => {
    busy ??= poll()
      .catch((error: unknown) => options.logger?.warn('console audit tail failed; retrying', { file, error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        busy = null;
      });
    return busy;
  };
  const ready = tick();
  const timer = setInterval(() => void tick(), options.pollMs);
  timer.unref();
  return {
    ready,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
