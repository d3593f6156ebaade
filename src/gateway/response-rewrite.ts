import type { Response } from 'express';

/**
 * Rewrites each JSON message of the answer with `transform` before it reaches the agent, on every way a handler
 * can write it (`res.json`, `res.send`, `writeHead` + `write` + `end` as the MCP SDK's transport does). A JSON body
 * is held until it ends and rewritten whole; an event stream (`text/event-stream`, MCP's streamed answers) event by
 * event, each `data:` holding one JSON-RPC message. A body that is not JSON passes as is (a JSON pointer finds
 * nothing in it). The Content-Length the handler set is dropped (the rewritten body has another length).
 */
export function transformResponse(res: Response, transform: (doc: unknown) => unknown): void {
  const writeHead = res.writeHead;
  const write = res.write;
  const end = res.end;
  let stream: EventStream | undefined;
  const held: Buffer[] = [];
  let ending = false;
  const isEventStream = () => /^\s*text\/event-stream/i.test(String(res.getHeader('content-type') ?? ''));
  res.writeHead = function (this: Response, status: number, ...rest: unknown[]) {
    // Headers given inline are set first, so that Content-Length can be dropped and the type seen in one place.
    const inline = rest.find((a): a is Record<string, unknown> | unknown[] => typeof a === 'object' && a !== null);
    const args = rest.filter((a) => a !== inline);
    if (inline) for (const [k, v] of Array.isArray(inline) ? pairs(inline) : Object.entries(inline)) this.setHeader(k, v as string);
    if (!ending) this.removeHeader('content-length');
    return (writeHead as (...a: unknown[]) => Response).call(this, status, ...args);
  } as Response['writeHead'];
  res.write = function (this: Response, chunk: unknown, ...rest: unknown[]) {
    const bytes = toBuffer(chunk, rest);
    if (bytes === undefined) return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    if (isEventStream()) {
      if (!this.headersSent) this.writeHead(this.statusCode);
      stream ??= new EventStream(transform);
      const out = stream.push(bytes);
      const ok = out.length === 0 || (write as (c: Buffer) => boolean).call(this, out);
      callbackOf(rest)?.();
      return ok;
    }
    held.push(bytes);
    callbackOf(rest)?.();
    return true;
  } as Response['write'];
  res.end = function (this: Response, chunk?: unknown, ...rest: unknown[]) {
    const last = typeof chunk === 'function' ? undefined : toBuffer(chunk, rest);
    const done = typeof chunk === 'function' ? (chunk as () => void) : callbackOf(rest);
    if (last !== undefined) held.push(last);
    let body: Buffer = Buffer.concat(held);
    held.length = 0;
    if (stream || isEventStream()) {
      stream ??= new EventStream(transform);
      body = Buffer.concat([stream.push(body), stream.flush()]);
    } else if (body.length > 0) {
      body = rewriteJsonBytes(body, transform);
    }
    ending = true;
    if (!this.headersSent) this.setHeader('content-length', body.length);
    return (end as (...a: unknown[]) => Response).call(this, body, ...(done ? [done] : []));
  } as Response['end'];
}

/** A JSON body rewritten, re-serialized; anything that is not JSON as it was. */
function rewriteJsonBytes(body: Buffer, transform: (doc: unknown) => unknown): Buffer {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  return Buffer.from(JSON.stringify(transform(doc)), 'utf8');
}

/**
 * Server-sent events, rewritten one event at a time as they complete (an event ends at a blank line). A `data:`
 * field holding JSON is rewritten and written back as one `data:` line; other fields pass unchanged.
 */
class EventStream {
  #pending = '';
  readonly #decoder = new TextDecoder();
  constructor(private readonly transform: (doc: unknown) => unknown) {}

  push(bytes: Buffer): Buffer {
    this.#pending += this.#decoder.decode(bytes, { stream: true });
    const boundary = /\r?\n\r?\n|\r\r/g;
    let out = '';
    let from = 0;
    for (let m = boundary.exec(this.#pending); m; m = boundary.exec(this.#pending)) {
      out += this.#event(this.#pending.slice(from, m.index)) + m[0];
      from = m.index + m[0].length;
    }
    this.#pending = this.#pending.slice(from);
    return Buffer.from(out, 'utf8');
  }

  flush(): Buffer {
    const rest = this.#pending + this.#decoder.decode();
    this.#pending = '';
    return Buffer.from(rest === '' ? '' : this.#event(rest), 'utf8');
  }

  #event(block: string): string {
    const lines = block.split(/\r?\n|\r/);
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
    if (data.length === 0) return block;
    let doc: unknown;
    try {
      doc = JSON.parse(data.join('\n'));
    } catch {
      return block;
    }
    const others = lines.filter((l) => !l.startsWith('data:'));
    return [...others, `data: ${JSON.stringify(this.transform(doc))}`].join('\n');
  }
}

function toBuffer(chunk: unknown, rest: unknown[]): Buffer | undefined {
  if (chunk === undefined || chunk === null) return undefined;
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8');
  return undefined;
}

const callbackOf = (rest: unknown[]) => rest.find((a): a is () => void => typeof a === 'function');

/** writeHead's raw header array form: [name, value, name, value...]. */
function pairs(flat: unknown[]): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), flat[i + 1]]);
  return out;
}
