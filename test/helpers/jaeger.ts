import { waitFor } from './services.js';

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  logs?: { timestamp: number; fields: { key: string; value: unknown }[] }[];
}

export const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;

/** Fetches spans of `service` back from Jaeger's query API until `match` finds one. */
export async function findSpan(queryUrl: string, service: string, match: (s: JaegerSpan) => boolean, timeoutMs = 30_000): Promise<{ span: JaegerSpan; trace: JaegerSpan[] }> {
  return waitFor(`a span of ${service} in Jaeger`, async () => {
    const res = await fetch(`${queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=200&lookback=1h`);
    if (!res.ok) return undefined;
    const body = (await res.json()) as { data?: { spans: JaegerSpan[] }[] };
    for (const trace of body.data ?? []) {
      const span = trace.spans.find(match);
      if (span) return { span, trace: trace.spans };
    }
    return undefined;
  }, timeoutMs, 300);
}
