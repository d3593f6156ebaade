import { open } from 'node:fs/promises';
import type { AuditFileHandle, OpenAuditFile } from '../../../src/audit/durable-fs.js';

/** What the file system does with one write call: take it all, take only the first n bytes, or fail. */
export type WriteFault = 'ok' | 'fail' | { readonly take: number };

export interface FaultPlan {
  /** Called for every write with its 1-based call number (across every file opened) and length. */
  write?(call: number, length: number): WriteFault;
  /** Called for every fdatasync; true fails it (EIO, as a disk that lost the data). */
  datasync?(call: number): boolean;
  /** Called for every truncate; true fails it. */
  truncate?(call: number): boolean;
  /** Awaited after a write put its bytes on the file (a child process uses it to be killed right there). */
  written?(call: number, bytesWritten: number): void | Promise<void>;
}

export function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated fault, ${syscall}`), { code, syscall });
}

/**
 * A real file whose writes, fsyncs and truncates can be made to fail or fall short on chosen calls, the way a full
 * or failing disk does (ENOSPC after a short write, EIO from fsync). Every byte it does take is really written.
 */
export function faultyOpen(plan: FaultPlan): OpenAuditFile & { readonly calls: { write: number; datasync: number; truncate: number } } {
  const calls = { write: 0, datasync: 0, truncate: 0 };
  const opener = async (path: string): Promise<AuditFileHandle> => {
    const fh = await open(path, 'a+', 0o600);
    return {
      async write(buffer, offset, length) {
        const call = ++calls.write;
        const fault = plan.write?.(call, length) ?? 'ok';
        if (fault === 'fail') throw errno('ENOSPC', 'write');
        const result = await fh.write(buffer, offset, fault === 'ok' ? length : Math.min(fault.take, length));
        await plan.written?.(call, result.bytesWritten);
        return result;
      },
      read: (buffer, offset, length, position) => fh.read(buffer, offset, length, position),
      async datasync() {
        if (plan.datasync?.(++calls.datasync)) throw errno('EIO', 'fdatasync');
        await fh.datasync();
      },
      async truncate(length) {
        if (plan.truncate?.(++calls.truncate)) throw errno('EIO', 'ftruncate');
        await fh.truncate(length);
      },
      stat: () => fh.stat(),
      close: () => fh.close(),
    };
  };
  return Object.assign(opener, { calls });
}
