/**
 * Where a request's Ed25519 signature is checked, for the whole process:
 *
 * - `pool` (the default): off the event loop, node:crypto (OpenSSL) on libuv's thread pool. The event loop pays
 *   about 13 µs per check instead of 77-94 µs (libsodium) or 124-162 µs (OpenSSL in line), so one process serves
 *   more calls before its loop saturates, using the other cores for the check; the machine pays more in all (OpenSSL
 *   is slower than libsodium) and a call waits for a pool thread (UV_THREADPOOL_SIZE, 4 by default, shared with the
 *   audit file's writes).
 * - `inline`: on the event loop with the process's backend (libsodium when it loads). The least CPU per call: the
 *   better choice when every core already runs a gateway process (`serve --workers`).
 *
 * Other algorithms are unaffected (their library verifies in line). Set with TOOLGATE_SIGNATURE_CHECK or
 * setSignatureCheckPlacement before the first request; a check reads the setting each call.
 */
export type CheckPlacement = 'pool' | 'inline';

export const CHECK_PLACEMENTS: readonly CheckPlacement[] = ['pool', 'inline'];

let placement: CheckPlacement = 'pool';

export function signatureCheckPlacement(): CheckPlacement {
  return placement;
}

export function setSignatureCheckPlacement(value: CheckPlacement): void {
  if (!CHECK_PLACEMENTS.includes(value)) throw new TypeError(`signature check placement must be one of ${CHECK_PLACEMENTS.join(', ')}, not ${String(value)}`);
  placement = value;
}
