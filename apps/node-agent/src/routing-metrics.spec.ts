import { cpuPercent, linkCounters, memoryPercent, parseProcStat } from './routing-metrics.js';

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
});
