import { metrics, type Counter, type Histogram, type ObservableGauge } from '@opentelemetry/api';
import * as A from './attributes.js';

/** Instruments created once; with no MeterProvider registered they are the API's no-ops and cost nothing. */
export class GatewayMetrics {
  readonly decisions: Counter;
  readonly duration: Histogram;
  readonly identityFailures: Counter;
  readonly spoolDepth: ObservableGauge;
  readonly shadowDisagreements: Counter;

  constructor(spoolDepth: () => number) {
    const meter = metrics.getMeter(A.INSTRUMENTATION_NAME);
    this.decisions = meter.createCounter(A.METRIC_DECISIONS, { description: 'Decisions made, by outcome and tool' });
    this.duration = meter.createHistogram(A.METRIC_DECISION_DURATION, {
      description: 'Time from request received to decision enforced',
      unit: 's',
    });
    this.identityFailures = meter.createCounter(A.METRIC_IDENTITY_FAILURES, {
      description: 'Requests whose signature did not verify, by reason',
    });
    this.spoolDepth = meter.createObservableGauge(A.METRIC_AUDIT_SPOOL_DEPTH, {
      description: 'Audit events waiting in the local spool for the broker',
    });
    this.spoolDepth.addCallback((result) => result.observe(spoolDepth()));
    this.shadowDisagreements = meter.createCounter(A.METRIC_SHADOW_DISAGREEMENTS, {
      description: 'Shadow candidate verdicts that differ from the enforced decision, by tool and outcome pair',
    });
  }
}

/** The policy lifecycle's instruments: hot swaps made and bundles refused. */
export class PolicyMetrics {
  readonly activations: Counter;

  constructor() {
    const meter = metrics.getMeter(A.INSTRUMENTATION_NAME);
    this.activations = meter.createCounter(A.METRIC_POLICY_ACTIVATIONS, { description: 'Policy revisions activated or refused, by result and reason' });
  }
}
