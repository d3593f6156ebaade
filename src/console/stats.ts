import type { DecisionSummary } from './types.js';

export interface OutcomeBuckets {
  readonly bucket_s: number;
  readonly outcomes: readonly string[];
  /** Oldest first: start of the bucket (ms) and the count per outcome. */
  readonly buckets: readonly { readonly t: number; readonly counts: Readonly<Record<string, number>> }[];
}

/** Decisions (not completions or approvals) per outcome per bucket, for the chart. */
export function outcomeBuckets(summaries: readonly DecisionSummary[], bucketS: number, untilMs: number, count: number): OutcomeBuckets {
  const size = bucketS * 1000;
  const last = Math.floor(untilMs / size) * size;
  const first = last - (count - 1) * size;
  const buckets = Array.from({ length: count }, (_, i) => ({ t: first + i * size, counts: {} as Record<string, number> }));
  const outcomes = new Set<string>();
  for (const s of summaries) {
    if (s.type !== 'decision') continue;
    const t = Date.parse(s.timestamp);
    const i = Math.floor((t - first) / size);
    if (!(i >= 0 && i < count)) continue;
    const counts = buckets[i]!.counts;
    counts[s.outcome] = (counts[s.outcome] ?? 0) + 1;
    outcomes.add(s.outcome);
  }
  return { bucket_s: bucketS, outcomes: [...outcomes].sort(), buckets };
}
