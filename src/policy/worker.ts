/**
 * A policy evaluator thread (started by pool.ts). opa-wasm cannot be interrupted, so a runaway evaluation is stopped
 * by terminating the thread it runs in; the gateway's event loop never runs one.
 *
 * Node runs this file as it is under vitest (type stripping) and as dist/policy/worker.js otherwise: it uses only
 * erasable TypeScript and imports nothing from this project, so both work without a loader.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPolicy } from '@open-policy-agent/opa-wasm';

/** A compiled WebAssembly.Module (the project's libs do not declare WebAssembly): threads share it, compiled once. */
export type CompiledPolicy = object;

/** What a worker gets at start: the compiled module (shared, not recompiled), data.json's bytes, the entrypoint. */
export interface WorkerInit {
  readonly module: CompiledPolicy;
  readonly data: ArrayBuffer;
  readonly entrypoint: string;
  readonly memory: { readonly initial: number; readonly maximum: number };
}

/** Its first message. */
export type WorkerStatus = { readonly type: 'ready'; readonly entrypoints: string[] } | { readonly type: 'failed'; readonly error: string };

/** One evaluation: the input as UTF-8 JSON, transferred rather than copied. */
export interface WorkerRequest {
  readonly id: number;
  readonly input: ArrayBuffer;
}

export type WorkerReply = { readonly id: number; readonly result: unknown } | { readonly id: number; readonly error: string };

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause).slice(0, 200));

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const init = workerData as WorkerInit;
  let policy;
  try {
    policy = await loadPolicy(init.module, { ...init.memory });
    policy.setData(init.data);
  } catch (cause) {
    port.postMessage({ type: 'failed', error: describe(cause) } satisfies WorkerStatus);
    return;
  }
  const loaded = policy;
  port.on('message', (request: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      const results = loaded.evaluate(request.input, init.entrypoint) as { result?: unknown }[] | undefined;
      reply = { id: request.id, result: Array.isArray(results) ? results[0]?.result : undefined };
    } catch (cause) {
      // opa-wasm throws strings as well as Errors.
      reply = { id: request.id, error: describe(cause) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ type: 'ready', entrypoints: Object.keys((loaded.entrypoints ?? {}) as Record<string, number>) } satisfies WorkerStatus);
}

void main();
