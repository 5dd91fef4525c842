/**
 * CPU accounting from /proc (Linux), as amqp-load does it: this process, the broker (--broker-pid) and the
 * whole machine, so a run can say how much CPU something else took while it ran (`other_cores`). Anything
 * unreadable (no /proc, a wrong pid) yields undefined, never an error: the figures are extras.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const TICKS_PER_S = 100;

export interface CpuSample {
  atNs: number;
  /** This process, seconds of CPU. */
  selfS: number;
  brokerS: number | undefined;
  brokerRssKb: number | undefined;
  /** Whole machine: busy (non-idle, non-iowait) CPU seconds. */
  machineBusyS: number | undefined;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function processCpuS(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime + stime) ? (utime + stime) / TICKS_PER_S : undefined;
}

function rssKb(pid: number): number | undefined {
  const m = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : undefined;
}

function machineBusyS(): number | undefined {
  const line = read('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return (total - idle) / TICKS_PER_S;
}

export function sampleCpu(brokerPid: number, atNs: number): CpuSample {
  const u = process.cpuUsage();
  return {
    atNs,
    selfS: (u.user + u.system) / 1e6,
    brokerS: brokerPid > 0 ? processCpuS(brokerPid) : undefined,
    brokerRssKb: brokerPid > 0 ? rssKb(brokerPid) : undefined,
    machineBusyS: machineBusyS(),
  };
}
