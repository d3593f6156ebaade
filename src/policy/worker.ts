/**
 * A policy evaluator thread (started by pool.ts). opa-wasm cannot be interrupted, so a runaway evaluation is stopped
 * by terminating the thread it runs in; the gateway's event loop never runs one.
 *
 * Requests and replies go through a SharedArrayBuffer (the channel, layout in pool.ts) instead of postMessage: the
 * input arrives as the UTF-8 JSON the gateway serialised once, is copied straight into WASM memory and evaluated
 * through opa-wasm's ABI 1.2 entry (`opa_eval`, abi.ts), and the result's JSON bytes are copied back out unparsed (a
 * postMessage of the request's number says they are there), so the input is serialised once and the result parsed
 * once, on the gateway's thread.
 *
 * Node runs this file as it is under vitest (type stripping) and as dist/policy/worker.js otherwise: it uses only
 * erasable TypeScript and imports nothing from this project, so both work without a loader.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { AbiPolicy } from './abi.js';

/** A compiled WebAssembly.Module (the project's libs do not declare WebAssembly): threads share it, compiled once. */
export type CompiledPolicy = object;

/** ES2024 members the project's libs (ES2023) do not declare. */
type Growable = SharedArrayBuffer & { readonly maxByteLength: number; grow(byteLength: number): void };

/** Where each field sits in the channel: Int32 indices for the control words, a byte offset for the payload. */
export interface ChannelLayout {
  /** Request counter, bumped by the gateway thread when a request's payload is in place. */
  readonly request: number;
  /** Byte length of the payload (the input's JSON, then the reply's). */
  readonly length: number;
  /** Reply counter, set to the request's when the reply's payload is in place. */
  readonly reply: number;
  /** 0: the payload is the result set's JSON; 1: it is an error message; 2: the request's proof did not hold (empty). */
  readonly status: number;
  /** Bytes of an Ed25519 proof at the payload's start, before the input (0: none): key (32), signature (64), message. */
  readonly proof: number;
  /** Byte offset where the payload starts. */
  readonly payload: number;
}

/** What a worker gets at start: the compiled module (shared, not recompiled), data.json's bytes, the entrypoint, its channel. */
export interface WorkerInit {
  readonly module: CompiledPolicy;
  readonly data: ArrayBuffer;
  readonly entrypoint: string;
  readonly memory: { readonly initial: number; readonly maximum: number };
  /** A growable SharedArrayBuffer, one per thread. */
  readonly channel: SharedArrayBuffer;
  readonly layout: ChannelLayout;
}

/**
 * Its only message, once: it is ready (and from then on waits on the channel) or it could not load the policy.
 * `ed25519`: whether it checks proofs (libsodium loaded and passed RFC 8032's test 2); without, a proof is an error.
 */
export type WorkerStatus = { readonly type: 'ready'; readonly entrypoints: string[]; readonly ed25519: boolean } | { readonly type: 'failed'; readonly error: string };

/** The subset of sodium-native used here (the package ships no types). */
interface SodiumVerify {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

// RFC 8032 §7.1 TEST 2, as src/identity/ed25519.ts checks it on the gateway's thread.
const SELF_TEST = {
  publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  message: '72',
  signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
};

/**
 * libsodium's Ed25519 verification, as the gateway's thread does it (ed25519.ts): a 64-byte signature, the key's
 * and the signature's encodings canonical, small-order keys refused. Undefined when the native module does not load
 * or fails the RFC's vector; the gateway then never sends this thread a proof.
 */
function loadVerifier(): ((publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array) => boolean) | undefined {
  try {
    const sodium = createRequire(import.meta.url)('sodium-native') as SodiumVerify;
    const verify = (publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array) => signature.byteLength === 64 && sodium.crypto_sign_verify_detached(signature, message, publicKey);
    const hex = (text: string) => Buffer.from(text, 'hex');
    const bad = hex(SELF_TEST.signature);
    bad[0] = bad[0]! ^ 1;
    if (!verify(hex(SELF_TEST.publicKey), hex(SELF_TEST.signature), hex(SELF_TEST.message)) || verify(hex(SELF_TEST.publicKey), bad, hex(SELF_TEST.message))) return undefined;
    return verify;
  } catch {
    return undefined;
  }
}

// The ABI helpers by URL: a .ts file under vitest (type stripping), .js from dist (see the file comment above).
const abi = (await import(new URL(import.meta.url.endsWith('.ts') ? './abi.ts' : './abi.js', import.meta.url).href)) as typeof import('./abi.js');

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause).slice(0, 200));

/** Puts `bytes` in the channel's payload, growing the channel when they do not fit. */
function reply(port: MessagePort, channel: Growable, control: Int32Array, layout: ChannelLayout, seq: number, status: 0 | 1 | 2, bytes: Uint8Array): void {
  const needed = layout.payload + bytes.byteLength;
  if (needed > channel.byteLength) {
    if (needed > channel.maxByteLength) {
      status = 1;
      bytes = new TextEncoder().encode(`the result (${bytes.byteLength} bytes) is larger than the evaluator channel (${channel.maxByteLength} bytes)`);
    } else {
      channel.grow(needed);
    }
  }
  new Uint8Array(channel, layout.payload, bytes.byteLength).set(bytes);
  control[layout.length] = bytes.byteLength;
  control[layout.status] = status;
  Atomics.store(control, layout.reply, seq);
  port.postMessage(seq);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const init = workerData as WorkerInit;
  let policy: AbiPolicy;
  let entrypoint: number;
  try {
    const loaded = (await loadPolicy(init.module, { ...init.memory })) as unknown as AbiPolicy & { setData(data: ArrayBuffer): void };
    loaded.setData(init.data);
    const problem = abi.abiProblem(loaded);
    if (problem) throw new Error(problem);
    const id = loaded.entrypoints[init.entrypoint];
    if (id === undefined) throw new Error(`the policy has no entrypoint ${init.entrypoint}`);
    policy = loaded;
    entrypoint = id;
  } catch (cause) {
    port.postMessage({ type: 'failed', error: describe(cause) } satisfies WorkerStatus);
    return;
  }
  const { layout } = init;
  const channel = init.channel as Growable;
  const control = new Int32Array(channel, 0, layout.payload / 4);
  const payload = new Uint8Array(channel, layout.payload); // tracks the channel's length as it grows
  // Read before saying ready: the first request may be in place before this thread reaches the wait below.
  let seen = Atomics.load(control, layout.request);
  const verify = loadVerifier();
  port.postMessage({ type: 'ready', entrypoints: Object.keys(policy.entrypoints), ed25519: verify !== undefined } satisfies WorkerStatus);
  const none = new Uint8Array(0);
  // This thread does nothing but evaluate: it blocks here between requests, and terminate() interrupts the wait.
  for (;;) {
    Atomics.wait(control, layout.request, seen);
    seen = Atomics.load(control, layout.request);
    try {
      const proof = control[layout.proof]!;
      if (proof > 0) {
        // The request's signature first: an input whose proof fails is never evaluated. Copied out of shared memory,
        // so the bytes checked are the bytes the gateway wrote.
        if (verify === undefined) throw new Error('this evaluator thread cannot check Ed25519 signatures (libsodium did not load)');
        const bytes = Buffer.from(payload.subarray(0, proof));
        if (!verify(bytes.subarray(0, 32), bytes.subarray(32, 96), bytes.subarray(96))) {
          reply(port, channel, control, layout, seen, 2, none);
          continue;
        }
      }
      reply(port, channel, control, layout, seen, 0, abi.evaluateBytes(policy, entrypoint, payload.subarray(proof, proof + control[layout.length]!)));
    } catch (cause) {
      // opa-wasm's abort handler throws strings as well as Errors.
      reply(port, channel, control, layout, seen, 1, new TextEncoder().encode(describe(cause)));
    }
  }
}

void main();
