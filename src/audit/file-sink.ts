import { open, readFile, type FileHandle } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnavailableError } from '../errors.js';
import { GroupCommit } from './group-commit.js';
import type { AuditEvent, AuditSink } from './types.js';

/**
 * The embedded default: an append-only JSONL file. Each batch is one write followed by fdatasync, so a decision
 * is on disk before the tool runs.
 */
export class FileSink implements AuditSink {
  readonly name = 'file';
  readonly path: string;
  #fh: FileHandle | undefined;
  #ok = false;
  readonly #commit = new GroupCommit<AuditEvent>((events) => this.#append(events));

  constructor(path: string) {
    this.path = path;
  }

  async open(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    this.#fh = await open(this.path, 'a', 0o600);
    this.#ok = true;
  }

  write(events: readonly AuditEvent[]): Promise<void> {
    return this.#commit.push(events);
  }

  async #append(events: AuditEvent[]): Promise<void> {
    if (!this.#fh) throw new UnavailableError('audit_unavailable', 'The audit file is not open; nothing was executed. Check TOOLGATE_AUDIT_FILE is writable.');
    try {
      await this.#fh.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
      await this.#fh.datasync();
      this.#ok = true;
    } catch (cause) {
      this.#ok = false;
      throw new UnavailableError('audit_unavailable', `Writing the audit file ${this.path} failed; nothing was executed. Free disk space or fix permissions.`, { cause });
    }
  }

  async lastEvent(instance: string): Promise<AuditEvent | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return undefined;
    }
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i];
      if (!line) continue;
      try {
        const e = JSON.parse(line) as AuditEvent;
        if (e.chain?.instance === instance) return e;
      } catch {
        // A torn last line from a crash mid-write: skip it, the chain resumes from the last whole event.
      }
    }
    return undefined;
  }

  healthy(): boolean {
    return this.#ok;
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = undefined;
    this.#ok = false;
  }
}
