/**
 * Where a request's Ed25519 signature is checked, for the whole process:
 *
 * - `inline` (the default): on the event loop with the process's backend (libsodium when it loads). The least CPU
 *   per call, and no hand-off: in five alternating pairs of one-process runs on a 2-core machine at 10 and at 100
 *   connections each, more calls per second than `pool` by the median and less server CPU per call in 9 of the 10
 *   pairs (median 17 % less).
 * - `pool`: off the event loop, node:crypto (OpenSSL) on libuv's thread pool. The event loop pays about 13 µs per
 *   check instead of 77-94 µs (libsodium), but each check wakes a pool thread and then the loop again, and OpenSSL
 *   verifies at about a third of libsodium's speed; a call also waits for a pool thread (UV_THREADPOOL_SIZE, 4 by
 *   default, shared with the audit file's writes). It paid (+6.6 % calls per second at 100 connections) only while
 *   the loop also waited on evaluator replies it had not read yet (src/policy/pool.ts); kept for hosts with idle
 *   cores where the loop is the bottleneck.
 *
 * Other algorithms are unaffected (their library verifies in line). Set with TOOLGATE_SIGNATURE_CHECK or
 * setSignatureCheckPlacement before the first request; a check reads the setting each call.
 */
export type CheckPlacement = 'pool' | 'inline';

export const CHECK_PLACEMENTS: readonly CheckPlacement[] = ['pool', 'inline'];

/** The placement when the operator names none: one process and each `serve --workers` process alike. */
export const DEFAULT_CHECK_PLACEMENT: CheckPlacement = 'inline';

let placement: CheckPlacement = DEFAULT_CHECK_PLACEMENT;

export function signatureCheckPlacement(): CheckPlacement {
  return placement;
}

export function setSignatureCheckPlacement(value: CheckPlacement): void {
  if (!CHECK_PLACEMENTS.includes(value)) throw new TypeError(`signature check placement must be one of ${CHECK_PLACEMENTS.join(', ')}, not ${String(value)}`);
  placement = value;
}
