import { mkdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, UnavailableError } from '../errors.js';
import { GroupCommit } from './group-commit.js';
import { JsonlFile } from './jsonl.js';
import type { OpenAuditFile } from './durable-fs.js';
import type { AuditEvent, AuditSink, TornTail } from './types.js';

export type Durability = 'spool' | 'kafka';

export interface SpoolSinkOptions {
  /** Directory of the spool (`spool.jsonl`) and its forwarding state (`spool.state.json`). */
  readonly dir: string;
  /** The remote sink events are forwarded to, in order (Kafka). */
  readonly inner: AuditSink;
  /**
   * When a decision counts as recorded: `spool` — fsync'd to the local spool (Kafka gets it as soon as it can);
   * `kafka` — acknowledged by the broker (the spool still keeps it across restarts). Default `spool`.
   */
  readonly durability?: Durability;
  /** With durability `kafka`: how long a request may wait for the acknowledgement. Default 5000 ms. */
  readonly ackTimeoutMs?: number;
  /** Rewrite the spool once this many forwarded events sit in it. Default 10000. */
  readonly compactAfter?: number;
  readonly maxBatch?: number;
  /** Called when forwarding fails (and will be retried), or the spool's bookkeeping does (state, compaction). */
  readonly onForwardError?: (error: unknown) => void;
  /** Opens the spool file. Default: node:fs (mode 0600). Tests inject disk faults here. */
  readonly openFile?: OpenAuditFile;
}

interface State {
  /** Lines of spool.jsonl already acknowledged by the remote sink. */
  forwarded: number;
}

/**
 * A write-ahead spool in front of Kafka. Every event is appended and fsync'd locally first, in chain order; one
 * forwarder sends the unacknowledged tail to Kafka in batches, in the same order, and records how far it got.
 * A broker outage only grows the spool; a restarted gateway forwards what it spooled before it stopped. A crash
 * between an acknowledgement and the state write re-sends a batch: consumers (and `toolgate audit verify`)
 * drop such duplicates by chain position and hash.
 */
export class SpoolSink implements AuditSink {
  readonly name: string;
  readonly #o: Required<Omit<SpoolSinkOptions, 'onForwardError' | 'openFile'>> & Pick<SpoolSinkOptions, 'onForwardError' | 'openFile'>;
  readonly #path: string;
  readonly #stateFile: string;
  #file: JsonlFile | undefined;
  /** Spool appends and compaction take turns: an event appended while the spool is rewritten would be lost. */
  #io: Promise<unknown> = Promise.resolve();
  readonly #recovered: TornTail[] = [];
  /** Events in the spool file, forwarded or not. */
  #lines = 0;
  /** The spool's last event: compaction keeps it so a restarted gateway continues its chain. */
  #last: AuditEvent | undefined;
  #forwarded = 0;
  /** The unforwarded tail, in order. */
  #pending: AuditEvent[] = [];
  #ackWaiters: { upTo: number; resolve: () => void }[] = [];
  #forwarding: Promise<void> | undefined;
  #remoteOpen = false;
  #remoteHealthy = false;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #backoffMs = 100;
  readonly #commit: GroupCommit<AuditEvent>;

  constructor(options: SpoolSinkOptions) {
    this.#o = { durability: 'spool', ackTimeoutMs: 5_000, compactAfter: 10_000, maxBatch: 500, ...options };
    this.name = `${options.inner.name}+spool`;
    this.#path = join(options.dir, 'spool.jsonl');
    this.#stateFile = join(options.dir, 'spool.state.json');
    this.#commit = new GroupCommit<AuditEvent>((events) => this.#append(events));
  }

  /** Events spooled but not yet acknowledged by the remote sink (`toolgate.audit.spool.depth`). */
  get depth(): number {
    return this.#pending.length;
  }

  async open(): Promise<void> {
    mkdirSync(this.#o.dir, { recursive: true });
    const state = await readFile(this.#stateFile, 'utf8').then((t) => JSON.parse(t) as State).catch(() => ({ forwarded: 0 }));
    this.#file = await this.#openSpool(this.#path);
    if (this.#file.torn) this.#recovered.push(this.#file.torn);
    const events = await this.#file.readEvents();
    this.#lines = events.length;
    this.#last = events[events.length - 1];
    this.#forwarded = Math.min(state.forwarded, events.length);
    this.#pending = events.slice(this.#forwarded);
    // The remote side may be down at start: a spool-durable gateway still starts, and forwards when it can.
    try {
      await this.#openRemote();
    } catch (error) {
      // A misconfiguration (e.g. a compacted topic) must stop the start; an unreachable broker need not.
      if (this.#o.durability === 'kafka' || error instanceof ConfigError) {
        // The start fails: release the spool file now rather than leave its handle to the garbage collector.
        await this.#file.close().catch(() => undefined);
        this.#file = undefined;
        throw error;
      }
      this.#o.onForwardError?.(error);
    }
    this.#kick();
  }

  async #openRemote(): Promise<void> {
    if (this.#remoteOpen) return;
    await this.#o.inner.open();
    this.#remoteOpen = true;
    this.#remoteHealthy = true;
  }

  #openSpool(path: string): Promise<JsonlFile> {
    return JsonlFile.open(path, `audit spool in ${this.#o.dir}`, this.#o.openFile ? { openFile: this.#o.openFile } : {});
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#io.then(fn);
    this.#io = run.catch(() => undefined);
    return run;
  }

  async write(events: readonly AuditEvent[]): Promise<void> {
    const { acknowledged } = await this.append(events);
    await acknowledged;
  }

  /**
   * Spools the events (fsync'd, in order: their chain positions are taken from here on) and returns the wait for
   * what durability `kafka` also requires, the broker's acknowledgement. Rejects only when nothing was spooled.
   */
  async append(events: readonly AuditEvent[]): Promise<{ readonly acknowledged: Promise<void> }> {
    await this.#commit.push(events);
    return { acknowledged: this.#acknowledged(this.#lines) };
  }

  #acknowledged(upTo: number): Promise<void> {
    if (this.#o.durability === 'spool' || this.#forwarded >= upTo) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#ackWaiters = this.#ackWaiters.filter((w) => w.resolve !== done);
        reject(new UnavailableError('audit_unavailable', `Kafka did not acknowledge the decision within ${this.#o.ackTimeoutMs} ms; nothing was executed. The event is spooled and will be delivered; check the broker (TOOLGATE_KAFKA_BROKERS).`));
      }, this.#o.ackTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#ackWaiters.push({ upTo, resolve: done });
    });
  }

  #append(events: AuditEvent[]): Promise<void> {
    return this.#serial(async () => {
      if (!this.#file) return JsonlFile.notOpen(`audit spool in ${this.#o.dir}`);
      await this.#file.append(events);
      this.#lines += events.length;
      this.#last = events[events.length - 1];
      this.#pending.push(...events);
      this.#kick();
    });
  }

  /** Starts the forwarder unless it is running or waiting to retry. */
  #kick(): void {
    if (this.#forwarding || this.#retryTimer || this.#closed || this.#pending.length === 0) return;
    this.#forwarding = this.#forward().finally(() => {
      this.#forwarding = undefined;
      if (this.#pending.length > 0 && !this.#retryTimer) this.#kick();
    });
  }

  async #forward(): Promise<void> {
    while (this.#pending.length > 0 && !this.#closed) {
      const batch = forwardBatch(this.#pending, this.#o.maxBatch);
      try {
        await this.#openRemote();
        await this.#o.inner.write(batch);
      } catch (error) {
        this.#remoteHealthy = false;
        this.#o.onForwardError?.(error);
        // Back off and retry the same batch: order is the chain's order, so nothing may overtake it.
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#kick();
        }, this.#backoffMs);
        this.#retryTimer.unref();
        this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
        return;
      }
      this.#backoffMs = 100;
      this.#remoteHealthy = true;
      this.#pending.splice(0, batch.length);
      this.#forwarded += batch.length;
      // The state is a hint (a lost one re-sends, and duplicates are dropped downstream): a full disk must not stop forwarding.
      await this.#saveState().catch((error: unknown) => this.#o.onForwardError?.(error));
      const done = this.#ackWaiters.filter((w) => w.upTo <= this.#forwarded);
      this.#ackWaiters = this.#ackWaiters.filter((w) => w.upTo > this.#forwarded);
      for (const w of done) w.resolve();
      if (this.#pending.length === 0 && this.#forwarded >= this.#o.compactAfter) await this.#compact().catch((error: unknown) => this.#o.onForwardError?.(error));
    }
  }

  async #saveState(): Promise<void> {
    const tmp = `${this.#stateFile}.tmp`;
    await writeFile(tmp, JSON.stringify({ forwarded: this.#forwarded } satisfies State));
    await rename(tmp, this.#stateFile);
  }

  /**
   * Drops forwarded events from the spool, keeping the last one so a restarted gateway can continue its chain.
   * The rewrite is fsync'd before it replaces the spool, and appends wait for it (#serial). If it fails (a full
   * disk), the old spool stays in use and compaction is tried again after the next forwarded batch.
   */
  #compact(): Promise<void> {
    return this.#serial(async () => {
      if (this.#pending.length > 0 || !this.#file) return;
      const tmp = `${this.#path}.tmp`;
      await rm(tmp, { force: true });
      const next = await this.#openSpool(tmp);
      try {
        if (this.#last) await next.append([this.#last]);
        await next.moveTo(this.#path);
      } catch (error) {
        if (next.path !== this.#path) {
          await next.close().catch(() => undefined);
          await rm(tmp, { force: true }).catch(() => undefined);
          throw error;
        }
        // Renamed, but the directory's fsync failed: the new spool is in place either way, so use it.
        this.#o.onForwardError?.(error);
      }
      const old = this.#file;
      this.#file = next;
      await old.close().catch(() => undefined);
      this.#lines = this.#last ? 1 : 0;
      this.#forwarded = this.#lines;
      await this.#saveState();
    });
  }

  lastEvent(instance: string): Promise<AuditEvent | undefined> {
    return this.#file?.lastEventOf(instance) ?? Promise.resolve(undefined);
  }

  recovered(): readonly TornTail[] {
    return this.#recovered;
  }

  healthy(): boolean {
    return (this.#file?.healthy ?? false) && (this.#o.durability === 'spool' || this.#remoteHealthy);
  }

  /** Whether the remote side (Kafka) is currently taking events. */
  remoteHealthy(): boolean {
    return this.#remoteHealthy;
  }

  /** Waits until everything spooled has been forwarded, or the timeout passes. */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.length > 0 && Date.now() < deadline) {
      this.#kick();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.#pending.length === 0;
  }

  async close(): Promise<void> {
    await this.drain(2_000).catch(() => false);
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    await this.#forwarding;
    await this.#serial(async () => {
      await this.#file?.close();
      this.#file = undefined;
    });
    if (this.#remoteOpen) await this.#o.inner.close();
  }
}

/**
 * The next events to forward: at most `max`, cut after a checkpoint (a signed event) when the pending tail is
 * longer, so what a consumer sees on the topic between two sends ends in a signature that covers it.
 */
function forwardBatch(pending: readonly AuditEvent[], max: number): AuditEvent[] {
  if (pending.length <= max) return pending.slice();
  for (let i = max - 1; i >= 0; i--) {
    if (pending[i]!.chain.sig !== undefined) return pending.slice(0, i + 1);
  }
  return pending.slice(0, max);
}
