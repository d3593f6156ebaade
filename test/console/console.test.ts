import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { agent, expectOutcome, person } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { BROWSER_TEST_MS, ensureConsoleBuilt, launch, openConsole, SCREENSHOTS, signIn } from './browser.js';

/*
 * The console in a real browser (Debian's Chromium driven by playwright-core) against a gateway on a free port with
 * the file audit sink: an approver signs in with the key file the CLI makes, approves in the page, the agent's retry
 * runs and the decision shows in the feed; hostile arguments stay text.
 */

const ACCOUNTANT = 'accountant@ledger-partners.example';
let gw: TestGateway;
let browser: Browser;
let keyFile: string;
let receipts: ReturnType<typeof agent>;

vi.setConfig({ testTimeout: BROWSER_TEST_MS });

beforeAll(async () => {
  await ensureConsoleBuilt();
  gw = await startTestGateway({ TOOLGATE_CONSOLE: 'true', TOOLGATE_CONSOLE_JAEGER_URL: 'http://127.0.0.1:16686' });
  keyFile = join(gw.dir, 'agents', 'finance-lead.private.jwk.json');
  receipts = agent(gw.url, gw.agents.keys['receipts-bot']);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const card = (page: Page, id: string) => page.locator(`article.approval[data-id="${id}"]`);

describe('console page', () => {
  it('is served with a strict CSP, no inline script, nothing from another origin', async () => {
    const res = await fetch(`${gw.url}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="assets\/app\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=|(src|href)="(https?:)?\/\//i);
    const js = await (await fetch(`${gw.url}/console/assets/app.js`)).text();
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(js).not.toMatch(/\.innerHTML\s*=|insertAdjacentHTML|document\.write/);
  });

  it('loads in under 100 KB compressed', async () => {
    let total = 0;
    for (const path of ['/console/', '/console/assets/app.js', '/console/assets/app.css']) {
      const res = await fetch(`${gw.url}${path}`, { headers: { 'accept-encoding': 'br, gzip' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBe('br');
      total += Number(res.headers.get('content-length'));
    }
    console.log(`console first load: ${total} bytes compressed (brotli)`);
    expect(total).toBeLessThan(100 * 1024);
  });

  it('refuses unsigned console API calls, and agents without a console role', async () => {
    for (const path of ['/console/api/decisions', '/console/api/stream', '/console/api/whoami', '/console/api/stats']) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'none'");
      expect(await res.json(), path).toMatchObject({ error: 'unauthenticated', reason: 'signature_missing' });
    }
    const asAgent = person(gw.url, gw.agents.keys['receipts-bot']);
    expect((await asAgent('GET', '/console/api/decisions')).body).toMatchObject({ reason: 'not_a_console_viewer' });
    expect((await asAgent('GET', '/console/api/whoami')).body).toMatchObject({ agent: 'receipts-bot', approver: false, viewer: false });
    const res = await fetch(`${gw.url}/console/api/decisions`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});

describe('approving in the browser', () => {
  it('an agent gets 202, the approver signs in with a key file and approves in the page, the retry runs and shows in the feed', async () => {
    const args = { to: [ACCOUNTANT], subject: 'Invoice and tax summary', body: 'Please file by Friday.' };
    const asked = await receipts('email.send', args);
    expectOutcome(asked, 202, ['subject_sensitive']);
    const id = asked.approvalId!;

    const first = await openConsole(browser, gw.url);
    await first.page.screenshot({ path: join(SCREENSHOTS, 'signin-empty.png') });
    await signIn(first.page, keyFile, 'finance-lead');
    expect(await first.page.textContent('#key-thumbprint')).toBe(gw.agents.keys['finance-lead'].kid);
    await first.page.screenshot({ path: join(SCREENSHOTS, 'signin.png') });
    // The private key is in IndexedDB as a CryptoKey the page itself cannot export.
    const extractable = await first.page.evaluate(`new Promise((resolve) => {
      const open = indexedDB.open('toolgate-console');
      open.onsuccess = () => {
        const get = open.result.transaction('keys').objectStore('keys').get('current');
        get.onsuccess = () => resolve(get.result.privateKey.extractable);
      };
      open.onerror = () => resolve('no database');
    })`);
    expect(extractable).toBe(false);

    const second = await openConsole(browser, gw.url);
    await signIn(second.page, keyFile, 'finance-lead');
    for (const { page } of [first, second]) {
      await page.goto(`${gw.url}/console/#pending`);
      await card(page, id).waitFor();
    }
    const shown = await card(first.page, id).textContent();
    expect(shown).toContain('Invoice and tax summary');
    expect(shown).toContain(gw.gate.policyRevision);
    await first.page.screenshot({ path: join(SCREENSHOTS, 'pending.png'), fullPage: true });
    // The small one README shows (docs/console.png is a copy of it).
    await first.page.screenshot({ path: join(SCREENSHOTS, 'readme.png'), clip: { x: 0, y: 0, width: 960, height: 470 } });

    await card(first.page, id).locator('textarea').fill('checked with the accountant');
    await card(first.page, id).locator('button.approve').click();
    await card(first.page, id).waitFor({ state: 'detached' });
    // The other open console drops it too, without a reload.
    await card(second.page, id).waitFor({ state: 'detached' });

    const done = await receipts('email.send', args, 'http', { 'toolgate-approval': id });
    expectOutcome(done, 200);
    const approval = (await person(gw.url, gw.agents.keys['finance-lead'])('GET', `/approvals/${id}`)).body.approval as Record<string, unknown>;
    expect(approval).toMatchObject({ status: 'used', decided_by: 'finance-lead', comment: 'checked with the accountant' });

    await first.page.goto(`${gw.url}/console/#decisions`);
    const row = first.page.locator(`#feed-rows tr[data-decision="${done.decisionId}"]`).first();
    await row.waitFor();
    expect(await row.textContent()).toContain('allow');
    await first.page.locator('#chart-legend span').first().waitFor();
    await first.page.screenshot({ path: join(SCREENSHOTS, 'decisions.png'), fullPage: true });

    await row.click();
    await first.page.locator('#view-detail .event').first().waitFor();
    const detail = await first.page.textContent('#view-detail');
    expect(detail).toContain('(matches the event)');
    expect(detail).toMatch(/verifies: the checkpoint covering it is signed|not yet covered/);
    expect(detail).toContain(ACCOUNTANT);
    await first.page.screenshot({ path: join(SCREENSHOTS, 'detail.png'), fullPage: true });
    expect([...first.errors, ...second.errors]).toEqual([]);
    await first.page.context().close();
    await second.page.context().close();
  });

  it('shows the decision feed live and filters it', async () => {
    const { page } = await openConsole(browser, gw.url);
    await signIn(page, keyFile, 'finance-lead');
    await page.goto(`${gw.url}/console/#decisions`);
    await page.fill('#f-outcome', '').catch(() => undefined);
    await page.selectOption('#f-outcome', 'deny');
    await page.click('#filters button[type="submit"]');
    await page.waitForSelector('#link-state[data-state="open"]');
    const denied = await receipts('email.send', { to: ['someone@elsewhere.example'], subject: 'x', body: 'y' });
    expectOutcome(denied, 403);
    const allowed = await receipts('email.send', { to: [ACCOUNTANT], subject: 'Receipts', body: 'monthly' });
    expectOutcome(allowed, 200);
    await page.locator(`#feed-rows tr[data-decision="${denied.decisionId}"]`).first().waitFor();
    expect(await page.locator(`#feed-rows tr[data-decision="${allowed.decisionId}"]`).count()).toBe(0);
    await page.context().close();
  });
});

describe('hostile arguments', () => {
  it('renders <script>, <img onerror> and a 1 MB string as text: nothing runs, the page stays usable', async () => {
    const script = '<script>window.__pwned = "script"</script>';
    const img = '<img src=x onerror="window.__pwned = \'img\'; alert(1)">';
    const big = `${img}${'A'.repeat(1_000_000)}`;
    const asked = await receipts('email.send', { to: [ACCOUNTANT], subject: `Invoice ${script}`, body: big });
    expectOutcome(asked, 202);
    const id = asked.approvalId!;

    const { page, dialogs, errors } = await openConsole(browser, gw.url);
    await signIn(page, keyFile, 'finance-lead');
    await page.goto(`${gw.url}/console/#pending`);
    await card(page, id).waitFor();
    const shown = await card(page, id).textContent();
    // The preview is the masked arguments' JSON (cut); the markup in it is shown as characters.
    expect(shown).toContain('<script>window.__pwned');
    expect(shown).toContain('<img src=x onerror=');
    await card(page, id).getByRole('button', { name: /Show all/ }).click();
    // A function, not a string: the page's CSP forbids eval, which a string predicate would need.
    type Doc = { querySelector(selector: string): { textContent: string | null } | null };
    await page.waitForFunction((selector) => ((globalThis as unknown as { document: Doc }).document.querySelector(selector)?.textContent?.length ?? 0) > 1_000_000, `article[data-id="${id}"] .args`);
    await page.screenshot({ path: join(SCREENSHOTS, 'hostile.png') });

    await page.goto(`${gw.url}/console/#detail/${encodeURIComponent(asked.decisionId!)}`);
    await page.locator('#view-detail .event').first().waitFor();
    const input = await page.textContent('#view-detail pre.input');
    expect(input).toContain('<script>window.__pwned');
    expect(input).toContain('<img src=x onerror=');

    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);

    // Still usable: deny it from the page.
    await page.goto(`${gw.url}/console/#pending`);
    await card(page, id).locator('button.deny').click();
    await card(page, id).waitFor({ state: 'detached' });
    expectOutcome(await receipts('email.send', { to: [ACCOUNTANT], subject: `Invoice ${script}`, body: big }, 'http', { 'toolgate-approval': id }), 403, ['approval_denied']);
    await page.context().close();
  });
});
