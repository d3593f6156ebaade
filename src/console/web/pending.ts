import { call } from './api.js';
import { button, byId, h, LONG_TEXT, pretty, replace, textBlock } from './dom.js';
import { session } from './state.js';

/** A pending approval as the console's stream sends it (src/console/pending.ts). */
export interface PendingItem {
  readonly id: string;
  readonly agent: string;
  readonly tool: string;
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
  readonly decision_id: string;
  readonly policy_revision?: string | null;
  readonly created_at: string;
  readonly expires_at: string;
  readonly summary_preview?: string;
  readonly summary_chars?: number;
}

const cards = new Map<string, HTMLElement>();
let skew = 0;

/** Shows the live list: adds new approvals, drops the ones that are no longer pending (decided anywhere, or expired). */
export function showPending(items: readonly PendingItem[], serverNow: string): void {
  skew = Date.parse(serverNow) - Date.now();
  const list = byId('pending-list');
  const ids = new Set(items.map((i) => i.id));
  for (const [id, card] of cards) {
    if (!ids.has(id)) {
      card.remove();
      cards.delete(id);
    }
  }
  for (const item of items) {
    const shown = cards.get(item.id);
    if (shown !== undefined) {
      // The revision can arrive after the approval (it is read from the audit trail).
      const revision = shown.querySelector('.policy-revision');
      if (revision !== null && item.policy_revision) replace(revision, item.policy_revision);
      continue;
    }
    const card = renderCard(item);
    cards.set(item.id, card);
    list.appendChild(card);
  }
  updateCount();
}

function updateCount(): void {
  replace(byId('pending-count'), cards.size > 0 ? String(cards.size) : '');
  byId('pending-empty').hidden = cards.size > 0;
}

export function renderPendingView(): void {
  replace(byId('view-pending'),
    h('h2', null, 'Pending approvals'),
    h('p', { id: 'pending-empty', class: 'muted' }, session.who?.approver ? 'Nothing waits for a decision.' : 'Sign in with an approver\'s key to see pending approvals.'),
    h('div', { id: 'pending-list' }));
  cards.clear();
  updateCount();
}

function renderCard(item: PendingItem): HTMLElement {
  const countdown = h('span', { class: 'countdown', 'data-expires': item.expires_at });
  const status = h('p', { class: 'status' });
  const comment = h('textarea', { placeholder: 'Comment (optional, kept with the decision in the audit trail)', maxlength: '2000' });
  const args = h('div', { class: 'args' }, renderArgs(item.summary_preview, item.summary_chars));
  const card = h('article', { class: 'card approval', 'data-id': item.id },
    h('h3', null, item.agent, ' wants to call ', h('code', null, item.tool)),
    h('dl', { class: 'kv' },
      h('dt', null, 'Why a human'), h('dd', null, h('ul', null, ...item.reasons.map((r) => h('li', null, h('code', null, r.code), ' ', r.message)))),
      h('dt', null, 'Policy revision'), h('dd', { class: 'policy-revision' }, item.policy_revision ?? 'unknown'),
      h('dt', null, 'Requested'), h('dd', null, new Date(item.created_at).toLocaleString()),
      h('dt', null, 'Expires'), h('dd', null, countdown),
      h('dt', null, 'Approval id'), h('dd', null, h('code', null, item.id))),
    h('h4', null, 'Arguments (secrets masked)'),
    args,
    comment,
    button('Approve', () => void decide(item, 'approve', comment.value, status, card), { class: 'approve' }),
    button('Deny', () => void decide(item, 'deny', comment.value, status, card), { class: 'deny' }),
    status);
  if (item.summary_chars !== undefined && item.summary_preview !== undefined && item.summary_chars > item.summary_preview.length) {
    args.appendChild(button(`Show all ${item.summary_chars.toLocaleString()} characters`, () => void showAll(item, args, status)));
  }
  tick(countdown);
  return card;
}

/** Top-level arguments as a list of name and value; a value that is not text is shown as JSON. */
function renderArgs(summary: string | undefined, chars: number | undefined): HTMLElement {
  if (summary === undefined) return h('p', { class: 'muted' }, 'No arguments recorded.');
  if (chars !== undefined && chars > summary.length) return textBlock(`${summary}…`);
  let args: unknown;
  try {
    args = JSON.parse(summary);
  } catch {
    return textBlock(summary);
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return textBlock(pretty(args));
  return h('dl', { class: 'kv' }, ...Object.entries(args).flatMap(([name, value]) => {
    const text = typeof value === 'string' ? value : pretty(value);
    return [h('dt', null, name), h('dd', null, text.length > LONG_TEXT ? textBlock(text) : text)];
  }));
}

async function showAll(item: PendingItem, args: HTMLElement, status: HTMLElement): Promise<void> {
  const key = session.key;
  if (key === undefined) return;
  const r = await call<{ approval: { summary?: string } }>(key, 'GET', `/approvals/${encodeURIComponent(item.id)}`);
  if (r.status !== 200) return void replace(status, h('span', { class: 'error' }, `${r.body.reason ?? r.status}: ${r.body.message ?? ''}`));
  replace(args, renderArgs(r.body.approval.summary, undefined));
}

async function decide(item: PendingItem, verdict: 'approve' | 'deny', comment: string, status: HTMLElement, card: HTMLElement): Promise<void> {
  const key = session.key;
  if (key === undefined) return void replace(status, h('span', { class: 'error' }, 'Sign in first.'));
  replace(status, 'Signing and sending…');
  const r = await call(key, 'POST', `/approvals/${encodeURIComponent(item.id)}/${verdict}`, comment.trim() === '' ? undefined : { comment: comment.trim() });
  if (r.status === 200) {
    card.remove();
    cards.delete(item.id);
    updateCount();
    return;
  }
  replace(status, h('span', { class: 'error' }, `${r.body.reason ?? r.status}: ${r.body.message ?? ''}`));
}

function tick(el: HTMLElement): void {
  const left = Math.round((Date.parse(el.getAttribute('data-expires') ?? '') - (Date.now() + skew)) / 1000);
  replace(el, left > 0 ? `in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : 'expired');
}

/** Moves every countdown on once a second. */
export function startCountdowns(): void {
  setInterval(() => {
    for (const el of document.querySelectorAll<HTMLElement>('.countdown')) tick(el);
  }, 1000);
}
