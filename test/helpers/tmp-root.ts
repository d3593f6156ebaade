import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary file and directory of one run (test files and the children they start) goes
 * under one directory of its own, removed when the run ends. Tests still clean up after themselves where they can;
 * this catches the ones that cannot (a child killed mid-write, a failed assertion before afterAll), so repeated runs
 * do not fill the machine's temporary directory.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'toolgate-run-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
