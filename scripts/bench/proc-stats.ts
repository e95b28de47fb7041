import fs from 'node:fs';

/** CPU and memory of processes, read from /proc (Linux only), so the server is measured apart from the load generator. */

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks; 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

interface Stat {
  ppid: number;
  /** utime + stime, seconds. */
  cpu: number;
  /** cutime + cstime: children that have exited and been waited for, seconds. */
  childCpu: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name may contain spaces and parentheses; fields after it are space-separated.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return { ppid: n(4), cpu: (n(14) + n(15)) / TICKS_PER_SECOND, childCpu: (n(16) + n(17)) / TICKS_PER_SECOND };
}

/** CPU seconds a process has used so far (0 when it is gone). */
export const cpuSeconds = (pid: number): number => readStat(pid)?.cpu ?? 0;

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export const rssMb = (pid: number): number => statusKb(pid, 'VmRSS') / 1024;
/** Peak RSS since start or since the last resetPeakRss. */
export const peakRssMb = (pid: number): number => statusKb(pid, 'VmHWM') / 1024;

/** Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux ≥ 4.0; needs the same user or root). */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * CPU seconds of a process tree's root plus its live children, plus what its exited
 * children used: for PostgreSQL, the postmaster and its backends and background workers.
 */
export function treeCpuSeconds(rootPid: number): number {
  const root = readStat(rootPid);
  if (root === null) return 0;
  let total = root.cpu + root.childCpu;
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === rootPid) continue;
    const s = readStat(pid);
    if (s !== null && s.ppid === rootPid) total += s.cpu;
  }
  return total;
}

/** Machine-wide CPU seconds from /proc/stat: busy (all but idle and iowait) and waiting on I/O. */
export function systemCpuSeconds(): { busy: number; iowait: number } {
  const line = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND, iowait: iowait / TICKS_PER_SECOND };
}

/** Tracks the largest RSS seen by polling, for kernels where clear_refs is not allowed. */
export function rssSampler(pid: number, everyMs = 100): { stop(): number } {
  let max = rssMb(pid);
  const timer = setInterval(() => {
    max = Math.max(max, rssMb(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, rssMb(pid));
    },
  };
}
