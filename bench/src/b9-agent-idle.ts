import { readFileSync } from 'node:fs';
import { Netns, TestCluster } from '@qnet/testing';
import { round } from './measure.js';

/**
 * B9: what an agent with nothing to do costs. One netns agent with every driver and no desired
 * state, at the default status interval, after it registered and settled: its CPU time (user +
 * system, its children's included) over a window, as a share of one core. Target: < 1% of a core.
 * The window is five resync periods (30 s each by default): an idle driver reads the host at every
 * 5th, so a shorter window would see only the resyncs that read nothing.
 */
export interface B9Result {
  window_s: number;
  cpu_percent_of_core: number;
  target_percent: number;
  meets_target: boolean;
}

const TICKS = 100; // USER_HZ on Linux

/** utime + stime + cutime + cstime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / TICKS;
}

export async function runB9(windowMs = 150_000): Promise<B9Result> {
  const ns = await Netns.create('qb9');
  const cluster = await TestCluster.create({ hostIds: ['b9'], env: { LOG_LEVEL: 'warn' } });
  try {
    // Every service, as under npm start: each gives the agent its (empty) desired state.
    await cluster.startServices();
    const agent = cluster.start('node-agent', { hostId: 'b9', mode: 'netns', netns: ns.name });
    await cluster.waitForHosts(['b9']);
    await new Promise((r) => setTimeout(r, 5_000));
    const pid = agent.child.pid!;
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, windowMs));
    const percent = ((cpuSeconds(pid) - before) / (windowMs / 1000)) * 100;
    return {
      window_s: windowMs / 1000,
      cpu_percent_of_core: round(percent, 2),
      target_percent: 1,
      meets_target: percent < 1,
    };
  } finally {
    await cluster.teardown();
    await ns.delete();
  }
}
