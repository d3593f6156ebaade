import { openStream } from './api.js';
import { addDecision, filterQuery, loadDecisions, renderDecisionsView, type DecisionSummary } from './decisions.js';
import { showDetail } from './detail.js';
import { byId, replace } from './dom.js';
import { loadKey } from './keys.js';
import { renderPendingView, showPending, startCountdowns, type PendingItem } from './pending.js';
import { identify, renderSignIn, renderStatus } from './signin.js';
import { session } from './state.js';

const VIEWS = ['signin', 'pending', 'decisions', 'detail'] as const;
let stream: AbortController | undefined;

/** Opens (or reopens, with the current filters) the one live stream: pending approvals and the decision feed. */
function connect(): void {
  stream?.abort();
  stream = undefined;
  const key = session.key;
  if (key === undefined || session.who === undefined || !session.who.viewer) return;
  stream = new AbortController();
  const query = filterQuery();
  let opened = false;
  openStream(key, `/console/api/stream${query ? `?${query}` : ''}`, {
    onEvent(event, data) {
      if (event === 'pending') {
        const d = data as { approvals: PendingItem[]; now: string };
        showPending(d.approvals, d.now);
      } else if (event === 'decision') {
        addDecision(data as DecisionSummary);
      }
    },
    onState(state, detail) {
      // A reconnect (the server ends streams every few minutes, or the link dropped): fetch what was missed.
      if (state === 'open' && opened) void loadDecisions();
      if (state === 'open') opened = true;
      const el = byId('link-state');
      el.setAttribute('data-state', state);
      replace(el, state === 'open' ? 'live' : `${state}${detail ? `: ${detail}` : ''}`);
    },
  }, stream.signal);
}

function refreshAll(): void {
  const who = session.who;
  replace(byId('who'), who ? `${who.agent} (${who.approver ? 'approver' : who.viewer ? 'auditor' : 'no console role'})` : session.key ? 'key not accepted' : 'not signed in');
  renderStatus();
  renderPendingView();
  void loadDecisions();
  connect();
}

function route(): void {
  const hash = location.hash.replace(/^#/, '');
  const [name, arg] = hash.split('/', 2) as [string, string | undefined];
  const view = (VIEWS as readonly string[]).includes(name) ? name : session.who ? 'pending' : 'signin';
  for (const v of VIEWS) byId(`view-${v}`).hidden = v !== view;
  for (const v of ['signin', 'pending', 'decisions']) byId(`nav-${v}`).classList.toggle('active', v === view || (view === 'detail' && v === 'decisions'));
  if (view === 'detail' && arg !== undefined) void showDetail(decodeURIComponent(arg));
}

async function main(): Promise<void> {
  renderSignIn(() => {
    refreshAll();
    route();
  });
  renderPendingView();
  renderDecisionsView(() => {
    void loadDecisions();
    connect();
  });
  startCountdowns();
  window.addEventListener('hashchange', route);
  const key = await loadKey().catch(() => undefined);
  if (key !== undefined) await identify(key);
  refreshAll();
  route();
  document.body.setAttribute('data-ready', 'true');
}

void main();
