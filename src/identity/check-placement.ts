/**
 * Where a request's Ed25519 signature is checked, for the whole process:
 *
 * - `evaluator` (the default): in the evaluator thread that decides the call, in the round trip the call makes
 *   anyway (libsodium there too; src/policy/worker.ts), before the policy sees the input: the event loop pays
 *   nothing for the arithmetic and nothing more for the hand-off. Two alternating pairs of the bench's profile at
 *   100 connections (one process, 2 cores): 1,480 and 1,541 calls per second with `inline`, 1,758 and 1,751 with
 *   this; the event loop's CPU per call 621 and 602 µs against 486 and 502, the evaluator threads' 100 and 96
 *   against 169 and 182. Only an HTTP tool call of at most 16 KiB with one Ed25519 signature, no approval and no
 *   break-glass token is checked there, when the process has libsodium and the policy evaluates in threads;
 *   everything else as `inline`. Until the check the call is a claim that only read-only stages see
 *   (gateway/stages/claim.ts).
 * - `inline`: on the event loop with the process's backend (libsodium when it loads). No hand-off of its own: in
 *   five alternating pairs of one-process runs on a 2-core machine at 10 and at 100 connections each, more calls per
 *   second than `pool` by the median and less server CPU per call in 9 of the 10 pairs (median 17 % less).
 * - `pool`: off the event loop, node:crypto (OpenSSL) on libuv's thread pool. The event loop pays about 13 µs per
 *   check instead of 77-94 µs (libsodium), but each check wakes a pool thread and then the loop again, and OpenSSL
 *   verifies at about a third of libsodium's speed; a call also waits for a pool thread (UV_THREADPOOL_SIZE, 4 by
 *   default, shared with the audit file's writes). It paid (+6.6 % calls per second at 100 connections) only while
 *   the loop also waited on evaluator replies it had not read yet (src/policy/pool.ts).
 *
 * Other algorithms are unaffected (their library verifies in line). Set with TOOLGATE_SIGNATURE_CHECK or
 * setSignatureCheckPlacement before the first request; a check reads the setting each call.
 */
export type CheckPlacement = 'pool' | 'inline' | 'evaluator';

export const CHECK_PLACEMENTS: readonly CheckPlacement[] = ['pool', 'inline', 'evaluator'];

/** The placement when the operator names none: one process and each `serve --workers` process alike. */
export const DEFAULT_CHECK_PLACEMENT: CheckPlacement = 'evaluator';

let placement: CheckPlacement = DEFAULT_CHECK_PLACEMENT;

export function signatureCheckPlacement(): CheckPlacement {
  return placement;
}

export function setSignatureCheckPlacement(value: CheckPlacement): void {
  if (!CHECK_PLACEMENTS.includes(value)) throw new TypeError(`signature check placement must be one of ${CHECK_PLACEMENTS.join(', ')}, not ${String(value)}`);
  placement = value;
}
