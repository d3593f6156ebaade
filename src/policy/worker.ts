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
  /** 0: the payload is the result set's JSON; 1: it is an error message. */
  readonly status: number;
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

/** Its only message, once: it is ready (and from then on waits on the channel) or it could not load the policy. */
export type WorkerStatus = { readonly type: 'ready'; readonly entrypoints: string[] } | { readonly type: 'failed'; readonly error: string };

// The ABI helpers by URL: a .ts file under vitest (type stripping), .js from dist (see the file comment above).
const abi = (await import(new URL(import.meta.url.endsWith('.ts') ? './abi.ts' : './abi.js', import.meta.url).href)) as typeof import('./abi.js');

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause).slice(0, 200));

/** Puts `bytes` in the channel's payload, growing the channel when they do not fit. */
function reply(port: MessagePort, channel: Growable, control: Int32Array, layout: ChannelLayout, seq: number, status: 0 | 1, bytes: Uint8Array): void {
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
  port.postMessage({ type: 'ready', entrypoints: Object.keys(policy.entrypoints) } satisfies WorkerStatus);
  // This thread does nothing but evaluate: it blocks here between requests, and terminate() interrupts the wait.
  for (;;) {
    Atomics.wait(control, layout.request, seen);
    seen = Atomics.load(control, layout.request);
    try {
      reply(port, channel, control, layout, seen, 0, abi.evaluateBytes(policy, entrypoint, payload.subarray(0, control[layout.length]!)));
    } catch (cause) {
      // opa-wasm's abort handler throws strings as well as Errors.
      reply(port, channel, control, layout, seen, 1, new TextEncoder().encode(describe(cause)));
    }
  }
}

void main();
