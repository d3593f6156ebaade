import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuMs, treeCpuMs } from '../../src/bench/cpu.js';

/** Waits until `check` holds, polling (no fixed sleep decides the outcome). */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return out;
}

describe('treeCpuMs', () => {
  it('is a process plus the processes below it, and nothing beside them', async () => {
    // A parent that starts a child of its own; both burn CPU until killed.
    const burn = 'for(;;){}';
    const parent = spawn(process.execPath, ['-e', `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(burn)}], { stdio: 'ignore' }); ${burn}`], { stdio: 'ignore' });
    const pid = parent.pid!;
    try {
      await until(() => childrenOf(pid).length === 1, 30_000);
      const [grandchild] = childrenOf(pid) as [number];
      await until(() => cpuMs(grandchild) > 200, 30_000);
      // Read the parts around the whole, so the whole lies between their sums: a process beside the tree (the test
      // runner, busy itself) counted in it would put it above `after`, and the grandchild (over 200 ms by now)
      // left out would put it below `before`, since the parent cannot run 200 ms between two reads.
      const before = cpuMs(pid) + cpuMs(grandchild);
      const tree = treeCpuMs(pid);
      const after = cpuMs(pid) + cpuMs(grandchild);
      expect(tree).toBeGreaterThanOrEqual(before);
      expect(tree).toBeLessThanOrEqual(after);
    } finally {
      for (const child of childrenOf(pid)) process.kill(child, 'SIGKILL');
      parent.kill('SIGKILL');
    }
  });

  it('is NaN for a process that does not exist', () => {
    expect(treeCpuMs(0x7ffffff0)).toBeNaN();
  });
});
