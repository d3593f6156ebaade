import { Worker } from 'node:worker_threads';
import { ConfigError, UnavailableError } from '../errors.js';
import { EvaluatorChannel, LAYOUT, REPLY, type EvaluatorProof } from './channel.js';
import type { WorkerInit, WorkerStatus } from './worker.js';

/** What the pool hands each thread; the channel and its layout are added per thread. */
export type PoolInit = Omit<WorkerInit, 'channel' | 'layout'>;

/** Under vitest this module is src/policy/pool.ts and Node strips the worker's types itself; built, it is dist/…/pool.js. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);

interface Job {
  /** The channel's number for the request, once a thread has taken the job. */
  seq?: number;
  /** The input's JSON, serialised once by the caller. */
  readonly input: string;
  /** A signature the thread checks before it evaluates (ProofFailedError when it does not hold). */
  readonly proof: EvaluatorProof | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly channel: EvaluatorChannel;
  ready: boolean;
  /** Whether the thread checks Ed25519 proofs (its ready message says). */
  ed25519: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

/**
 * Worker threads that evaluate the policy, each one evaluation at a time, with a time budget per evaluation. A job
 * past its budget fails with `policy_timeout` and its thread is terminated and replaced (opa-wasm cannot be
 * interrupted, a thread can); jobs wait for a free thread in one queue per agent, the agents served in turn, and
 * their budget starts when a thread takes them.
 * Threads do not keep the process alive while idle.
 */
export class EvaluatorPool {
  readonly #init: PoolInit;
  readonly #timeoutMs: number;
  readonly #size: number;
  readonly #slots: Slot[] = [];
  readonly #queue = new FairQueue<Job>();
  #closed = false;

  private constructor(init: PoolInit, size: number, timeoutMs: number) {
    this.#init = init;
    this.#size = size;
    this.#timeoutMs = timeoutMs;
  }

  /** Starts `size` threads and waits until each has loaded the policy; a thread that cannot is a start-up error. */
  static async start(init: PoolInit, size: number, timeoutMs: number): Promise<EvaluatorPool> {
    const pool = new EvaluatorPool(init, size, timeoutMs);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.#spawn()));
    } catch (cause) {
      await pool.close();
      throw new ConfigError('policy_load_failed', `The policy could not be loaded in an evaluator thread (${cause instanceof Error ? cause.message : String(cause)}): rebuild it with make policy using the pinned opa.`, { cause });
    }
    return pool;
  }

  /**
   * Evaluates the input's JSON text; resolves with the entrypoint's result (undefined when the policy defines none).
   * Jobs wait in one queue per `key` (the calling agent), served in turn: an agent with many slow evaluations
   * queued delays another agent's by at most one evaluation per thread, not by its whole queue.
   */
  run(input: string, key = '', proof?: EvaluatorProof): Promise<unknown> {
    if (this.#closed) return Promise.reject(new UnavailableError('policy_unavailable', 'The policy engine is closed; nothing was executed. Restart the gateway.'));
    return new Promise((resolve, reject) => {
      this.#queue.push(key, { input, proof, resolve, reject });
      this.#pump();
    });
  }

  /** Threads, those evaluating now, and jobs waiting for one: an operator's view of the pool's saturation (/readyz). */
  get load(): EvaluatorLoad {
    return { threads: this.#slots.length, busy: this.#slots.filter((slot) => slot.job !== undefined).length, queued: this.#queue.size };
  }

  /** Whether every thread checks Ed25519 proofs: libsodium loaded in each (a thread without it fails a proof closed). */
  get checksProofs(): boolean {
    return this.#slots.length > 0 && this.#slots.every((slot) => slot.ready && slot.ed25519);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const closed = () => new UnavailableError('policy_unavailable', 'The policy engine closed before this call was decided; nothing was executed.');
    for (const job of this.#queue.drain()) job.reject(closed());
    const slots = this.#slots.splice(0);
    for (const slot of slots) slot.job?.reject(closed());
    await Promise.all(slots.map((slot) => this.#retire(slot)));
  }

  /** Starts a thread in a new slot; resolves when it is ready, rejects if it cannot load the policy. */
  #spawn(): Promise<void> {
    const channel = new EvaluatorChannel(this.#init.memory.maximum * 65_536);
    const worker = new Worker(WORKER_URL, { workerData: { ...this.#init, channel: channel.buffer, layout: LAYOUT } satisfies WorkerInit });
    worker.unref();
    const slot: Slot = { worker, channel, ready: false, ed25519: false };
    this.#slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.on('message', (message: WorkerStatus | number) => {
        if (typeof message === 'number') {
          this.#settle(slot, message);
          return;
        }
        if (message.type === 'ready') {
          slot.ready = true;
          slot.ed25519 = message.ed25519;
          resolve();
          this.#pump();
        } else {
          this.#lost(slot, new Error(message.error));
          reject(new Error(message.error));
        }
      });
      // A crash (an uncaught error, memory exhausted) or an exit we did not ask for: the thread is gone.
      const gone = (error: Error) => {
        if (!slot.ready) reject(error);
        this.#lost(slot, error);
      };
      worker.on('error', gone);
      worker.on('exit', (code) => gone(new Error(`evaluator thread exited with code ${code}`)));
    });
  }

  /** The thread answered request `seq` (ignored unless it is the slot's job's: a stopped job's thread is gone). */
  #settle(slot: Slot, seq: number): void {
    if (slot.job?.seq === seq && this.#finishAnswered(slot)) this.#pump();
  }

  /** Finishes the slot's job when its thread has already answered it (the reply is in the channel); says whether it did. */
  #finishAnswered(slot: Slot): boolean {
    const job = slot.job;
    if (job?.seq === undefined || !slot.channel.replied(job.seq)) return false;
    this.#finish(slot, job);
    return true;
  }

  /** Resolves or rejects the slot's job from the reply in its channel, and frees the slot. */
  #finish(slot: Slot, job: Job): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.worker.unref();
    const reply = slot.channel.reply();
    if (reply.status === REPLY.proofFailed) {
      job.reject(new ProofFailedError());
    } else if (reply.status !== REPLY.ok) {
      job.reject(new UnavailableError('policy_evaluation_failed', `Policy evaluation failed (${reply.text}); nothing was executed. Check the policy with opa test and the gateway logs.`));
    } else {
      try {
        const results = JSON.parse(reply.text) as { result?: unknown }[] | undefined;
        job.resolve(Array.isArray(results) ? results[0]?.result : undefined);
      } catch (cause) {
        job.reject(new UnavailableError('policy_evaluation_failed', `The policy's result was not JSON (${cause instanceof Error ? cause.message : String(cause)}); nothing was executed. Check the policy with opa test and the gateway logs.`, { cause }));
      }
    }
  }

  /** Replaces threads that were stopped, then hands queued jobs to idle, ready threads. */
  #pump(): void {
    // A thread that fails to start is dropped, not retried here (#lost): the next call tries again.
    while (!this.#closed && this.#slots.length < this.#size) this.#spawn().catch(() => undefined);
    for (const slot of this.#slots) {
      if (!slot.ready) continue;
      // A thread that has answered is free even before the loop reads its message (which may wait behind other
      // work on a busy loop: p99 5-6 ms measured at half load, while queued calls waited p99 13 ms for a thread). Its
      // reply is read now; the message, when it comes, names a request that is no longer the slot's and is ignored.
      if (this.#queue.size > 0) this.#finishAnswered(slot);
      while (!slot.job && this.#queue.size > 0) this.#start(slot, this.#queue.shift()!);
      if (this.#queue.size === 0) return;
    }
  }

  #start(slot: Slot, job: Job): void {
    try {
      job.seq = slot.channel.send(job.input, job.proof);
    } catch (error) {
      job.reject(error as Error); // too large to evaluate: the thread was not woken
      return;
    }
    slot.job = job;
    slot.worker.ref(); // an evaluation in flight keeps the process alive until it settles
    slot.timer = setTimeout(() => this.#timeout(slot), this.#timeoutMs);
    slot.timer.unref();
  }

  #timeout(slot: Slot): void {
    const job = slot.job;
    if (!job) return;
    // The timer runs on the loop: a loop held past the budget (a long turn, a collection, a starved host) reaches
    // the timer before the thread's message. An answer already in place is the decision, not a runaway policy.
    if (this.#finishAnswered(slot)) {
      this.#pump();
      return;
    }
    job.reject(
      new UnavailableError('policy_timeout', `Policy evaluation ran past its ${this.#timeoutMs} ms budget and was stopped; nothing was executed. Retry with smaller arguments; if it persists, the policy has a runaway rule: profile it with opa eval --profile.`),
    );
    slot.job = undefined;
    this.#replace(slot);
  }

  /** The thread died under a job or before it was ready: fail its job and put a fresh thread in its place. */
  #lost(slot: Slot, error: Error): void {
    if (!this.#slots.includes(slot)) return;
    const job = slot.job;
    slot.job = undefined;
    job?.reject(new UnavailableError('policy_evaluation_failed', `The policy evaluator thread failed (${error.message}); nothing was executed. Check the gateway logs; the thread was replaced.`, { cause: error }));
    if (!slot.ready) {
      // A replacement that cannot load the policy would fail again at once: drop the slot rather than loop, and
      // fail what waits if no thread is left to take it.
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      void this.#retire(slot);
      if (this.#slots.length === 0) {
        for (const queued of this.#queue.drain()) queued.reject(new UnavailableError('policy_unavailable', `No policy evaluator thread could start (${error.message}); nothing was executed. Check /readyz and the gateway logs.`));
      }
      return;
    }
    this.#replace(slot);
  }

  #replace(slot: Slot): void {
    const at = this.#slots.indexOf(slot);
    if (at < 0) return;
    this.#slots.splice(at, 1);
    void this.#retire(slot);
    this.#pump();
  }

  async #retire(slot: Slot): Promise<void> {
    clearTimeout(slot.timer);
    slot.worker.removeAllListeners();
    slot.worker.on('error', () => undefined); // terminate() may still report the thread's last error
    await slot.worker.terminate().catch(() => undefined);
  }
}

/** What the evaluator threads are doing (EvaluatorPool.load). */
export interface EvaluatorLoad {
  readonly threads: number;
  readonly busy: number;
  readonly queued: number;
}

/**
 * A job's proof did not hold: the thread refused the signature and did not evaluate the input. Not a ToolgateError:
 * the caller turns it into the identity refusal, and if it ever escaped it would fail the call closed (internal_error).
 * The thread's refusal is not final: rarely (1 in 6,000 to 1 in 200,000 under load with threads replaced, cause not
 * found, test/policy/budget.test.ts) it refuses a genuine proof, so a caller checks a refusal again before it acts on
 * it, as the gateway does (gateway/stages/claim.ts). No forged proof has been seen accepted (the same test counts them).
 */
export class ProofFailedError extends Error {
  override readonly name = 'ProofFailedError';
  constructor() {
    super('the request signature did not verify in the evaluator thread; the input was not evaluated');
  }
}

/**
 * First in, first out within each key; keys served in turn (round robin), each key's turn taking one item. A key
 * with nothing waiting leaves the rotation and joins its end when it queues again.
 */
export class FairQueue<T> {
  /** Keys with items waiting, in turn order (Map order); each key's items oldest first. */
  readonly #byKey = new Map<string, T[]>();
  #size = 0;

  push(key: string, item: T): void {
    const items = this.#byKey.get(key);
    if (items) items.push(item);
    else this.#byKey.set(key, [item]);
    this.#size++;
  }

  /** The oldest item of the key whose turn it is; that key goes to the end of the turn order. */
  shift(): T | undefined {
    const next = this.#byKey.entries().next();
    if (next.done) return undefined;
    const [key, items] = next.value;
    const item = items.shift() as T;
    this.#byKey.delete(key);
    if (items.length > 0) this.#byKey.set(key, items);
    this.#size--;
    return item;
  }

  /** Every item, emptying the queue. */
  drain(): T[] {
    const all = [...this.#byKey.values()].flat();
    this.#byKey.clear();
    this.#size = 0;
    return all;
  }

  get size(): number {
    return this.#size;
  }
}
