/**
 * Built-in detectors for credentials and personal data in tool arguments. Their findings go into the policy
 * input (so rules can refuse a secret in an email body) and drive masking before anything leaves the process.
 * Each detector is a global regex plus an optional validator that cuts false positives (Luhn for cards).
 *
 * Every detector is linear in its input, because one request of a few hundred KiB must not hold the event loop
 * (issue 8): no pattern has ambiguous nested quantifiers (recheck checks each one in test/classify/redos.test.ts),
 * a pattern that would start inside a run it already scanned is anchored on a rarer character instead (`@`,
 * `.eyJ`) with its prefix found by a bounded look-back, and `detect` de-duplicates in one sweep and stops a
 * detector after MAX_MATCHES_PER_DETECTOR findings in one string (the rest of it then counts as that type).
 */
export interface Detector {
  readonly type: string;
  readonly class: 'secret' | 'pii';
  /** A global regex whose matching time is linear in the text (test/classify/redos.test.ts checks each one). */
  readonly pattern: RegExp;
  /** Whether the match `text.slice(start, end)` counts; given the range, not a slice, so a check need not copy. */
  readonly validate?: (text: string, start: number, end: number) => boolean;
  /**
   * For a pattern that starts at a rare anchor character after a variable prefix (the `@` of an e-mail): where
   * the match really starts, found by looking back from `at` (the pattern's match index) but never before
   * `floor` (the end of this detector's previous match), or -1 when there is no prefix. A regex that began
   * with the prefix's character class would be tried, and scan up to the prefix's length, at every position.
   */
  readonly prefix?: (text: string, at: number, floor: number) => number;
  /**
   * For a pattern that ends in an unbounded run of one character class, written with a cap instead: where the
   * match really ends, found from the regex's end over the rest of the run (the next search starts there). The
   * same match as the unbounded pattern's, without the pattern itself running over the whole run: while irregexp
   * still interprets a pattern (its first runs in a process) it walked the api_key value's class at 25-30 ms per
   * MiB, in one search the scan cannot split. The api_key suffix is a search for the run's first outside character
   * with a regex compiled at load (1.2 ms per MiB).
   */
  readonly suffix?: (text: string, end: number) => number;
}

/** Luhn's doubled digit, with the digits of the product summed: the table of `d * 2 > 9 ? d * 2 - 9 : d * 2`. */
const LUHN_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];

/** The Luhn check of the digits in `text[start, end)` (separators skipped): a card number has 13 to 19 of them. */
function luhn(text: string, start: number, end: number): boolean {
  let sum = 0;
  let n = 0;
  for (let i = end - 1; i >= start; i--) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    sum += (n & 1) === 1 ? LUHN_DOUBLED[c]! : c;
    n++;
  }
  return n >= 13 && n <= 19 && sum % 10 === 0;
}

/**
 * Shannon entropy in bits per character: a generic `key = value` only counts when the value looks random. Counted
 * by character code in a table, not in a Map of one-character strings: a value can be the whole body (the
 * pattern's character class runs on through `token=xoxb-token=xoxb-...`), and the Map held the event loop 70 ms
 * per MiB. The value's characters are ASCII (the pattern's class); any other code point is counted apart, as
 * before, and the probabilities divide by the length in UTF-16 code units, as before.
 */
function entropy(s: string): number {
  // An ASCII value (every api_key value is: the pattern's class) is counted from its bytes: charCodeAt over a long
  // slice of a parsed body ran 15 ms per MiB in the gateway's pass, the bytes' count 1.5-3.6 ms. A UTF-8 length
  // equal to the UTF-16 one means every code unit is ASCII (any other takes two bytes or more).
  if (Buffer.byteLength(s, 'utf8') === s.length) return asciiEntropy(Buffer.from(s, 'latin1'));
  const ascii = new Uint32Array(128);
  let others: Map<number, number> | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      ascii[c]!++;
      continue;
    }
    const point = s.codePointAt(i)!;
    if (point > 0xffff) i++;
    others ??= new Map();
    others.set(point, (others.get(point) ?? 0) + 1);
  }
  const h = addBits(0, ascii, s.length);
  return others ? addBits(h, others.values(), s.length) : h;
}

/** Shannon entropy of ASCII bytes, in bits per byte (= per character): `entropy`'s count for an ASCII string. */
function asciiEntropy(bytes: Uint8Array): number {
  const counts = new Uint32Array(128);
  for (let i = 0; i < bytes.length; i++) counts[bytes[i]!]!++;
  return addBits(0, counts, bytes.length);
}

/** `h` minus p log2 p for each non-zero count, p = count / length (the same order of additions on every path). */
function addBits(h: number, counts: Iterable<number>, length: number): number {
  for (const n of counts) {
    if (n === 0) continue;
    const p = n / length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * The first character after an api_key value's run: anything outside `[A-Za-z0-9_\-+/=]`. A native search: the JS
 * walk it replaces took 12-15 ms over a MiB-long run in the gateway (one turn). Run once here on a short text, so
 * irregexp has already moved past interpreting it (its first run in a process) when a request's long run comes.
 */
const API_KEY_VALUE_END = /[^A-Za-z0-9_\-+/=]/g;
API_KEY_VALUE_END.exec('key=value ');
API_KEY_VALUE_END.lastIndex = 0;

/** The value of an `api_key`-style match: what follows the first `:` or `=`, its spaces and an opening quote. */
function assignedValue(match: string): string {
  let i = 0;
  while (i < match.length && match[i] !== ':' && match[i] !== '=') i++;
  i++;
  while (i < match.length && /\s/.test(match[i]!)) i++;
  if (match[i] === '"' || match[i] === "'") i++;
  return match.slice(i);
}

const EMAIL_LOCAL_MAX = 64;
const isEmailLocal = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isWord = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;

/**
 * The local part before the `@` at `at`: what `\b[A-Za-z0-9._%+-]{1,64}@` would match, i.e. the longest run of
 * local-part characters (at most 64) that starts on a word boundary. Bounded look-back, so linear overall.
 */
function emailLocalStart(text: string, at: number, floor: number): number {
  let lo = at;
  const min = Math.max(floor, at - EMAIL_LOCAL_MAX);
  while (lo > min && isEmailLocal(text.charCodeAt(lo - 1))) lo--;
  for (let p = lo; p < at; p++) {
    const before = p > 0 && isWord(text.charCodeAt(p - 1));
    if (before !== isWord(text.charCodeAt(p))) return p;
  }
  return -1;
}

const isToken = (c: number) => isWord(c) || c === 45;

/**
 * The header before the `.eyJ` at `at`: what `\beyJ[A-Za-z0-9_-]{8,}` would match there, i.e. the leftmost
 * `eyJ` on a word boundary in the run of token characters that ends at `at`, with at least 8 characters after
 * it. Each run ends at one `.`, so the runs looked at are disjoint: linear overall.
 */
function jwtHeaderStart(text: string, at: number, floor: number): number {
  let lo = at;
  while (lo > floor && isToken(text.charCodeAt(lo - 1))) lo--;
  for (let p = lo; p + 11 <= at; p++) {
    if (text.startsWith('eyJ', p) && !(p > 0 && isWord(text.charCodeAt(p - 1)))) return p;
  }
  return -1;
}

export const DETECTORS: readonly Detector[] = [
  { type: 'private_key', class: 'secret', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g },
  { type: 'aws_access_key', class: 'secret', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { type: 'github_token', class: 'secret', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { type: 'slack_token', class: 'secret', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { type: 'stripe_key', class: 'secret', pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g },
  // `sk-`, `sk-proj-` and `sk-ant-` keys: the prefixes are part of the character run, so no optional group
  // overlaps the run (recheck timed out on the ambiguity).
  { type: 'openai_key', class: 'secret', pattern: /\bsk-[A-Za-z0-9_-]{20,}\b/g },
  { type: 'google_api_key', class: 'secret', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  // Anchored on the `.eyJ` between header and payload; `prefix` finds the header. `\beyJ` at the front was
  // tried after every `-` inside a run of token characters and rescanned the run each time (quadratic).
  { type: 'jwt', class: 'secret', pattern: /\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, prefix: jwtHeaderStart },
  {
    type: 'api_key',
    class: 'secret',
    // The value's run is capped at 256 in the regex and walked on by `suffix`: `token=` repeated over a MiB is one
    // match, and the first time the pattern ran in a process that one search took 25-30 ms of a single turn.
    pattern: /\b(?:api[_-]?key|secret|token|password|passwd)\s*[:=]\s*["']?[A-Za-z0-9_\-+/=]{16,256}/gi,
    suffix: (text, end) => {
      API_KEY_VALUE_END.lastIndex = end;
      const next = API_KEY_VALUE_END.exec(text);
      API_KEY_VALUE_END.lastIndex = 0;
      return next === null ? text.length : next.index;
    },
    validate: (text, start, end) => entropy(assignedValue(text.slice(start, end))) >= 3.5,
  },
  // `\s*(?:[:=-]\s*)?` and not `\s*[:=-]?\s*`: two adjacent `\s*` split a run of spaces n ways (quadratic).
  { type: 'seed_phrase', class: 'secret', pattern: /\b(?:seed|recovery|mnemonic)\s+(?:phrase|words?)\b\s*(?:[:=-]\s*)?(?:[a-z]{3,8}\s+){11,23}[a-z]{3,8}\b/gi },
  // Anchored on the `@`; the local part is found by `prefix` (see emailLocalStart).
  { type: 'email', class: 'pii', pattern: /@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g, prefix: emailLocalStart },
  { type: 'us_ssn', class: 'pii', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { type: 'credit_card', class: 'pii', pattern: /\b(?:\d[ -]?){12,18}\d\b/g, validate: luhn },
  // `(?<![\w+])\+?\d{1,3}` with the look-behind after the first character, so the regex engine skips to the
  // next `+` or digit instead of evaluating the look-behind at every position (25 -> 2.5 ms per MiB of spaces).
  {
    type: 'phone',
    class: 'pii',
    pattern: /(?:\+(?<![\w+].)\d{1,3}|\d(?<![\w+].)\d{0,2})[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\w)/g,
  },
  { type: 'iban', class: 'pii', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/g },
];

/**
 * Findings one detector keeps in one string. At the next one the detector stops, and the rest of the string from
 * there counts as that detector's type: masked whole, reported as found. Caps the work and the objects a string
 * made of thousands of matches costs (an ordinary document has far fewer findings of one kind in one string);
 * what is beyond is over-masked, never let through.
 */
export const MAX_MATCHES_PER_DETECTOR = 1000;

/** No built-in detector matches fewer characters (`a@b.cd`): shorter strings skip the regexes. */
const MIN_MATCH_LENGTH = 6;

export interface Match {
  readonly type: string;
  readonly class: 'secret' | 'pii';
  readonly start: number;
  readonly end: number;
}

/**
 * All detector matches in one string, non-overlapping, sorted by start; an earlier detector wins an overlap
 * (secrets come first in DETECTORS, so they take precedence over PII). Linear in the text: each detector's
 * matches come in order, so one sweep against the sorted matches kept so far finds overlaps.
 */
export function detect(text: string, detectors: readonly Detector[] = DETECTORS): Match[] {
  const run = startDetect(text, detectors);
  if (run) for (const d of detectors) pass(new PassState(d), text, run, Infinity);
  return run?.kept ?? [];
}

/**
 * Regex matches one turn of `detectYielding` handles before it waits: a dense run of card-like digits yields a
 * candidate (regex match plus Luhn check) every 38 characters, 27,000 in a MiB, and took 20-35 ms in one pass.
 */
export const MATCHES_PER_TURN = 2048;

/**
 * The same matches as `detect`, with `pause()` awaited between detectors and every MATCHES_PER_TURN regex matches
 * within one: a large string is scanned over many event-loop turns instead of one, so other requests get the
 * loop in between (see scanYielding). A pass keeps its own position while it waits and puts it back on the shared
 * regex when it resumes (every pass starts from 0 and leaves 0), so other scans meanwhile cannot change the result.
 * A turn can still take one regex search that finds nothing over the whole string: linear, 20-30 ms per MiB
 * measured for the slowest pattern on its worst input (the phone pattern on `00000000-` repeated).
 */
export async function detectYielding(
  text: string,
  pause: () => Promise<void>,
  detectors: readonly Detector[] = DETECTORS,
  matchesPerTurn = MATCHES_PER_TURN,
): Promise<Match[]> {
  const run = startDetect(text, detectors);
  if (!run) return [];
  for (let i = 0; i < detectors.length; i++) {
    if (i > 0) await pause();
    const state = new PassState(detectors[i]!);
    while (!pass(state, text, run, matchesPerTurn)) await pause();
  }
  return run.kept;
}

/**
 * The built-in detectors' matches by text, kept for one request: the scan's results, reused where the same strings
 * are masked later (the audit event, the approver's summary) instead of running every detector over them again.
 * Matches depend on the text alone, so a string found again (at any pointer) has the same ones. Only long strings
 * are kept: a short one costs less to scan again than to keep. A 1 MiB argument with a credential in it was
 * scanned twice, the second time in the audit record's turn (20-27 ms of held event loop).
 */
export class DetectMemo {
  /** Strings shorter than this are scanned again rather than kept. */
  static readonly MIN_CHARS = 1024;
  readonly #byText = new Map<string, Match[]>();

  /** `detect(text)` with the built-in detectors, from the memo when this text was scanned before. */
  readonly detect = (text: string): Match[] => {
    if (text.length < DetectMemo.MIN_CHARS) return detect(text);
    let matches = this.#byText.get(text);
    if (matches === undefined) {
      matches = detect(text);
      this.#byText.set(text, matches);
    }
    return matches;
  };

  /** Keeps what the built-in detectors found in `text` (by another way than `detect`, such as detectYielding). */
  remember(text: string, matches: Match[]): void {
    if (text.length >= DetectMemo.MIN_CHARS) this.#byText.set(text, matches);
  }
}

/** `detect` with `detectors`, through `memo` when the detectors are the built-in ones (the memo keeps only theirs). */
export function finderFor(detectors: readonly Detector[], memo?: DetectMemo): (text: string) => Match[] {
  return memo && detectors === DETECTORS ? memo.detect : (text: string) => detect(text, detectors);
}

/** What one string's detector passes share: the matches kept so far and where a saturated detector's rest begins. */
interface DetectRun {
  kept: Match[];
  /** Everything from here on is covered, so a later detector stops when its matches reach it (they could only overlap). */
  coveredFrom: number;
}

function startDetect(text: string, detectors: readonly Detector[]): DetectRun | undefined {
  if (detectors === DETECTORS && text.length < MIN_MATCH_LENGTH) return undefined;
  return { kept: [], coveredFrom: text.length };
}

/** Where one detector's pass over a string is: enough to stop it after any match and go on later. */
class PassState {
  readonly added: Match[] = [];
  /** The regex's lastIndex: where its next search starts. */
  position = 0;
  /** First kept match that may still overlap (ends after the current match's start). */
  k = 0;
  /** The end of this detector's previous match (a look-back for a prefix stops there). */
  floor = 0;
  found = 0;
  constructor(readonly detector: Detector) {}
}

/**
 * Runs one detector's pass over `text` for at most `budget` regex matches. Its matches that overlap none kept so
 * far join `run.kept` when the pass ends; returns whether it ended.
 */
function pass(state: PassState, text: string, run: DetectRun, budget: number): boolean {
  const d = state.detector;
  const kept = run.kept;
  const added = state.added;
  const re = d.pattern;
  let k = state.k;
  let floor = state.floor;
  let found = state.found;
  let done = true;
  re.lastIndex = state.position;
  for (let m = re.exec(text); m !== null && m.index < run.coveredFrom; m = re.exec(text)) {
    if (--budget < 0) {
      // Paused: the next turn searches again from this match's start (the regex finds it again, unchanged).
      state.position = m.index;
      done = false;
      break;
    }
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const start = d.prefix ? d.prefix(text, m.index, floor) : m.index;
    if (start < 0) {
      re.lastIndex = m.index + 1;
      continue;
    }
    let end = m.index + m[0].length;
    if (d.suffix) {
      end = d.suffix(text, end);
      re.lastIndex = end;
    }
    floor = end;
    if (d.validate && !d.validate(text, start, end)) continue;
    // Skips the kept matches that end before this one starts; does this one overlap the next?
    while (k < kept.length && kept[k]!.end <= start) k++;
    if (k < kept.length && kept[k]!.start < end) continue;
    if (++found > MAX_MATCHES_PER_DETECTOR) {
      added.push(...rest(d, start, run.coveredFrom, kept, k));
      run.coveredFrom = start;
      break;
    }
    added.push({ type: d.type, class: d.class, start, end });
  }
  re.lastIndex = 0;
  state.k = k;
  state.floor = floor;
  state.found = found;
  if (done && added.length) run.kept = merge(kept, added);
  return done;
}

/** `[from, to)` minus the kept matches, as matches of `d` (the part of a string a saturated detector covers). */
function rest(d: Detector, from: number, to: number, kept: readonly Match[], k: number): Match[] {
  const out: Match[] = [];
  let at = from;
  for (let i = k; i < kept.length && at < to; i++) {
    const m = kept[i]!;
    if (m.end <= at) continue;
    if (m.start > at) out.push({ type: d.type, class: d.class, start: at, end: m.start });
    at = m.end;
  }
  if (at < to) out.push({ type: d.type, class: d.class, start: at, end: to });
  return out;
}

/** Two lists sorted by start, disjoint from each other, as one sorted list. */
function merge(a: readonly Match[], b: readonly Match[]): Match[] {
  const out: Match[] = new Array<Match>(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length && j < b.length) out[o++] = a[i]!.start <= b[j]!.start ? a[i++]! : b[j++]!;
  while (i < a.length) out[o++] = a[i++]!;
  while (j < b.length) out[o++] = b[j++]!;
  return out;
}
