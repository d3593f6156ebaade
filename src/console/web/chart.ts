import { byId, h, replace } from './dom.js';

export interface OutcomeBuckets {
  readonly bucket_s: number;
  readonly outcomes: readonly string[];
  readonly buckets: readonly { readonly t: number; readonly counts: Readonly<Record<string, number>> }[];
}

const KNOWN = ['allow', 'deny', 'approval_required'];

function colorOf(outcome: string): string {
  const name = KNOWN.includes(outcome) ? (outcome === 'approval_required' ? 'approval' : outcome) : 'other';
  return getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim() || '#888';
}

/** Stacked bars of decisions per outcome per bucket, drawn on a canvas (no chart library). */
export function drawChart(data: OutcomeBuckets): void {
  const canvas = byId<HTMLCanvasElement>('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 720;
  const height = canvas.clientHeight || 180;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  const pad = { left: 32, right: 8, top: 8, bottom: 20 };
  const totals = data.buckets.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0));
  const max = Math.max(1, ...totals);
  const slot = (width - pad.left - pad.right) / Math.max(1, data.buckets.length);
  const scale = (height - pad.top - pad.bottom) / max;
  ctx.fillStyle = '#5c6773';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText(String(max), 4, pad.top + 10);
  ctx.fillText('0', 4, height - pad.bottom);
  data.buckets.forEach((bucket, i) => {
    let y = height - pad.bottom;
    for (const outcome of data.outcomes) {
      const n = bucket.counts[outcome] ?? 0;
      if (n === 0) continue;
      ctx.fillStyle = colorOf(outcome);
      ctx.fillRect(pad.left + i * slot + 1, y - n * scale, Math.max(1, slot - 2), n * scale);
      y -= n * scale;
    }
  });
  ctx.fillStyle = '#5c6773';
  const first = data.buckets[0];
  const last = data.buckets[data.buckets.length - 1];
  if (first !== undefined && last !== undefined) {
    ctx.fillText(new Date(first.t).toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit' }), pad.left, height - 5);
    const end = new Date(last.t).toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit' });
    ctx.fillText(end, width - pad.right - ctx.measureText(end).width, height - 5);
  }
  replace(byId('chart-legend'), ...data.outcomes.map((o) => h('span', null, h('i', { class: `c-${KNOWN.includes(o) ? o : 'other'}` }), `${o} ${data.buckets.reduce((a, b) => a + (b.counts[o] ?? 0), 0)}`)),
    h('span', { class: 'muted' }, `per ${data.bucket_s} s`));
}
