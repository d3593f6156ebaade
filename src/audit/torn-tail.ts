import { open, unlink } from 'node:fs/promises';
import { UnavailableError } from '../errors.js';
import { describeError, readExactly, syncDir, writeAll, type AuditFileHandle } from './durable-fs.js';
import type { TornTail } from './types.js';

const CHUNK = 64 * 1024;

/**
 * The length of the file's complete lines: everything up to and including its last newline. Every append ends
 * with a newline, so bytes after the last one are a write cut short (a crash mid-write) and were never acknowledged.
 * Reads backwards from the end, so opening a large file costs one chunk, not the whole file.
 */
export async function completeLength(fh: Pick<AuditFileHandle, 'read'>, size: number): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  let pos = size;
  while (pos > 0) {
    const n = Math.min(CHUNK, pos);
    pos -= n;
    await readExactly(fh, buf, n, pos);
    const nl = buf.subarray(0, n).lastIndexOf(0x0a);
    if (nl >= 0) return pos + nl + 1;
  }
  return 0;
}

/**
 * Closes off a torn last line before anything is appended (else the next event would merge into it and both would
 * be unreadable): copies the cut bytes to `<file>.torn-<timestamp>`, durably, then truncates the file to its last
 * complete line. Nothing is lost: those bytes were never acknowledged, and they stay readable aside.
 */
export async function closeOffTornTail(fh: AuditFileHandle, path: string, now: () => Date = () => new Date()): Promise<{ end: number; torn?: TornTail }> {
  const size = (await fh.stat()).size;
  const end = await completeLength(fh, size);
  if (end === size) return { end };
  const at = now().toISOString();
  let setAside = `${path}.torn-${at.replace(/[:.]/g, '-')}`;
  try {
    setAside = await copyAside(fh, end, size, setAside);
    await fh.truncate(end);
    await fh.datasync();
  } catch (cause) {
    throw new UnavailableError(
      'audit_unavailable',
      `${path} ends in a torn line (${size - end} bytes of a write cut short by a crash) that could not be set aside in ${setAside} (${describeError(cause)}). Free disk space or fix permissions and start again; nothing was executed.`,
      { cause },
    );
  }
  return { end, torn: { file: path, setAside, offset: end, bytes: size - end, at } };
}

/** Copies bytes [from, to) of `fh` to a new file named `target` (or `target-2`, … if taken); returns its name. */
async function copyAside(fh: AuditFileHandle, from: number, to: number, target: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const name = attempt === 1 ? target : `${target}-${attempt}`;
    let out;
    try {
      out = await open(name, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 100) continue;
      throw error;
    }
    try {
      const buf = Buffer.alloc(CHUNK);
      for (let pos = from; pos < to; pos += CHUNK) {
        const n = Math.min(CHUNK, to - pos);
        await readExactly(fh, buf, n, pos);
        await writeAll(out, buf.subarray(0, n));
      }
      await out.datasync();
      await out.close();
      await syncDir(name);
    } catch (error) {
      // A partial copy would read as the whole torn line: remove it; the next open copies again.
      await out.close().catch(() => undefined);
      await unlink(name).catch(() => undefined);
      throw error;
    }
    return name;
  }
}
