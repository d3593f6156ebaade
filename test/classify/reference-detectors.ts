/**
 * The detectors as they were before they were made linear (issue 8), verbatim: the reference the equivalence
 * test compares the linear ones with, on inputs short enough for the old quadratic patterns. Test-only.
 */
interface Detector {
  readonly type: string;
  readonly class: 'secret' | 'pii';
  readonly pattern: RegExp;
  readonly validate?: (match: string) => boolean;
}

function luhn(digits: string): boolean {
  const d = digits.replace(/[^0-9]/g, '');
  if (d.length < 13 || d.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return sum % 10 === 0;
}

/** Shannon entropy in bits per character: a generic `key = value` only counts when the value looks random. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export const REFERENCE_DETECTORS: readonly Detector[] = [
  { type: 'private_key', class: 'secret', pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g },
  { type: 'aws_access_key', class: 'secret', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g },
  { type: 'github_token', class: 'secret', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { type: 'slack_token', class: 'secret', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g },
  { type: 'stripe_key', class: 'secret', pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g },
  { type: 'openai_key', class: 'secret', pattern: /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b/g },
  { type: 'google_api_key', class: 'secret', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { type: 'jwt', class: 'secret', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g },
  {
    type: 'api_key',
    class: 'secret',
    pattern: /\b(?:api[_-]?key|secret|token|password|passwd)\s*[:=]\s*["']?([A-Za-z0-9_\-+/=]{16,})/gi,
    validate: (m) => entropy(m.replace(/^[^:=]*[:=]\s*["']?/, '')) >= 3.5,
  },
  { type: 'seed_phrase', class: 'secret', pattern: /\b(?:seed|recovery|mnemonic)\s+(?:phrase|words?)\b\s*[:=-]?\s*(?:[a-z]{3,8}\s+){11,23}[a-z]{3,8}\b/gi },
  { type: 'email', class: 'pii', pattern: /\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b/g },
  { type: 'us_ssn', class: 'pii', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { type: 'credit_card', class: 'pii', pattern: /\b(?:\d[ -]?){12,18}\d\b/g, validate: luhn },
  { type: 'phone', class: 'pii', pattern: /(?<![\w+])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\w)/g },
  { type: 'iban', class: 'pii', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/g },
];

interface Match {
  readonly type: string;
  readonly class: 'secret' | 'pii';
  readonly start: number;
  readonly end: number;
}

/** All detector matches in one string, non-overlapping, secrets taking precedence over PII. */
export function referenceDetect(text: string, detectors: readonly Detector[] = REFERENCE_DETECTORS): Match[] {
  const found: Match[] = [];
  for (const d of detectors) {
    d.pattern.lastIndex = 0;
    for (const m of text.matchAll(d.pattern)) {
      if (d.validate && !d.validate(m[0])) continue;
      const start = m.index;
      const end = start + m[0].length;
      if (found.some((f) => start < f.end && f.start < end)) continue;
      found.push({ type: d.type, class: d.class, start, end });
    }
  }
  return found.sort((a, b) => a.start - b.start);
}
