import { call } from './api.js';
import { drawChart, type OutcomeBuckets } from './chart.js';
import { button, byId, h, replace, shortTime } from './dom.js';
import { session } from './state.js';
import type { DecisionSummary } from '../wire.js';

export type { DecisionSummary };

const MAX_ROWS = 500;
const FIELDS = ['agent', 'tool', 'outcome', 'reason', 'type', 'since', 'until'] as const;

/** The filters as a query string (since/until from the datetime inputs, in the browser's time zone). */
export function filterQuery(): string {
  const q = new URLSearchParams();
  for (const f of FIELDS) {
    const el = document.getElementById(`f-${f}`) as HTMLInputElement | HTMLSelectElement | null;
    const value = el?.value.trim() ?? '';
    if (value === '') continue;
    q.set(f, f === 'since' || f === 'until' ? new Date(value).toISOString() : value);
  }
  return q.toString();
}

export function renderDecisionsView(onFilter: () => void): void {
  const text = (f: string, label: string) => h('label', null, label, h('input', { id: `f-${f}`, type: 'text', autocomplete: 'off' }));
  const select = (f: string, label: string, options: readonly string[]) => h('label', null, label, h('select', { id: `f-${f}` }, h('option', { value: '' }, 'any'), ...options.map((o) => h('option', { value: o }, o))));
  const time = (f: string, label: string) => h('label', null, label, h('input', { id: `f-${f}`, type: 'datetime-local' }));
  const form = h('form', { class: 'filters', id: 'filters' },
    text('agent', 'Agent'), text('tool', 'Tool'),
    select('outcome', 'Outcome', ['allow', 'deny', 'approval_required', 'unauthenticated', 'invalid', 'error']),
    text('reason', 'Reason code'),
    select('type', 'Event', ['decision', 'completion', 'approval']),
    time('since', 'Since'), time('until', 'Until'),
    h('button', { type: 'submit' }, 'Apply'),
    button('Clear', () => {
      form.reset();
      onFilter();
    }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onFilter();
  });
  replace(byId('view-decisions'),
    h('h2', null, 'Decisions'),
    h('div', { class: 'card' }, h('h3', null, 'Decisions per outcome, last 30 minutes'), h('canvas', { id: 'chart' }), h('div', { id: 'chart-legend', class: 'legend' })),
    form,
    h('p', { id: 'feed-note', class: 'muted' }),
    h('table', { id: 'feed' },
      h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Event'), h('th', null, 'Agent'), h('th', null, 'Tool'), h('th', null, 'Outcome'), h('th', null, 'Reasons'))),
      h('tbody', { id: 'feed-rows' })));
}

function row(s: DecisionSummary): HTMLTableRowElement {
  const tr = h('tr', { 'data-decision': s.decision_id, title: s.timestamp },
    h('td', null, shortTime(s.timestamp)), h('td', null, s.type), h('td', null, s.agent ?? '—'), h('td', null, s.tool ?? '—'),
    h('td', { class: `outcome-${s.outcome.replace(/[^a-z_]/g, '')}` }, s.outcome), h('td', null, s.reasons.join(', ')));
  tr.addEventListener('click', () => {
    location.hash = `#detail/${encodeURIComponent(s.decision_id)}`;
  });
  return tr;
}

/** Loads the newest matching events and the chart (the stream adds what comes after). */
export async function loadDecisions(): Promise<void> {
  const key = session.key;
  if (key === undefined) return;
  const query = filterQuery();
  const r = await call<{ decisions: DecisionSummary[]; kept: number }>(key, 'GET', `/console/api/decisions?limit=200${query ? `&${query}` : ''}`);
  if (r.status !== 200) return void replace(byId('feed-note'), h('span', { class: 'error' }, `${r.body.reason ?? r.status}: ${r.body.message ?? ''}`));
  replace(byId('feed-rows'), ...r.body.decisions.map(row));
  replace(byId('feed-note'), `Newest first: ${r.body.decisions.length} matching of the ${r.body.kept} events the console holds; new ones appear as they are written. Click one for its detail.`);
  await loadChart();
}

export function addDecision(s: DecisionSummary): void {
  const rows = byId('feed-rows');
  rows.insertBefore(row(s), rows.firstChild);
  while (rows.childElementCount > MAX_ROWS) rows.lastElementChild?.remove();
  scheduleChart();
}

let chartTimer: number | undefined;
function scheduleChart(): void {
  chartTimer ??= window.setTimeout(() => {
    chartTimer = undefined;
    void loadChart();
  }, 1000);
}

async function loadChart(): Promise<void> {
  const key = session.key;
  if (key === undefined) return;
  const r = await call<OutcomeBuckets>(key, 'GET', '/console/api/stats?bucket_s=60&buckets=30');
  if (r.status === 200) drawChart(r.body);
}
