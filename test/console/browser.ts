import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildConsole, CONSOLE_ASSETS_OUT } from '../../src/console/build.js';

/** Longest wait for one page condition (Playwright's default is 30 s). */
export const BROWSER_WAIT_MS = 60_000;

/** A browser test's own budget: several page conditions, each of which may take a while under a loaded machine. */
export const BROWSER_TEST_MS = 180_000;

/** Where the browser tests put their screenshots (build/ is not in git). */
export const SCREENSHOTS = join(process.cwd(), 'build', 'console');

/** The system Chromium (Debian's): TOOLGATE_CHROMIUM, else `chromium` on PATH. playwright-core never downloads one. */
export function chromiumPath(): string {
  const given = process.env.TOOLGATE_CHROMIUM;
  if (given !== undefined && given !== '') return given;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('No chromium on PATH: install Debian\'s chromium (scripts/system-deps.sh) or set TOOLGATE_CHROMIUM to a Chromium binary.');
  }
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in a container has no user namespace for Chromium's sandbox; the page under test is our own.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** The console page must exist (make test builds it first; a lone vitest run builds it here). */
export async function ensureConsoleBuilt(): Promise<void> {
  if (!existsSync(join(CONSOLE_ASSETS_OUT, 'app.js'))) await buildConsole();
  mkdirSync(SCREENSHOTS, { recursive: true });
}

/**
 * A page that records what hostile markup would do if it ran: any dialog, and the page errors. `window.__pwned` is
 * what the hostile test's injected scripts would set.
 */
export async function openConsole(browser: Browser, url: string): Promise<{ page: Page; dialogs: string[]; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // make test runs the browser beside the whole suite on a small machine: waits get room, never fixed sleeps.
  context.setDefaultTimeout(BROWSER_WAIT_MS);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/console/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, dialogs, errors };
}

/** Signs in by loading a key file in the page, as a person would. */
export async function signIn(page: Page, keyFile: string, agent: string): Promise<void> {
  await page.goto(`${new URL(page.url()).origin}/console/#signin`);
  await page.setInputFiles('#key-file', keyFile);
  await page.locator('#signin-who', { hasText: `"${agent}"` }).waitFor();
}
