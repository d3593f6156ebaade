import type { PolicyEngine } from './engine.js';
import { Simulation } from './simulate.js';
import { eachRecordedEvent, type SimulationSource } from './simulate-source.js';
import type { SimulationOptions, SimulationReport } from './simulate-types.js';

export interface RunSimulationOptions extends SimulationOptions {
  /** Past this many changed decisions (with clear inputs), `exceeded` is true [no limit]. */
  readonly maxChanged?: number;
}

const MB = 1024 * 1024;

/**
 * Streams the source's recorded decisions through the candidate, evaluated in this thread: opa-wasm evaluates
 * synchronously, so the reader (a file stream or a kafkajs consumer, both awaiting the handler) pauses while each
 * event is replayed and never runs ahead into memory.
 */
export async function runSimulation(candidate: PolicyEngine, source: SimulationSource, options: Readonly<RunSimulationOptions> = {}): Promise<SimulationReport> {
  const { maxChanged, ...simulationOptions } = options;
  const simulation = new Simulation((input) => candidate.evaluate(input as never), simulationOptions);
  const started = performance.now();
  const { tornBytes } = await eachRecordedEvent(source, (event) => simulation.add(event));
  simulation.finish();
  const elapsedS = (performance.now() - started) / 1000;
  const { clear, masked, skipped, events, unreadable } = simulation;
  return {
    candidate: { revision: candidate.info.revision, sha256: candidate.info.sha256 },
    source: 'file' in source ? source.file : `${source.brokers.join(',')}/${source.topic}`,
    window: { since: iso(options.sinceMs), until: iso(options.untilMs) },
    events,
    unreadable,
    tornBytes,
    skipped: { ...skipped },
    clear,
    masked,
    recordedRevisions: Object.fromEntries(simulation.recordedRevisions),
    elapsedS: round(elapsedS, 3),
    eventsPerS: elapsedS > 0 ? Math.round(events / elapsedS) : events,
    memory: { rssStartMb: round(simulation.rssStart / MB, 1), rssPeakMb: round(simulation.rssPeak / MB, 1) },
    maxChanged: maxChanged ?? null,
    exceeded: maxChanged !== undefined && clear.changed > maxChanged,
  };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
