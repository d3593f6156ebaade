import { context, isSpanContextValid, propagation, trace, SpanKind, SpanStatusCode, type Context, type Span, type Attributes } from '@opentelemetry/api';
import * as A from './attributes.js';

const tracer = () => trace.getTracer(A.INSTRUMENTATION_NAME);

/**
 * The parent of a decision span: the active span when the service runs HTTP instrumentation, else the
 * W3C `traceparent` the caller sent, else a new root.
 */
export function parentContext(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  const active = context.active();
  if (trace.getSpan(active)) return active;
  return propagation.extract(active, headers);
}

/**
 * The parent an MCP message names in `params._meta` (`traceparent`, `tracestate`: MCP's trace context, which
 * wins over the HTTP header because it travels with the call itself). A service's active span still parents the
 * decision; a malformed or absent `_meta.traceparent` leaves `parent` as it was.
 */
export function parentFromMeta(parent: Context, meta: unknown): Context {
  if (typeof meta !== 'object' || meta === null) return parent;
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof traceparent !== 'string' || trace.getSpan(context.active())) return parent;
  const carrier: Record<string, string> = { traceparent };
  if (typeof tracestate === 'string') carrier.tracestate = tracestate;
  const extracted = propagation.extract(context.active(), carrier);
  const sc = trace.getSpanContext(extracted);
  return sc && isSpanContextValid(sc) ? extracted : parent;
}

/** `startTime` (epoch ms) lets a span begin where the request began when it is opened once the body is read. */
export function startDecisionSpan(tool: string, parent: Context, attributes: Attributes, startTime?: number): Span {
  return tracer().startSpan(`${A.SPAN_AUTHORIZE} ${tool}`, { kind: SpanKind.INTERNAL, attributes, ...(startTime !== undefined ? { startTime } : {}) }, parent);
}

export function startExecuteSpan(tool: string, parent: Context, attributes: Attributes): Span {
  return tracer().startSpan(`${A.SPAN_EXECUTE} ${tool}`, { kind: SpanKind.INTERNAL, attributes }, parent);
}

/** A deny is a normal outcome, not an error; only evaluation or infrastructure failures mark the span. */
export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (error instanceof Error) span.recordException(error);
}

/**
 * The trace and span ids to record beside a decision (the audit event's `trace_id` / `span_id`): null for what was
 * not traced. A non-recording span (tracing off) carries the caller's trace id when it sent `traceparent`, but its
 * span id is the caller's, not a span of ours, so it is left out.
 */
export function traceIds(span: Span): { traceId: string | null; spanId: string | null } {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return { traceId: null, spanId: null };
  // The no-op tracer's span reuses the extracted (remote) context; a span of ours never has a remote context.
  return { traceId: sc.traceId, spanId: sc.isRemote === true ? null : sc.spanId };
}
