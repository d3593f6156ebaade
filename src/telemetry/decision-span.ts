import { context, propagation, trace, SpanKind, SpanStatusCode, type Context, type Span, type Attributes } from '@opentelemetry/api';
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

export function startDecisionSpan(tool: string, parent: Context, attributes: Attributes): Span {
  return tracer().startSpan(`${A.SPAN_AUTHORIZE} ${tool}`, { kind: SpanKind.INTERNAL, attributes }, parent);
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
