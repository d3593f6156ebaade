import { call } from './api.js';
import { append, button, byId, h, replace } from './dom.js';
import { forgetKey, generateKey, importKeyFile, registryEntry, saveKey, type StoredKey } from './keys.js';
import { session, type Whoami } from './state.js';

/** Asks the gateway who this key is (a signed call): registered or not, approver or not. */
export async function identify(key: StoredKey): Promise<void> {
  session.key = key;
  session.who = undefined;
  session.refusal = undefined;
  try {
    const r = await call<Whoami>(key, 'GET', '/console/api/whoami');
    if (r.status === 200) session.who = r.body;
    else session.refusal = `${r.body.reason ?? r.status}: ${r.body.message ?? ''}`;
  } catch (error) {
    session.refusal = `The gateway could not be reached: ${error instanceof Error ? error.message : String(error)}`;
  }
}

export function renderSignIn(onChange: () => void): void {
  const view = byId('view-signin');
  const status = h('div', { id: 'signin-status' });
  const file = h('input', { type: 'file', id: 'key-file', accept: '.json,.jwk,.pem,application/json' });
  const message = h('p', { id: 'signin-message', class: 'muted' });
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (chosen === undefined) return;
    void (async () => {
      try {
        const key = await importKeyFile(await chosen.text());
        await saveKey(key);
        await identify(key);
        replace(message, `Loaded ${chosen.name}; the private key is now held by the browser and cannot be read back.`);
      } catch (error) {
        replace(message, h('span', { class: 'error' }, error instanceof Error ? error.message : String(error)));
      }
      onChange();
    })();
  });
  const generate = button('Generate a key in this browser', () => void (async () => {
    const key = await generateKey();
    await saveKey(key);
    await identify(key);
    replace(message, 'Made a new key in this browser. It must be registered before it can sign in (below).');
    onChange();
  })(), { id: 'generate-key' });
  const forget = button('Forget this key', () => void (async () => {
    await forgetKey();
    session.key = undefined;
    session.who = undefined;
    session.refusal = undefined;
    replace(message, 'The key is deleted from this browser.');
    onChange();
  })(), { id: 'forget-key' });
  replace(
    view,
    h('h2', null, 'Sign in with a key'),
    h('div', { class: 'card' },
      h('p', null, 'The console signs every call with your key (RFC 9421), exactly as agents sign theirs. There is no password: the key is the identity, and the gateway\'s key registry says what it may do.'),
      h('p', null, h('label', null, 'Load the key file the CLI made (toolgate keygen writes a private JWK): ', file)),
      h('p', null, generate, forget),
      message),
    status,
  );
  renderStatus(status);
}

export function renderStatus(status = byId('signin-status')): void {
  const key = session.key;
  if (key === undefined) {
    replace(status, h('div', { class: 'card muted' }, 'No key yet: load a key file or generate one.'));
    return;
  }
  const who = session.who;
  const standing = who !== undefined
    ? h('p', { id: 'signin-who', class: 'ok' }, `The gateway knows this key as "${who.agent}"`, who.approver ? ' (an approver: you can decide pending approvals).' : who.viewer ? ' (an auditor: you can read decisions).' : ' (neither approver nor auditor: ask for labels.role = "approver" or "auditor").')
    : h('p', { id: 'signin-who', class: 'error' }, `Not signed in: ${session.refusal ?? 'checking…'}`);
  const card = h('div', { class: 'card' },
    h('h3', null, 'Your key'),
    h('dl', { class: 'kv' },
      h('dt', null, 'Thumbprint (RFC 7638)'), h('dd', { id: 'key-thumbprint' }, key.thumbprint),
      h('dt', null, 'keyid sent'), h('dd', null, key.keyId),
      h('dt', null, 'Algorithm'), h('dd', null, key.alg),
      h('dt', null, 'Held as'), h('dd', null, `a non-extractable CryptoKey in this browser's IndexedDB (${key.source === 'file' ? 'imported from a key file' : 'generated here'})`)),
    standing,
    h('h3', null, 'Register it'),
    h('p', null, 'Give this entry to whoever runs the gateway: they add it to a JWKS file listed in TOOLGATE_AGENT_KEYS (agentKeys in the config file) and restart the gateway. For a key file, the CLI prints the same: ', h('code', null, 'toolgate jwks approver.key.json --agent <name> --label role=approver'), '.'),
    h('pre', { id: 'registry-entry' }, registryEntry(key, who?.agent)));
  replace(status, card);
  append(status);
}
