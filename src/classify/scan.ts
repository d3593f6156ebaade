import { yieldToLoop } from '../event-loop.js';
import { BadRequestError } from '../errors.js';
import type { Finding } from '../policy/types.js';
import { type DetectMemo, detectYielding, type Detector, DETECTORS, finderFor, type Match } from './detectors.js';
import { escapePointer } from './pointer.js';

/** Deeper than any JSON the gateway accepts: reaching it means a value that contains itself. */
const CYCLE_DEPTH = 1_000_000;

export interface Findings {
  secrets: Finding[];
  pii: Finding[];
}

/**
 * Most findings one value may carry, and most characters their pointers may hold together. The policy input
 * carries every finding with its pointer, so without a bound a body of 10,000 short strings under one long member
 * name (every pointer repeating the name) grew the input quadratically with the body: 600 KB of arguments took
 * the process down while serialising the input. A value past either bound is refused (413 findings_too_many)
 * before the policy sees it: dropping findings would let a secret or a piece of personal data go unjudged and
 * unredacted.
 */
export const MAX_FINDINGS = 2_000;
export const MAX_FINDING_POINTER_CHARS = 256 * 1024;

/** The strings of one place in a value: a string at `pointer`, or the member names of the object at `pointer`. */
interface Place {
  readonly texts: readonly string[];
  readonly pointer: string;
  readonly inName: boolean;
}

/**
 * Every place with strings in a JSON value, in the document's order (depth first, an object's names before its
 * members). A loop with its own stack, not recursion, so nesting depth cannot overflow the call stack.
 */
function forEachPlace(value: unknown, base: string, visit: (place: Place) => void): void {
  const stack: [unknown, string, number][] = [[value, base, 0]];
  while (stack.length > 0) {
    const [v, pointer, depth] = stack.pop()!;
    // JSON cannot nest this deep in a body the gateway accepts; an object that contains itself would loop forever.
    if (depth > CYCLE_DEPTH) throw new TypeError('scan: the value is nested over a million levels deep or contains itself.');
    if (typeof v === 'string') {
      visit({ texts: [v], pointer, inName: false });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${pointer}/${i}`, depth + 1]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      visit({ texts: keys, pointer, inName: true });
      for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]!], `${pointer}/${escapePointer(keys[i]!)}`, depth + 1]);
    }
  }
}

/** Findings being gathered, with what their bounds count. */
interface Gathered extends Findings {
  pointerChars: number;
}

/** Adds one place's matches (of all its texts) to `out`: once per class and type at that place. */
function report(out: Gathered, place: Place, matches: readonly (readonly Match[])[]): void {
  const types = new Set<string>();
  for (const list of matches) {
    for (const m of list) {
      const id = `${m.class}|${m.type}`;
      if (types.has(id)) continue;
      types.add(id);
      (m.class === 'secret' ? out.secrets : out.pii).push(place.inName ? { type: m.type, pointer: place.pointer, in: 'name' } : { type: m.type, pointer: place.pointer });
      out.pointerChars += place.pointer.length;
      const count = out.secrets.length + out.pii.length;
      if (count > MAX_FINDINGS || out.pointerChars > MAX_FINDING_POINTER_CHARS) {
        throw new BadRequestError(
          'findings_too_many',
          count > MAX_FINDINGS
            ? `The arguments hold more than ${MAX_FINDINGS} secrets or pieces of personal data the gateway detects; nothing was executed. Send fewer in one call (split the list across calls).`
            : `The detected secrets and personal data sit under member names too long to report (their JSON Pointers exceed ${MAX_FINDING_POINTER_CHARS} characters together); nothing was executed. Use short member names.`,
        );
      }
    }
  }
}

const gathered = (): Gathered => ({ secrets: [], pii: [], pointerChars: 0 });

/** The findings alone, as the policy input carries them. */
const findingsOf = (out: Gathered): Findings => ({ secrets: out.secrets, pii: out.pii });

/**
 * Walks a JSON value and reports every detector finding with the JSON Pointer of the string it sits in, once per
 * class, type and pointer. Member names are scanned like strings: a finding in a name is reported at the object
 * that holds the member, with `in: "name"` (once per class and type per object). A name has no pointer of its own,
 * and the object's pointer keeps every consumer right: redacting or masking there reaches the name, and a
 * pointer never repeats the credential it reports. Every string and name is scanned whole, however long and
 * however deep it sits: a part left unscanned would be a place to hide a credential from the policy and from
 * audit masking. The cost is bounded by the detectors (linear, at most MAX_MATCHES_PER_DETECTOR matches each per
 * string) and by the body limit; what they report is bounded by MAX_FINDINGS and MAX_FINDING_POINTER_CHARS (past
 * either: BadRequestError findings_too_many). The order of the findings is the document's. With a `memo` (built-in detectors
 * only), what the detectors found in long strings is kept there for the masks after the scan.
 */
export function scan(value: unknown, base: string, detectors: readonly Detector[] = DETECTORS, memo?: DetectMemo): Findings {
  const out = gathered();
  const find = finderFor(detectors, memo);
  forEachPlace(value, base, (place) => report(out, place, place.texts.map(find)));
  return findingsOf(out);
}

/**
 * How much detector work (characters times detectors) one event-loop turn of scanYielding does before it lets
 * other work run: about 2 ms at the detectors' usual cost, 10-15 ms at their worst (a dense run of digits).
 */
export const SCAN_TURN_CHARS = 512 * 1024;

/**
 * The same findings as `scan`, found over several event-loop turns: after about SCAN_TURN_CHARS of detector work
 * the scan waits for the next turn (yieldToLoop, so timers, pending I/O and other requests run first), and a
 * string that long on its own is scanned one detector per turn, from a turn of its own. A 1 MiB body of the
 * detectors' worst input held the loop 40-60 ms in one turn; this way no turn runs more than one detector over one
 * string. The walk itself (no detector) shares the parse's turn: cheap next to the JSON parse.
 */
export async function scanYielding(
  value: unknown,
  base: string,
  options: { detectors?: readonly Detector[]; turnChars?: number; matchesPerTurn?: number; pause?: () => Promise<void>; memo?: DetectMemo } = {},
): Promise<Findings> {
  const detectors = options.detectors ?? DETECTORS;
  const memo = detectors === DETECTORS ? options.memo : undefined;
  const find = finderFor(detectors, memo);
  const turnChars = options.turnChars ?? SCAN_TURN_CHARS;
  const pause = options.pause ?? yieldToLoop;
  const places: Place[] = [];
  forEachPlace(value, base, (place) => places.push(place));
  const out = gathered();
  let work = 0;
  const costOf = (text: string) => text.length * detectors.length;
  for (const place of places) {
    const matches: Match[][] = [];
    for (const text of place.texts) {
      const cost = costOf(text);
      // A string too long for one turn starts in a turn of its own, even as the first: the turn that parsed the body
      // (and hashed it for its digest) is long enough already.
      if (cost > turnChars || (work > 0 && work + cost > turnChars)) {
        await pause();
        work = 0;
      }
      if (cost > turnChars) {
        const found = await detectYielding(text, pause, detectors, options.matchesPerTurn);
        memo?.remember(text, found);
        matches.push(found);
        await pause();
        work = 0;
      } else {
        matches.push(find(text));
        work += cost;
      }
    }
    report(out, place, matches);
  }
  return findingsOf(out);
}

/**
 * The request path's scan of a value parsed from `sourceBytes` bytes of JSON: in the same turn (`scan`) when all
 * of its detector work fits in one turn (a JSON text has at least as many bytes as its strings have characters),
 * else over several (`scanYielding`). Small bodies, nearly all of them, pay nothing for the large ones.
 */
export function scanRequest(value: unknown, base: string, sourceBytes: number, memo?: DetectMemo): Findings | Promise<Findings> {
  return sourceBytes * DETECTORS.length <= SCAN_TURN_CHARS ? scan(value, base, DETECTORS, memo) : scanYielding(value, base, memo ? { memo } : {});
}
