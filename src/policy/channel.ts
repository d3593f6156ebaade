import { UnavailableError } from '../errors.js';
import type { ChannelLayout } from './worker.js';

/** ES2024 members of SharedArrayBuffer that the project's libs (ES2023) do not declare yet. */
export interface GrowableShared extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(byteLength: number): void;
}

/** The control words, then the payload from byte 16. */
export const LAYOUT: ChannelLayout = { request: 0, length: 1, reply: 2, status: 3, payload: 16 };

const INITIAL_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/**
 * The gateway thread's end of one evaluator thread's channel (worker.ts has the other): a growable
 * SharedArrayBuffer holding one request or reply at a time. The input is encoded straight into it and the thread,
 * blocked in Atomics.wait, is woken with Atomics.notify; the thread copies the bytes into WASM memory, puts the
 * result's JSON back in the buffer and says so with a postMessage of the request's number. Not Atomics.waitAsync
 * for the reply: Node does not wake an idle event loop for it (measured: replies seen seconds late), while a
 * message wakes it at once.
 */
export class EvaluatorChannel {
  readonly buffer: GrowableShared;
  readonly #control: Int32Array;
  readonly #payload: Uint8Array;
  #seq = 0;

  /** `maxBytes`: the largest payload, the WASM memory's maximum (a bigger input could not be evaluated anyway). */
  constructor(maxBytes: number) {
    const Shared = SharedArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => GrowableShared;
    this.buffer = new Shared(INITIAL_BYTES, { maxByteLength: LAYOUT.payload + maxBytes });
    this.#control = new Int32Array(this.buffer, 0, LAYOUT.payload / 4);
    this.#payload = new Uint8Array(this.buffer, LAYOUT.payload); // tracks the buffer's length as it grows
  }

  /**
   * Writes the input's JSON as UTF-8 and wakes the thread; returns the request's number, which the thread posts
   * back once the reply is in place. Throws a coded error, before waking anything, for an input too large to evaluate.
   */
  send(json: string): number {
    const first = encoder.encodeInto(json, this.#payload);
    let written = first.written;
    if (first.read < json.length) {
      const bytes = Buffer.byteLength(json);
      if (LAYOUT.payload + bytes > this.buffer.maxByteLength) {
        throw new UnavailableError('policy_evaluation_failed', `The policy input is ${bytes} bytes, more than the ${this.buffer.maxByteLength - LAYOUT.payload} bytes the policy's memory can hold; nothing was executed. Send smaller arguments.`);
      }
      this.buffer.grow(LAYOUT.payload + bytes);
      written = encoder.encodeInto(json, this.#payload).written;
    }
    const seq = ++this.#seq;
    this.#control[LAYOUT.length] = written;
    Atomics.store(this.#control, LAYOUT.request, seq);
    Atomics.notify(this.#control, LAYOUT.request);
    return seq;
  }

  /** Whether the thread has answered request `seq` (the last one sent). */
  replied(seq: number): boolean {
    return seq === this.#seq && Atomics.load(this.#control, LAYOUT.reply) === seq;
  }

  /** The reply: the result set's JSON, or the thread's error message. */
  reply(): { readonly ok: boolean; readonly text: string } {
    const length = this.#control[LAYOUT.length]!;
    const text = Buffer.from(this.buffer, LAYOUT.payload, length).toString('utf8');
    return { ok: this.#control[LAYOUT.status] === 0, text };
  }

}
