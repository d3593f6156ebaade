import { context, metrics, propagation, trace, type TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';

export interface TelemetrySetupOptions {
  /** `OTEL_SERVICE_NAME`, default `toolgate`. */
  readonly serviceName?: string;
  /** OTLP/HTTP base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); unset means no exporter (spans cost nothing). */
  readonly otlpEndpoint?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Extra processors, e.g. an in-memory one in unit tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
}

export interface Telemetry {
  readonly provider: TracerProvider;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers a global tracer provider, W3C propagation and an async-hooks context manager, for processes that
 * own their telemetry (the demo, the CLI). A service that already set up OpenTelemetry skips this: the
 * middleware only uses the global API.
 */
export function setupTelemetry(options: TelemetrySetupOptions = {}): Telemetry {
  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    // Batching keeps export off the request path; a short timeout and bounded queue mean a dead collector
    // costs dropped spans, never slower requests.
    processors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url, timeoutMillis: 5_000 }),
        maxQueueSize: 4096,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 500,
      }),
    );
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'toolgate', ...(options.attributes ?? {}) }),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  trace.setGlobalTracerProvider(provider as ApiTracerProvider);
  return {
    provider,
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
