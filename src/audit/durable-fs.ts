import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The file operations the audit's JSONL files use: a subset of node:fs/promises FileHandle, so tests can put a
 * file system that fails or takes only part of a write underneath a sink.
 */
export interface AuditFileHandle {
  /** Appends (the file is opened for appending): may take fewer bytes than asked, like write(2). */
  write(buffer: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** Opens (creating with mode 0600) a file for reading and appending. */
export type OpenAuditFile = (path: string) => Promise<AuditFileHandle>;

/** The default opener: a new file's directory entry is fsync'd too, or a crash could lose the whole file. */
export const openAuditFile: OpenAuditFile = async (path) => {
  try {
    const fh = await open(path, 'ax+', 0o600);
    await syncDir(path).catch(async (error: unknown) => {
      await fh.close();
      throw error;
    });
    return fh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return open(path, 'a+', 0o600);
  }
};

/** fsyncs the directory holding `path`, so a created or renamed entry survives a crash. */
export async function syncDir(path: string): Promise<void> {
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Writes every byte of `buffer`, continuing after short writes; a write that takes nothing is a failure. */
export async function writeAll(fh: Pick<AuditFileHandle, 'write'>, buffer: Uint8Array): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await fh.write(buffer, done, buffer.length - done);
    if (!(bytesWritten > 0)) throw new Error(`the file system took ${done} of ${buffer.length} bytes and then none`);
    done += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position` into the start of `buffer`. */
export async function readExactly(fh: Pick<AuditFileHandle, 'read'>, buffer: Uint8Array, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** A short error description for messages: the errno code when there is one. */
export function describeError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code ?? (error instanceof Error ? error.message : String(error));
}
