import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GroupCommit } from './group-commit.js';
import { JsonlFile, type JsonlFileOptions } from './jsonl.js';
import type { AuditEvent, AuditSink, TornTail } from './types.js';

/** `openFile` (default node:fs) lets tests put a faulty file system under the sink. */
export type FileSinkOptions = JsonlFileOptions;

/**
 * The embedded default: an append-only JSONL file. Each batch is one write followed by fdatasync, so a decision
 * is on disk before the tool runs; a batch that is not entirely on disk is refused and cut off again (JsonlFile).
 */
export class FileSink implements AuditSink {
  readonly name = 'file';
  readonly path: string;
  readonly #options: Readonly<FileSinkOptions>;
  #file: JsonlFile | undefined;
  readonly #recovered: TornTail[] = [];
  readonly #commit = new GroupCommit<AuditEvent>((events) => this.#append(events));

  constructor(path: string, options: Readonly<FileSinkOptions> = {}) {
    this.path = path;
    this.#options = options;
  }

  async open(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    this.#file = await JsonlFile.open(this.path, `audit file ${this.path}`, this.#options);
    if (this.#file.torn) this.#recovered.push(this.#file.torn);
  }

  write(events: readonly AuditEvent[]): Promise<void> {
    return this.#commit.push(events);
  }

  #append(events: AuditEvent[]): Promise<void> {
    return this.#file ? this.#file.append(events) : JsonlFile.notOpen(`audit file ${this.path}`);
  }

  lastEvent(instance: string): Promise<AuditEvent | undefined> {
    return this.#file?.lastEventOf(instance) ?? Promise.resolve(undefined);
  }

  recovered(): readonly TornTail[] {
    return this.#recovered;
  }

  healthy(): boolean {
    return this.#file?.healthy ?? false;
  }

  async close(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
  }
}
