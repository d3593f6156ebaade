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
 * One /proc stat line (a process's or a thread's): its name, parent pid and CPU time (utime + stime, and stime
 * alone) in ms. The fields are read after the name, which is in parentheses and may hold spaces: the parent is
 * field 4 of the line, utime and stime fields 14 and 15 (2, 12 and 13 after ")"). Throws when the file is gone.
 */
function readStat(path: string): { name: string; parent: number; ms: number; sysMs: number } {
  const stat = readFileSync(path, 'utf8');
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  const ms = (ticks: number) => (ticks * 1000) / clockTicks();
  return { name: stat.slice(stat.indexOf('(') + 1, close), parent: Number(fields[1]), ms: ms(Number(fields[11]) + Number(fields[12])), sysMs: ms(Number(fields[12])) };
}

/**
 * CPU time a process has used so far, user plus system, all its threads, in ms (utime and stime of
 * /proc/<pid>/stat, in clock ticks: 10 ms resolution, so read it over windows of seconds). NaN off Linux or once
 * the process is gone, so a missing reading shows as n/a instead of a wrong ratio.
 */
export function cpuMs(pid: number): number {
  try {
    return readStat(`/proc/${pid}/stat`).ms;
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
  // One read of each process's stat: its parent and its CPU.
  const procs = new Map<number, { readonly parent: number; readonly ms: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return Number.NaN;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      procs.set(Number(entry), readStat(`/proc/${entry}/stat`));
    } catch {
      // the process ended between the listing and the read
    }
  }
  if (!procs.has(pid)) return Number.NaN;
  const inTree = (p: number): boolean => {
    for (let at = p, hops = 0; at > 1 && hops < 64; at = procs.get(at)?.parent ?? 0, hops++) if (at === pid) return true;
    return false;
  };
  let total = 0;
  for (const [p, { ms }] of procs) if (inTree(p)) total += ms;
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
      const { name, ms, sysMs } = readStat(`/proc/${pid}/task/${tid}/stat`);
      out.set(tid, { name, ms, sysMs });
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
