import { constants } from 'node:fs';
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
  /**
   * True when the file was opened with O_DSYNC: each write returns once its bytes (and the size that reaches them)
   * are on stable storage, as write then fdatasync would, so an append needs no datasync of its own.
   */
  readonly writesDurable?: boolean;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/** Opens (creating with mode 0600) a file for reading and appending. */
export type OpenAuditFile = (path: string) => Promise<AuditFileHandle>;

/**
 * The default opener: read and append with O_DSYNC, so an append is one write per batch (one trip through libuv's
 * thread pool instead of a write and an fdatasync: on a busy 2-core machine each trip waits for a thread to be
 * scheduled, and the audit wait was most of an allowed call's added latency). A new file's directory entry is
 * fsync'd too, or a crash could lose the whole file.
 */
export const openAuditFile: OpenAuditFile = async (path) => {
  // Where the platform has no O_DSYNC (Windows), writes are plain and each append is followed by fdatasync.
  const dsync = typeof constants.O_DSYNC === 'number' && constants.O_DSYNC > 0 ? constants.O_DSYNC : 0;
  const flags = constants.O_RDWR | constants.O_APPEND | dsync;
  try {
    const fh = await open(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
    await syncDir(path).catch(async (error: unknown) => {
      await fh.close();
      throw error;
    });
    return durableWrites(fh, dsync !== 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return durableWrites(await open(path, flags | constants.O_CREAT, 0o600), dsync !== 0);
  }
};

function durableWrites(fh: Awaited<ReturnType<typeof open>>, writesDurable: boolean): AuditFileHandle {
  return Object.assign(fh, { writesDurable });
}

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
