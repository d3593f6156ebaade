import { MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';

/** Collects metrics in-process when asked (the policy lifecycle tests read counters from it). */
export class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}

  /** The data points of one metric, or [] when it has none yet. */
  async points(name: string): Promise<DataPoint<unknown>[]> {
    const { resourceMetrics } = await this.collect();
    return (resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)?.dataPoints ?? []) as DataPoint<unknown>[];
  }
}
