import { call } from './api.js';
import { byId, h, pretty, replace, textBlock } from './dom.js';
import { session } from './state.js';
import type { ChainCheck } from '../wire.js';

interface DetailEvent {
  readonly event: Record<string, unknown> & { type?: string; outcome?: string; timestamp?: string; input?: unknown; result?: { obligations?: unknown } | null; response?: unknown; approval?: unknown; reasons?: unknown; masked?: unknown; policy?: { revision?: string } };
  readonly chain: ChainCheck;
}

const SIGNATURE_TEXT: Record<ChainCheck['signature'], string> = {
  ok: 'verifies: the checkpoint covering it is signed by the gateway\'s audit key, and every link up to it holds',
  bad: 'FAILS: a link or the checkpoint signature does not verify (the trail was altered)',
  pending: 'not yet covered: no checkpoint after it has been written yet',
  unchecked: 'unchecked: the console has no audit key for this chain (TOOLGATE_AUDIT_KEY_FILE of that gateway)',
  unavailable: 'not checkable here: events between it and its checkpoint are no longer in the console\'s memory (use toolgate audit verify)',
};

export async function showDetail(decisionId: string): Promise<void> {
  const view = byId('view-detail');
  const key = session.key;
  if (key === undefined) return void replace(view, h('p', { class: 'error' }, 'Sign in first.'));
  replace(view, h('p', { class: 'muted' }, 'Loading…'));
  const r = await call<{ decision_id: string; events: DetailEvent[]; trace_url: string | null }>(key, 'GET', `/console/api/decisions/${encodeURIComponent(decisionId)}`);
  if (r.status !== 200) return void replace(view, h('p', { class: 'error' }, `${r.body.reason ?? r.status}: ${r.body.message ?? ''}`));
  const trace = r.body.trace_url;
  replace(view,
    h('p', null, h('a', { href: '#decisions' }, '← Decisions')),
    h('h2', null, 'Decision ', h('code', null, r.body.decision_id)),
    trace !== null ? h('p', null, h('a', { href: trace, target: '_blank', rel: 'noopener noreferrer', id: 'trace-link' }, 'Open the trace in Jaeger')) : h('p', { class: 'muted' }, 'No trace link (no trace id recorded, or no Jaeger UI configured: TOOLGATE_CONSOLE_JAEGER_URL).'),
    ...r.body.events.map(renderEvent));
}

function renderEvent({ event, chain }: DetailEvent): HTMLElement {
  const ok = (b: boolean, yes: string, no: string) => h('span', { class: b ? 'ok' : 'error' }, b ? yes : no);
  return h('div', { class: 'card event' },
    h('h3', null, `${String(event.type)}: ${String(event.outcome)}`),
    h('dl', { class: 'kv' },
      h('dt', null, 'Time'), h('dd', null, String(event.timestamp)),
      h('dt', null, 'Policy revision'), h('dd', null, String(event.policy?.revision ?? '—')),
      h('dt', null, 'Reasons'), h('dd', null, pretty(event.reasons ?? [])),
      h('dt', null, 'Chain'), h('dd', null, `${chain.instance} / ${chain.epoch} / #${chain.seq}`),
      h('dt', null, 'Hash'), h('dd', null, h('code', null, chain.hash), ' ', ok(chain.hash_ok, '(matches the event)', '(DOES NOT match the event: altered)')),
      h('dt', null, 'Signature'), h('dd', { class: chain.signature === 'ok' ? 'ok' : chain.signature === 'bad' ? 'error' : 'muted' }, SIGNATURE_TEXT[chain.signature], chain.checkpoint_seq === null ? '' : ` (checkpoint #${chain.checkpoint_seq}, key ${chain.key_id})`)),
    h('h4', null, 'Input as the policy saw it (masked: ', pretty(event.masked ?? []), ')'),
    textBlock(pretty(event.input), { class: 'input' }),
    h('h4', null, 'Result and obligations'),
    textBlock(pretty(event.result ?? null)),
    event.response !== null && event.response !== undefined ? h('div', null, h('h4', null, 'Completion'), textBlock(pretty(event.response))) : null,
    event.approval !== null && event.approval !== undefined ? h('div', null, h('h4', null, 'Approval'), textBlock(pretty(event.approval))) : null);
}
