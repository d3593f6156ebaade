/**
 * OPA's WASM ABI 1.2 entry (`opa_eval`), called directly: the input's UTF-8 JSON is written at the start of the
 * heap, one call evaluates it, and the result set's JSON is read where it lies. opa-wasm's own evaluate() does the
 * same through a fresh TextEncoder buffer, a byte-by-byte scan for the result's end and a fresh TextDecoder on every
 * call; the evaluator threads (worker.ts) and the engine's in-thread evaluations (engine.ts) both come here instead.
 *
 * Imports nothing from this project: worker.ts loads it by URL, as a .ts file under vitest and as .js from dist.
 */

/** The parts of opa-wasm's LoadedPolicy the ABI 1.2 entry needs (its own evaluate() uses the same). */
export interface AbiPolicy {
  readonly minorVersion: number;
  readonly mem: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly wasmInstance: { readonly exports: { opa_eval(reserved: number, entrypoint: number, data: number, input: number, length: number, heap: number, format: number): number } };
  readonly dataAddr: number;
  readonly dataHeapPtr: number;
  readonly entrypoints: Record<string, number>;
}

const PAGE = 65_536;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Why a policy cannot be evaluated here, or undefined when it can. */
export function abiProblem(policy: AbiPolicy): string | undefined {
  return policy.minorVersion >= 2 ? undefined : `the policy uses OPA WASM ABI 1.${policy.minorVersion}, this evaluator needs 1.2 or later`;
}

/** `length` bytes of WASM memory where the input goes (the start of the heap), grown when they do not fit. */
function inputArea(policy: AbiPolicy, length: number): Uint8Array {
  const at = policy.dataHeapPtr;
  const short = at + length - policy.mem.buffer.byteLength;
  if (short > 0) policy.mem.grow(Math.ceil(short / PAGE));
  return new Uint8Array(policy.mem.buffer, at, length);
}

/** Evaluates the `length` bytes of input in place; returns the result set's JSON bytes (a view of WASM memory, valid until the next call). */
function evaluateInPlace(policy: AbiPolicy, entrypoint: number, length: number): Uint8Array {
  const at = policy.dataHeapPtr;
  const result = policy.wasmInstance.exports.opa_eval(0, entrypoint, policy.dataAddr, at, length, at + length, 0);
  const memory = new Uint8Array(policy.mem.buffer);
  const end = memory.indexOf(0, result);
  if (end < 0) throw new Error('the result in WASM memory has no end');
  return memory.subarray(result, end);
}

/** Evaluates input given as UTF-8 JSON bytes; returns the result set's JSON bytes, as evaluateInPlace. */
export function evaluateBytes(policy: AbiPolicy, entrypoint: number, input: Uint8Array): Uint8Array {
  inputArea(policy, input.byteLength).set(input);
  return evaluateInPlace(policy, entrypoint, input.byteLength);
}

/**
 * Evaluates a JSON value (serialised once, encoded straight into WASM memory) and returns the parsed result set.
 * The room tried first is what the memory already has past the heap's start; only input that does not fit grows it.
 */
export function evaluateValue(policy: AbiPolicy, entrypoint: number, input: unknown): unknown {
  const text = JSON.stringify(input) ?? 'null';
  const first = encoder.encodeInto(text, inputArea(policy, Math.max(0, policy.mem.buffer.byteLength - policy.dataHeapPtr)));
  const written = first.read < text.length ? encoder.encodeInto(text, inputArea(policy, Buffer.byteLength(text))).written : first.written;
  return JSON.parse(decoder.decode(evaluateInPlace(policy, entrypoint, written)));
}
