import { context, metrics, propagation, trace, type TracerProvider as ApiTracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from '@opentelemetry/sdk-metrics';

export interface TelemetrySetupOptions {
  /** `OTEL_SERVICE_NAME`, default `toolgate`. */
  readonly serviceName?: string;
  /** OTLP/HTTP base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); unset means no exporter (spans cost nothing). */
  readonly otlpEndpoint?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** Extra processors, e.g. an in-memory one in unit tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /**
   * Push metrics over OTLP/HTTP to `otlpEndpoint` (`OTEL_METRICS_EXPORTER=otlp`). Off by default because Jaeger,
   * the default endpoint here, takes traces only; docker-compose points it at the OpenTelemetry Collector.
   */
  readonly exportMetrics?: boolean;
  /** Extra metric readers, e.g. an in-memory one in tests. */
  readonly metricReaders?: readonly IMetricReader[];
  /** Metric export interval, ms. Default 10 s. */
  readonly metricIntervalMs?: number;
}

export interface Telemetry {
  /** Registered as the global tracer provider only when `tracing` (a processor listens). */
  readonly provider: TracerProvider;
  /** Registered as the global meter provider only when `metering` (a reader collects). */
  readonly meterProvider: MeterProvider;
  /** Whether spans are recorded: an OTLP endpoint or span processors were given. */
  readonly tracing: boolean;
  /** Whether metrics are recorded: a metric exporter or readers were given. */
  readonly metering: boolean;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Registers W3C propagation and an async-hooks context manager, and a global tracer (meter) provider when something
 * listens, for processes that own their telemetry (the demo, the CLI). A service that already set up OpenTelemetry
 * skips this: the middleware only uses the global API.
 *
 * With no exporter and no processor, no tracer provider is registered: the API's no-op tracer hands out
 * non-recording spans (carrying the caller's `traceparent`, if any), so a request does no span work that nobody
 * reads. A registered SDK provider without processors still built, timed and stored every span and attribute:
 * about 6 µs of CPU per call against 1 µs (the gateway's span calls in a loop, Node 26, 2 vCPU).
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
  const resource = resourceFromAttributes({ 'service.name': options.serviceName ?? 'toolgate', ...(options.attributes ?? {}) });
  const provider = new TracerProvider({ resource, spanProcessors: processors });
  const readers: IMetricReader[] = [...(options.metricReaders ?? [])];
  if (options.otlpEndpoint && options.exportMetrics) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/metrics`, timeoutMillis: 5_000 }),
        exportIntervalMillis: options.metricIntervalMs ?? 10_000,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const tracing = processors.length > 0;
  const metering = readers.length > 0;
  if (metering) metrics.setGlobalMeterProvider(meterProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  if (tracing) trace.setGlobalTracerProvider(provider as ApiTracerProvider);
  return {
    provider,
    meterProvider,
    tracing,
    metering,
    // Export failures are the exporter's business: flushing or shutting down never throws at the caller.
    flush: async () => {
      await provider.forceFlush().catch(() => undefined);
      await meterProvider.forceFlush().catch(() => undefined);
    },
    shutdown: async () => {
      await provider.shutdown().catch(() => undefined);
      await meterProvider.shutdown().catch(() => undefined);
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}
