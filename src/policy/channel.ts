import { UnavailableError } from '../errors.js';
import type { ChannelLayout } from './worker.js';

/** ES2024 members of SharedArrayBuffer that the project's libs (ES2023) do not declare yet. */
export interface GrowableShared extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(byteLength: number): void;
}

/** The control words, then the payload from byte 32. */
export const LAYOUT: ChannelLayout = { request: 0, length: 1, reply: 2, status: 3, proof: 4, payload: 32 };

/** The bytes of an Ed25519 proof ahead of the input: the public key, the signature, then the signed message. */
export const PROOF_KEY_BYTES = 32;
export const PROOF_SIGNATURE_BYTES = 64;

/** A reply's status word (worker.ts writes it). */
export const REPLY = { ok: 0, error: 1, proofFailed: 2 } as const;
export type ReplyStatus = (typeof REPLY)[keyof typeof REPLY];

/** An Ed25519 check for the thread to make before it evaluates: the input is evaluated only if the signature holds. */
export interface EvaluatorProof {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
}

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
  send(json: string, proof?: EvaluatorProof): number {
    const at = proof ? this.#writeProof(proof) : 0;
    const first = encoder.encodeInto(json, this.#payload.subarray(at));
    let written = first.written;
    if (first.read < json.length) {
      const bytes = Buffer.byteLength(json);
      if (LAYOUT.payload + at + bytes > this.buffer.maxByteLength) {
        throw new UnavailableError('policy_evaluation_failed', `The policy input is ${bytes} bytes, more than the ${this.buffer.maxByteLength - LAYOUT.payload} bytes the policy's memory can hold; nothing was executed. Send smaller arguments.`);
      }
      this.buffer.grow(LAYOUT.payload + at + bytes);
      written = encoder.encodeInto(json, this.#payload.subarray(at)).written;
    }
    const seq = ++this.#seq;
    this.#control[LAYOUT.proof] = at;
    this.#control[LAYOUT.length] = written;
    Atomics.store(this.#control, LAYOUT.request, seq);
    Atomics.notify(this.#control, LAYOUT.request);
    return seq;
  }

  /** Whether the thread has answered request `seq` (the last one sent). */
  replied(seq: number): boolean {
    return seq === this.#seq && Atomics.load(this.#control, LAYOUT.reply) === seq;
  }

  /** The reply: the result set's JSON, the thread's error message, or nothing when the proof did not hold. */
  reply(): { readonly status: ReplyStatus; readonly text: string } {
    const length = this.#control[LAYOUT.length]!;
    const text = Buffer.from(this.buffer, LAYOUT.payload, length).toString('utf8');
    return { status: this.#control[LAYOUT.status] as ReplyStatus, text };
  }

  /** Puts the proof at the payload's start; returns its length. Its parts have fixed lengths but the message. */
  #writeProof(proof: EvaluatorProof): number {
    if (proof.publicKey.byteLength !== PROOF_KEY_BYTES || proof.signature.byteLength !== PROOF_SIGNATURE_BYTES) {
      throw new TypeError(`an Ed25519 proof has a ${PROOF_KEY_BYTES}-byte key and a ${PROOF_SIGNATURE_BYTES}-byte signature`);
    }
    const bytes = PROOF_KEY_BYTES + PROOF_SIGNATURE_BYTES + proof.message.byteLength;
    if (LAYOUT.payload + bytes > this.buffer.byteLength) {
      if (LAYOUT.payload + bytes > this.buffer.maxByteLength) throw new UnavailableError('policy_evaluation_failed', `The signed message is ${bytes} bytes, more than the evaluator channel holds; nothing was executed.`);
      this.buffer.grow(LAYOUT.payload + bytes);
    }
    this.#payload.set(proof.publicKey, 0);
    this.#payload.set(proof.signature, PROOF_KEY_BYTES);
    this.#payload.set(proof.message, PROOF_KEY_BYTES + PROOF_SIGNATURE_BYTES);
    return bytes;
  }

}
