import { readFile } from 'node:fs/promises';
import type { Executor } from '@qnet/drivers';

/** Cumulative CPU jiffies from the first line of /proc/stat. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export function parseProcStat(text: string): CpuTimes {
  const fields = text.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields;
  const idleAll = idle + iowait;
  const total = user + nice + system + idleAll + irq + softirq + steal;
  return { busy: total - idleAll, total };
}

export function cpuPercent(prev: CpuTimes, cur: CpuTimes): number {
  const total = cur.total - prev.total;
  return total > 0 ? round2((100 * (cur.busy - prev.busy)) / total) : 0;
}

/** Used memory as the kernel sees it: 1 − MemAvailable / MemTotal. */
export function memoryPercent(meminfo: string): number {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  const total = kb('MemTotal');
  return total > 0 ? round2(100 * (1 - kb('MemAvailable') / total)) : 0;
}

interface Counters {
  bytes?: number;
  packets?: number;
}

/** Counters of one interface from `ip -s -j link show dev <if>`. */
export function linkCounters(ipJson: string): { rx: Counters; tx: Counters } | undefined {
  const [link] = JSON.parse(ipJson || '[]') as { stats64?: { rx?: Counters; tx?: Counters } }[];
  return link?.stats64 && { rx: link.stats64.rx ?? {}, tx: link.stats64.tx ?? {} };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export interface LoadReading {
  cpu_percent: number;
  memory_percent: number;
  bandwidth_mbps: number;
  active_tunnels: number;
  total_rx_packets: number;
  total_tx_packets: number;
}

/**
 * Reads a routing server's load from the kernel: CPU and memory from /proc (the host's), egress
 * bandwidth from the interface of the agent's namespace, active tunnels as its WireGuard peers
 * with a live session (`activeTunnels`). Rates are over the interval since the previous reading.
 */
export class LoadSampler {
  private prev?: { cpu: CpuTimes; tx: number | undefined; at: number };

  constructor(
    private readonly exec: Executor,
    private readonly egressInterface: string,
    private readonly activeTunnels: () => Promise<number>,
  ) {}

  async read(): Promise<LoadReading> {
    const [stat, meminfo, link, tunnels] = await Promise.all([
      readFile('/proc/stat', 'utf8'),
      readFile('/proc/meminfo', 'utf8'),
      this.readLink(),
      this.activeTunnels().catch(() => 0),
    ]);
    const counters = linkCounters(link.stdout);
    const cur = { cpu: parseProcStat(stat), tx: counters?.tx.bytes, at: link.at };
    const prev = this.prev;
    this.prev = cur;
    const seconds = prev ? (cur.at - prev.at) / 1000 : 0;
    const bandwidth =
      prev && seconds > 0 && cur.tx !== undefined && prev.tx !== undefined
        ? round2(((cur.tx - prev.tx) * 8) / seconds / 1e6)
        : 0;
    return {
      cpu_percent: prev ? cpuPercent(prev.cpu, cur.cpu) : 0,
      memory_percent: memoryPercent(meminfo),
      bandwidth_mbps: Math.max(bandwidth, 0),
      active_tunnels: tunnels,
      total_rx_packets: counters?.rx.packets ?? 0,
      total_tx_packets: counters?.tx.packets ?? 0,
    };
  }

  /**
   * The egress interface's counters, and when they were read: the middle of the command's run,
   * which on a loaded host takes from ~10 ms to over a second — a rate over ~0.5 s timed at the
   * command's end would be off by as much.
   */
  private async readLink(): Promise<{ stdout: string; at: number }> {
    const started = Date.now();
    const { stdout } = await this.exec
      .read(['ip', '-s', '-j', 'link', 'show', 'dev', this.egressInterface])
      .catch(() => ({ stdout: '' }));
    return { stdout, at: (started + Date.now()) / 2 };
  }
}
