import { readFile, rename } from 'node:fs/promises';
import { UnavailableError } from '../errors.js';
import { describeError, openAuditFile, readExactly, syncDir, writeAll, type AuditFileHandle, type OpenAuditFile } from './durable-fs.js';
import { auditLine, parseEventLine } from './line.js';
import { closeOffTornTail } from './torn-tail.js';
import type { AuditEvent, TornTail } from './types.js';

export interface JsonlFileOptions {
  /** Opens the file for reading and appending. Default: node:fs (mode 0600). Tests inject disk faults here. */
  readonly openFile?: OpenAuditFile;
  /** Clock for the name of a set-aside torn line. Default: the system clock. */
  readonly now?: () => Date;
}

/**
 * An append-only JSONL file of audit events whose every acknowledged line is on disk. It knows the length of its
 * durable content: an append counts only when every byte is written and fdatasync'd; one that fails or is cut
 * short is truncated away (now, or before the next append if the disk refuses even that), so the file never holds
 * a partial line between complete ones. A torn last line left by a crash is set aside when the file is opened.
 */
export class JsonlFile {
  #path: string;
  /** The torn last line set aside at open, if there was one. */
  readonly torn: TornTail | undefined;
  readonly #what: string;
  #fh: AuditFileHandle | undefined;
  /** Length of the durable content: where the next line starts. */
  #end: number;
  /** Bytes past #end may be on disk: truncate before appending. */
  #dirty = false;
  #lastAppendFailed = false;

  private constructor(path: string, what: string, fh: AuditFileHandle, end: number, torn: TornTail | undefined) {
    this.#path = path;
    this.#what = what;
    this.#fh = fh;
    this.#end = end;
    this.torn = torn;
  }

  /** `what` names the file in the errors a caller sees (audit_unavailable: nothing was executed). */
  static async open(path: string, what: string, options: Readonly<JsonlFileOptions> = {}): Promise<JsonlFile> {
    let fh: AuditFileHandle;
    try {
      fh = await (options.openFile ?? openAuditFile)(path);
    } catch (cause) {
      throw new UnavailableError('audit_unavailable', `Cannot open the ${what} (${describeError(cause)}); nothing was executed. Check that it is writable.`, { cause });
    }
    try {
      const { end, torn } = await closeOffTornTail(fh, path, options.now);
      return new JsonlFile(path, what, fh, end, torn);
    } catch (error) {
      await fh.close().catch(() => undefined);
      throw error;
    }
  }

  /** The refusal for a write to a file that is not open (never opened, or closed). */
  static notOpen(what: string): never {
    throw new UnavailableError('audit_unavailable', `The ${what} is not open; nothing was executed. Check that it is writable and the gateway started.`);
  }

  get path(): string {
    return this.#path;
  }

  /** Renames the file (replacing `path`) and fsyncs the directory, e.g. to swap in a rewritten file. */
  async moveTo(path: string): Promise<void> {
    await rename(this.#path, path);
    this.#path = path;
    await syncDir(path);
  }

  /** Open, and the last append (if any) succeeded: what a sink's readiness reports. */
  get healthy(): boolean {
    return this.#fh !== undefined && !this.#lastAppendFailed;
  }

  /** Length of the durable content in bytes. */
  get size(): number {
    return this.#end;
  }

  /** Appends events as JSON lines, durably (O_DSYNC writes, else write then fdatasync); resolves only when all of them survive a crash. */
  async append(events: readonly AuditEvent[]): Promise<void> {
    const fh = this.#fh;
    if (!fh) return JsonlFile.notOpen(this.#what);
    const bytes = Buffer.from(events.map((e) => `${auditLine(e)}\n`).join(''));
    try {
      if (this.#dirty) await this.#rollback(fh);
      await writeAll(fh, bytes);
      if (!fh.writesDurable) await fh.datasync();
    } catch (cause) {
      this.#lastAppendFailed = true;
      this.#dirty = true;
      const cleaned = await this.#rollback(fh).then(() => true, () => false);
      throw new UnavailableError(
        'audit_unavailable',
        `Writing the ${this.#what} failed (${describeError(cause)}); nothing was executed${cleaned ? '' : ' and the partial write is removed before the next one'}. Free disk space or fix permissions.`,
        { cause },
      );
    }
    this.#end += bytes.length;
    this.#lastAppendFailed = false;
  }

  /** Cuts whatever a failed append left past the durable content. */
  async #rollback(fh: AuditFileHandle): Promise<void> {
    await fh.truncate(this.#end);
    await fh.datasync();
    this.#dirty = false;
  }

  /** The last durable event of `instance`, read backwards from the end, so a restarted gateway continues its chain. */
  async lastEventOf(instance: string): Promise<AuditEvent | undefined> {
    if (!this.#fh) return undefined;
    for await (const line of linesBackward(this.#fh, this.#end)) {
      const event = parseEventLine(line.toString('utf8'));
      if (event?.chain?.instance === instance) return event;
    }
    return undefined;
  }

  /** Every durable event, in order. */
  async readEvents(): Promise<AuditEvent[]> {
    if (!this.#fh) return [];
    const bytes = Buffer.alloc(this.#end);
    await readExactly(this.#fh, bytes, this.#end, 0);
    return parseLines(bytes.toString('utf8'));
  }

  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}

/**
 * Reads a JSONL audit file; a missing file is empty. Only complete lines count: a torn last line (a crash
 * mid-append, never acknowledged) is left out, as is any line that is not JSON.
 */
export async function readEvents(path: string): Promise<AuditEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return parseLines(text.slice(0, text.lastIndexOf('\n') + 1));
}

function parseLines(text: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    const event = line ? parseEventLine(line) : null;
    if (event) events.push(event);
  }
  return events;
}

async function* linesBackward(fh: AuditFileHandle, end: number, chunk = 64 * 1024): AsyncGenerator<Buffer> {
  let pos = end;
  let head = Buffer.alloc(0); // the start of a line whose beginning lies in an earlier chunk
  while (pos > 0) {
    const n = Math.min(chunk, pos);
    pos -= n;
    const buf = Buffer.alloc(n);
    await readExactly(fh, buf, n, pos);
    const data = head.length ? Buffer.concat([buf, head]) : buf;
    let right = data.length;
    for (let nl = data.lastIndexOf(0x0a, right - 1); nl >= 0; nl = right > 0 ? data.lastIndexOf(0x0a, right - 1) : -1) {
      if (nl + 1 < right) yield data.subarray(nl + 1, right);
      right = nl;
    }
    head = data.subarray(0, right);
  }
  if (head.length) yield head;
}
