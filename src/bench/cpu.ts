import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be read). */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU time a process has used so far, user plus system, all its threads, in ms (utime and stime of
 * /proc/<pid>/stat, in clock ticks: 10 ms resolution, so read it over windows of seconds). NaN off Linux or once
 * the process is gone, so a missing reading shows as n/a instead of a wrong ratio.
 */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are fields 14
    // and 15 of the line, 12 and 13 after ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

/**
 * cpuMs of a process and every live process below it (its workers, their children), summed: a multi-process server's
 * CPU. A descendant that exits in a window takes its time with it (the parent's cutime only counts it once reaped),
 * so read it over windows in which the processes run throughout.
 */
export function treeCpuMs(pid: number): number {
  const parents = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return Number.NaN;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The parent's pid is the second field after ")".
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended between the listing and the read
    }
  }
  const inTree = (p: number): boolean => {
    for (let at = p, hops = 0; at > 1 && hops < 64; at = parents.get(at) ?? 0, hops++) if (at === pid) return true;
    return false;
  };
  let total = cpuMs(pid);
  for (const p of parents.keys()) if (p !== pid && inTree(p)) total += cpuMs(p);
  return total;
}

/** CPU time so far of each thread of a process, by thread id, with its name (comm): `node-MainThread`, `WorkerThread`, `libuv-worker`, `node-V8Worker`. */
export function threadCpuMs(pid: number): Map<string, { readonly name: string; readonly ms: number; readonly sysMs: number }> {
  const out = new Map<string, { name: string; ms: number; sysMs: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks(), sysMs: (Number(fields[12]) * 1000) / clockTicks() });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** CPU (and its system part) per thread name between two readings of threadCpuMs (a thread started in between counts from zero). */
export function threadCpuDelta(before: ReturnType<typeof threadCpuMs>, after: ReturnType<typeof threadCpuMs>): Map<string, { ms: number; sysMs: number }> {
  const byName = new Map<string, { ms: number; sysMs: number }>();
  for (const [tid, t] of after) {
    const sum = byName.get(t.name) ?? { ms: 0, sysMs: 0 };
    sum.ms += t.ms - (before.get(tid)?.ms ?? 0);
    sum.sysMs += t.sysMs - (before.get(tid)?.sysMs ?? 0);
    byName.set(t.name, sum);
  }
  return byName;
}

/** The machine's CPU time so far, all CPUs, in clock ticks: busy (user, nice, system, irq, softirq, steal) and all (busy plus idle and iowait). Zeros off Linux. */
export function machineTicks(): { readonly busy: number; readonly all: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
    return { busy, all: busy + idle! + iowait! };
  } catch {
    return { busy: 0, all: 0 };
  }
}

/** Share of the machine's CPUs busy between two readings of machineTicks (0 to 1; NaN when nothing was counted). */
export function machineBusy(before: ReturnType<typeof machineTicks>, after: ReturnType<typeof machineTicks>): number {
  const all = after.all - before.all;
  return all > 0 ? (after.busy - before.busy) / all : Number.NaN;
}
