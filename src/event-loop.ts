import { setImmediate as immediate } from 'node:timers/promises';

/**
 * Resolves once the event loop has run its timers and polled for I/O: what a long piece of work on a large
 * request (the scan of a 1 MiB body, the audit record of one) awaits between its parts, so other requests and the
 * loop's timers run in between.
 *
 * One setImmediate is not enough. Called from an I/O callback (the poll phase, where most request work runs), it
 * resolves in the check phase of the same turn: no timer fires and no new I/O is read in between, and the two parts
 * hold the loop as one. A second hop, taken from the check phase, always waits for the next turn's timers and poll.
 * Measured on a 1 MiB body of tabs: the audit record's two halves (building the event; chaining and writing it) ran
 * back to back as one 17-30 ms hold with one hop.
 */
export async function yieldToLoop(): Promise<void> {
  await immediate();
  await immediate();
}
