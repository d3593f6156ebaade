import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import { generateAgentKey } from '../../src/agent/keys.js';
import { ensureDemoAgents, type DemoAgents } from '../../src/demo/agents.js';
import { jwkThumbprint, type Jwk } from '../../src/identity/jwk.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BROWSER_TEST_MS, BROWSER_WAIT_MS, ensureConsoleBuilt, launch, openConsole, SCREENSHOTS, signIn } from './browser.js';

/*
 * Sign-in in a real browser: a P-256 key file (the ECDSA path), an auditor's key (feed only), a key generated in the
 * browser (Ed25519, and P-256 where the browser has no Ed25519), forgetting a key, and a public JWKS loaded by mistake.
 */

let gw: TestGateway;
let browser: Browser;
const files: Record<'p256' | 'auditor' | 'publicOnly', string> = { p256: '', auditor: '', publicOnly: '' };

/** The demo's agents plus a P-256 approver and an Ed25519 auditor, registered as an operator would. */
function agentsWithExtraKeys(dir: string): DemoAgents {
  const agents = ensureDemoAgents(join(dir, 'agents'));
  const registry = JSON.parse(readFileSync(agents.jwksFile, 'utf8')) as { keys: Jwk[] };
  const extra = [
    { name: 'p256', agent: 'p256-lead', key: generateAgentKey('ecdsa-p256-sha256'), labels: { kind: 'human', role: 'approver' } },
    { name: 'auditor', agent: 'compliance', key: generateAgentKey(), labels: { kind: 'human', role: 'auditor' } },
  ] as const;
  for (const e of extra) {
    files[e.name] = join(dir, `${e.agent}.private.jwk.json`);
    writeFileSync(files[e.name], JSON.stringify(e.key.privateJwk));
    registry.keys.push({ ...e.key.publicJwk, agent: e.agent, labels: e.labels } as Jwk);
  }
  files.publicOnly = join(dir, 'public.jwks.json');
  writeFileSync(files.publicOnly, JSON.stringify({ keys: [extra[0].key.publicJwk] }));
  writeFileSync(agents.jwksFile, JSON.stringify(registry));
  return agents;
}

vi.setConfig({ testTimeout: BROWSER_TEST_MS });

beforeAll(async () => {
  await ensureConsoleBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'tg-console-signin-'));
  gw = await startTestGateway({ TOOLGATE_CONSOLE: 'true' }, { agents: agentsWithExtraKeys(dir) });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe('sign-in', () => {
  it('signs calls with an ECDSA P-256 key file', async () => {
    const { page, errors } = await openConsole(browser, gw.url);
    await signIn(page, files.p256, 'p256-lead');
    expect(await page.textContent('#signin-status')).toContain('ecdsa-p256-sha256');
    await page.goto(`${gw.url}/console/#pending`);
    await page.waitForSelector('#link-state[data-state="open"]');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('signs in from a computer whose clock is ten minutes slow (the gateway\'s Date header corrects it)', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(BROWSER_WAIT_MS);
    await context.addInitScript('{ const now = Date.now; Date.now = () => now() - 600000; }');
    const page = await context.newPage();
    await page.goto(`${gw.url}/console/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.setInputFiles('#key-file', files.auditor);
    // Polled from here: Playwright's in-page waiting runs on the page's (here shifted) clock.
    await expect.poll(() => page.locator('#signin-who').textContent().catch(() => null), { timeout: 60_000 }).toContain('"compliance"');
    await page.goto(`${gw.url}/console/#decisions`);
    await expect.poll(() => page.locator('#feed-note').textContent(), { timeout: 60_000 }).toContain('Newest first');
    await context.close();
  });

  it('lets an auditor read decisions but not the pending list', async () => {
    const { page } = await openConsole(browser, gw.url);
    await signIn(page, files.auditor, 'compliance');
    expect(await page.textContent('#signin-who')).toContain('an auditor');
    await page.goto(`${gw.url}/console/#pending`);
    expect(await page.textContent('#pending-empty')).toContain('approver');
    await page.goto(`${gw.url}/console/#decisions`);
    await page.waitForSelector('#link-state[data-state="open"]');
    await page.locator('#feed-note', { hasText: 'Newest first' }).waitFor();
    await page.context().close();
  });

  it('generates a non-extractable key in the browser, shows its thumbprint and registry entry, and the gateway does not know it yet', async () => {
    const { page } = await openConsole(browser, gw.url);
    await page.click('#generate-key');
    await page.locator('#signin-who', { hasText: 'key_unknown' }).waitFor();
    const entry = JSON.parse((await page.textContent('#registry-entry'))!) as { keys: Jwk[] };
    const shown = await page.textContent('#key-thumbprint');
    expect(shown).toBe(jwkThumbprint(entry.keys[0]!));
    expect(entry.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: shown, alg: 'EdDSA', labels: { role: 'approver' } });
    expect(entry.keys[0]!.d).toBeUndefined();
    const extractable = await page.evaluate(`new Promise((resolve) => {
      const open = indexedDB.open('toolgate-console');
      open.onsuccess = () => {
        const get = open.result.transaction('keys').objectStore('keys').get('current');
        get.onsuccess = () => resolve(get.result.privateKey.extractable);
      };
    })`);
    expect(extractable).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'signin-generated.png'), fullPage: true });

    // Kept across reloads, and gone after "Forget this key".
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#key-thumbprint')).toBe(shown);
    await page.click('#forget-key');
    await page.locator('#signin-status', { hasText: 'No key yet' }).waitFor();
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#signin-status')).toContain('No key yet');
    await page.context().close();
  });

  it('falls back to ECDSA P-256 where the browser has no Ed25519', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(BROWSER_WAIT_MS);
    // Playwright's init script runs before the page's own (CSP does not apply to it): a browser without Ed25519.
    await context.addInitScript(`{
      const generate = crypto.subtle.generateKey.bind(crypto.subtle);
      crypto.subtle.generateKey = (algorithm, ...rest) =>
        (algorithm && algorithm.name === 'Ed25519') ? Promise.reject(new DOMException('no Ed25519', 'NotSupportedError')) : generate(algorithm, ...rest);
    }`);
    const page = await context.newPage();
    await page.goto(`${gw.url}/console/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#generate-key');
    await page.locator('#signin-who', { hasText: 'key_unknown' }).waitFor();
    const entry = JSON.parse((await page.textContent('#registry-entry'))!) as { keys: Jwk[] };
    expect(entry.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(await page.textContent('#key-thumbprint')).toBe(jwkThumbprint(entry.keys[0]!));
    await context.close();
  });

  it('refuses a public JWKS loaded by mistake, saying what to load', async () => {
    const { page } = await openConsole(browser, gw.url);
    await page.setInputFiles('#key-file', files.publicOnly);
    await page.locator('#signin-message', { hasText: 'no private key' }).waitFor();
    expect(await page.textContent('#signin-status')).toContain('No key yet');
    await page.context().close();
  });
});
