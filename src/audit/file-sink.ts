import { open, type FileHandle } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GroupCommit } from './group-commit.js';
import { appendDurably, lastEventOf } from './jsonl.js';
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
    try {
      await appendDurably(this.#fh, events, `audit file ${this.path}`);
      this.#ok = true;
    } catch (error) {
      this.#ok = false;
      throw error;
    }
  }

  lastEvent(instance: string): Promise<AuditEvent | undefined> {
    return lastEventOf(this.path, instance);
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
