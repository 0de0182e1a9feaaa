import type { Executor } from '@qnet/drivers';
import {
  cpuPercent,
  linkCounters,
  LoadSampler,
  memoryPercent,
  parseProcStat,
} from './routing-metrics.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('routing-server metrics from the kernel', () => {
  it('computes CPU % from two /proc/stat readings (idle and iowait are idle)', () => {
    const a = parseProcStat('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3');
    const b = parseProcStat('cpu  150 0 150 750 150 0 0 0 0 0\n');
    // busy +100, total +200
    expect(cpuPercent(a, b)).toBe(50);
    expect(cpuPercent(a, a)).toBe(0);
  });

  it('computes memory % as 1 − MemAvailable / MemTotal', () => {
    expect(
      memoryPercent('MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    452 kB\n'),
    ).toBe(54.8);
  });

  it('reads interface counters', () => {
    expect(
      linkCounters(
        '[{"ifname":"eth0","stats64":{"rx":{"bytes":1,"packets":2},"tx":{"bytes":3,"packets":4}}}]',
      ),
    ).toEqual({
      rx: { bytes: 1, packets: 2 },
      tx: { bytes: 3, packets: 4 },
    });
    expect(linkCounters('')).toBeUndefined();
  });

  it('times a counter reading by the middle of its command: a slow read then a fast one still give the real rate', async () => {
    // 10 Mbit/s leave the interface; the kernel's counter is read halfway through each command.
    const started = Date.now();
    const durations = [300, 20];
    const exec: Executor = {
      mode: 'real',
      async read() {
        const half = durations.shift()! / 2;
        await sleep(half);
        const bytes = Math.round(((Date.now() - started) / 1000) * 1.25e6);
        await sleep(half);
        return { stdout: `[{"stats64":{"rx":{},"tx":{"bytes":${bytes}}}}]`, stderr: '' };
      },
      run: () => Promise.reject(new Error('not used')),
    };
    const sampler = new LoadSampler(exec, 'eth0', () => Promise.resolve(0));
    await sampler.read();
    const { bandwidth_mbps } = await sampler.read();
    // Timed at the commands' ends, the same counters read 80 Mbit/s (160 ms of bytes over 20 ms).
    expect(bandwidth_mbps).toBeGreaterThan(8);
    expect(bandwidth_mbps).toBeLessThan(12);
  });
});
