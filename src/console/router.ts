import { Router, type Request, type Response } from 'express';
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { VerifiedAgent } from '../identity/types.js';
import type { Logger } from '../logger.js';
import { DEFAULT_ASSETS_DIR, loadAssets, securityHeaders, serveAsset } from './assets.js';
import { signed, type Guard } from './auth.js';
import { checkChain, loadAuditKeys } from './detail.js';
import { AuditFeed, matches } from './feed.js';
import { parseFilter, parseLimit } from './filters.js';
import { PendingWatch } from './pending.js';
import { fail, send } from './respond.js';
import { openEventStream } from './sse.js';
import { outcomeBuckets } from './stats.js';
import { tailAuditFile } from './tail-file.js';
import { tailAuditTopic } from './tail-topic.js';
import type { ConsoleOptions } from './types.js';

export interface ConsoleRouter {
  readonly router: Router;
  /** Resolves once the audit trail's current end has been read (file source; the topic streams in). */
  readonly ready: Promise<void>;
  close(): void;
}

const KNOWN = ['store', 'verifier', 'audit', 'auditKeyFile', 'jaegerUrl', 'assetsDir', 'isApprover', 'isViewer', 'feedMaxEvents', 'feedMaxBytes', 'pollMs', 'streamMaxMs', 'now', 'logger'];

interface Config {
  readonly guard: Guard;
  readonly feed: AuditFeed;
  readonly pending: PendingWatch;
  readonly keys: ReadonlyMap<string, KeyObject>;
  readonly jaegerUrl: string | null;
  readonly streamMaxMs: number;
  readonly now: () => number;
  readonly logger: Logger | undefined;
}

/**
 * The approvals and decisions console (README, Console): the page under `/console/`, and its API under
 * `/console/api/`, every call signed like an agent's (RFC 9421, a registered key). Approving and denying go through
 * the Approvals API itself, so its rules (role approver, never the requester) apply unchanged.
 * Mount it before any body parser and before the gate (its paths are not tool routes).
 */
export function consoleRouter(options: Readonly<ConsoleOptions>): ConsoleRouter {
  const where = 'consoleRouter()';
  if (options === null || typeof options !== 'object') throw new ConfigError('console_option_invalid', `${where} needs an options object: { store, verifier, audit }.`);
  const unknown = Object.keys(options).find((k) => !KNOWN.includes(k));
  if (unknown !== undefined) throw new ConfigError('console_option_unknown', `${where}: unknown option "${unknown}"; known options: ${KNOWN.join(', ')}.`);
  if (typeof options.store?.list !== 'function') throw new ConfigError('console_option_invalid', `${where}: store must be the gateway's ApprovalStore.`);
  if (typeof options.verifier?.verify !== 'function') throw new ConfigError('console_option_invalid', `${where}: verifier must be the gateway's Verifier.`);
  const audit = options.audit as Record<string, unknown> | undefined;
  const files = audit === undefined ? undefined : typeof audit.file === 'string' ? [audit.file] : Array.isArray(audit.files) && audit.files.length > 0 && audit.files.every((f) => typeof f === 'string' && f !== '') ? (audit.files as string[]) : undefined;
  if (audit === undefined || (files === undefined && typeof audit.kafka !== 'object')) throw new ConfigError('console_option_invalid', `${where}: audit must be { file } (the JSONL audit file), { files: [...] } (one per gateway process) or { kafka: { brokers, topic } }.`);
  const jaegerUrl = options.jaegerUrl === undefined || options.jaegerUrl === '' ? null : checkedUrl(options.jaegerUrl);
  const now = options.now ?? Date.now;
  const pollMs = count(where, 'pollMs', options.pollMs, 1000);
  const feedMaxBytes = count(where, 'feedMaxBytes', options.feedMaxBytes, 32 * 1024 * 1024);
  const feed = new AuditFeed(count(where, 'feedMaxEvents', options.feedMaxEvents, 10_000), feedMaxBytes);
  // The policy revision that asked for an approval is in the audit trail, not in the approval record.
  const pending = new PendingWatch(options.store, { pollMs, now, logger: options.logger, enrich: (item) => ({ ...item, policy_revision: feed.decision(item.decision_id)?.policy_revision ?? null }) });
  const isApprover = options.isApprover ?? ((a: VerifiedAgent) => a.labels.role === 'approver');
  const isViewer = options.isViewer ?? ((a: VerifiedAgent) => a.labels.role === 'approver' || a.labels.role === 'auditor');
  const config: Config = {
    guard: { verifier: options.verifier, roles: { approver: isApprover, viewer: isViewer, signed: () => true }, logger: options.logger },
    feed,
    pending,
    keys: loadAuditKeys(options.auditKeyFile),
    jaegerUrl,
    streamMaxMs: count(where, 'streamMaxMs', options.streamMaxMs, 300_000),
    now,
    logger: options.logger,
  };
  const source = files !== undefined ? tailFiles(files, feed, { pollMs, startBytes: feedMaxBytes, logger: options.logger })
    : { ready: Promise.resolve(), ...tailAuditTopic((options.audit as { kafka: { brokers: readonly string[]; topic: string } }).kafka, feed, { logger: options.logger }) };
  // A verdict, or a new request, reaches the trail: re-read the pending list then rather than at the next poll.
  const unsubscribe = feed.subscribe((s) => {
    if (s.type === 'approval' || s.outcome === 'approval_required') void pending.refresh();
  });
  const assets = loadAssets(options.assetsDir ?? DEFAULT_ASSETS_DIR);

  const router = Router();
  // Every console response carries the page's security headers, the API's JSON and event streams included.
  router.use('/console', (_req, res, next) => {
    securityHeaders(res);
    next();
  });
  // Express matches /console and /console/ alike: the page's relative asset URLs need the slash, so add it.
  router.get('/console', (req, res) => {
    if (req.originalUrl.split('?')[0] === '/console/') return serveAsset(assets, 'index.html', req, res);
    res.redirect(301, '/console/');
  });
  router.get('/console/assets/:name', (req, res) => serveAsset(assets, String(req.params.name), req, res));
  router.get('/console/api/whoami', signed(config.guard, 'signed', (_req, res, agent) => whoami(config, res, agent)));
  router.get('/console/api/decisions', signed(config.guard, 'viewer', (req, res) => {
    const filter = parseFilter(req.query);
    send(res, 200, { decisions: feed.list(filter, parseLimit(req.query.limit, 200, 1000)), kept: feed.size });
  }));
  router.get('/console/api/decisions/:id', signed(config.guard, 'viewer', (req, res) => detail(config, String(req.params.id), res)));
  router.get('/console/api/stats', signed(config.guard, 'viewer', (req, res) => {
    const bucketS = parseLimit(req.query.bucket_s, 60, 86_400);
    const buckets = parseLimit(req.query.buckets, 30, 500);
    send(res, 200, outcomeBuckets(feed.list({ sinceMs: now() - bucketS * buckets * 1000 }, 100_000), bucketS, now(), buckets));
  }));
  router.get('/console/api/stream', signed(config.guard, 'viewer', (req, res, agent) => stream(config, req, res, agent)));
  router.all(/^\/console(\/.*)?$/, (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'bad_request', 'method_not_allowed', `${req.method.slice(0, 16)} is not accepted here: the console's API takes GET; approve and deny with POST /approvals/<id>/approve or /deny.`);
    fail(res, 404, 'not_found', 'console_route_unknown', 'No such console page or API route; open /console/.');
  });
  return {
    router,
    ready: source.ready,
    close() {
      unsubscribe();
      source.close();
      pending.close();
    },
  };
}

function tailFiles(files: readonly string[], feed: AuditFeed, options: Parameters<typeof tailAuditFile>[2]): { ready: Promise<void>; close(): void } {
  const tails = files.map((file) => tailAuditFile(file, feed, options));
  return { ready: Promise.all(tails.map((t) => t.ready)).then(() => undefined), close: () => tails.forEach((t) => t.close()) };
}

function whoami(config: Config, res: Response, agent: VerifiedAgent): void {
  const { approver, viewer } = config.guard.roles;
  send(res, 200, { agent: agent.id, key_id: agent.keyId, labels: agent.labels, approver: safe(() => approver(agent)), viewer: safe(() => viewer(agent)), jaeger_url: config.jaegerUrl });
}

function detail(config: Config, id: string, res: Response): void {
  const events = id.length <= 256 ? config.feed.events(id) : [];
  if (events.length === 0) return fail(res, 404, 'not_found', 'decision_unknown', `No audit event for decision "${id.slice(0, 64)}" is in the console's memory (it keeps the newest events); use \`toolgate audit verify\` on the full trail.`);
  const traceId = events.find((e) => typeof e.trace_id === 'string')?.trace_id ?? null;
  send(res, 200, {
    decision_id: id,
    events: events.map((event) => ({ event, chain: checkChain(event, config.feed, config.keys) })),
    trace_url: traceId !== null && config.jaegerUrl !== null && /^[0-9a-f]{32}$/.test(traceId) ? `${config.jaegerUrl}/trace/${traceId}` : null,
  });
}

async function stream(config: Config, req: Request, res: Response, agent: VerifiedAgent): Promise<void> {
  const filter = parseFilter(req.query);
  const events = openEventStream(req, res, config.streamMaxMs);
  const offFeed = config.feed.subscribe((s) => {
    if (matches(s, filter)) events.send('decision', s);
  });
  const offPending = safe(() => config.guard.roles.approver(agent))
    ? config.pending.subscribe((items) => events.send('pending', { approvals: items, now: new Date(config.now()).toISOString() }))
    : undefined;
  events.send('hello', { agent: agent.id });
  await events.closed;
  offFeed();
  offPending?.();
}

function safe(check: () => boolean): boolean {
  try {
    return check() === true;
  } catch {
    return false;
  }
}

function checkedUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('console_option_invalid', `consoleRouter(): jaegerUrl "${value}" is not a URL: give the Jaeger UI's base, e.g. http://127.0.0.1:16686.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('console_option_invalid', 'consoleRouter(): jaegerUrl must be an http(s) URL.');
  return url.href.replace(/\/+$/, '');
}

function count(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new ConfigError('console_option_invalid', `${where}: ${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return value;
}
