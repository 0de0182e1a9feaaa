import {
  activeTunnels,
  cpuPercent,
  linkCounters,
  memoryPercent,
  parseProcStat,
} from './routing-metrics.js';

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

  it('reads interface counters and counts TUN devices that are up', () => {
    expect(
      linkCounters(
        '[{"ifname":"eth0","stats64":{"rx":{"bytes":1,"packets":2},"tx":{"bytes":3,"packets":4}}}]',
      ),
    ).toEqual({
      rx: { bytes: 1, packets: 2 },
      tx: { bytes: 3, packets: 4 },
    });
    expect(linkCounters('')).toBeUndefined();
    const links = JSON.stringify([
      { ifname: 'tun0', flags: ['UP'], linkinfo: { info_kind: 'tun', info_data: { type: 'tun' } } },
      { ifname: 'tun1', flags: [], linkinfo: { info_kind: 'tun', info_data: { type: 'tun' } } },
      { ifname: 'tap0', flags: ['UP'], linkinfo: { info_kind: 'tun', info_data: { type: 'tap' } } },
      { ifname: 'eth0', flags: ['UP'] },
    ]);
    expect(activeTunnels(links)).toBe(1);
  });
});
