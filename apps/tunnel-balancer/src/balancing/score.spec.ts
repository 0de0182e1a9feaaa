import { scoreOf, type ScoreWeights } from './score.js';

const defaults: ScoreWeights = {
  weightCpu: 0.3,
  weightMemory: 0.2,
  weightBandwidth: 0.3,
  weightConnections: 0.2,
  maxBandwidthMbps: 1000,
  maxConnections: 100,
};

describe('scoreOf', () => {
  it("scores the seed's example server by hand", () => {
    // 0.30×(1−0.255) + 0.20×(1−0.452) + 0.30×(1−150.3/1000) + 0.20×(1−5/100)
    // = 0.2235 + 0.1096 + 0.25491 + 0.19 = 0.77801
    const seed = {
      cpu_percent: 25.5,
      memory_percent: 45.2,
      bandwidth_mbps: 150.3,
      active_tunnels: 5,
    };
    expect(scoreOf(seed, defaults)).toBe(0.77801);
  });

  it('is 1 for an idle server and 0 for a saturated one', () => {
    const idle = { cpu_percent: 0, memory_percent: 0, bandwidth_mbps: 0, active_tunnels: 0 };
    expect(scoreOf(idle, defaults)).toBe(1);
    const full = {
      cpu_percent: 100,
      memory_percent: 100,
      bandwidth_mbps: 1000,
      active_tunnels: 100,
    };
    expect(scoreOf(full, defaults)).toBe(0);
  });

  it('caps each load fraction at 1', () => {
    const over = { cpu_percent: 0, memory_percent: 0, bandwidth_mbps: 5000, active_tunnels: 1000 };
    // Only CPU and memory terms remain.
    expect(scoreOf(over, defaults)).toBe(0.5);
  });

  it('uses the configured weights and capacities', () => {
    const m = { cpu_percent: 50, memory_percent: 0, bandwidth_mbps: 50, active_tunnels: 10 };
    const w = {
      ...defaults,
      weightCpu: 1,
      weightMemory: 0,
      weightBandwidth: 0,
      weightConnections: 0,
    };
    expect(scoreOf(m, w)).toBe(0.5);
    const bw = {
      ...defaults,
      weightCpu: 0,
      weightMemory: 0,
      weightBandwidth: 1,
      weightConnections: 0,
      maxBandwidthMbps: 100,
    };
    expect(scoreOf(m, bw)).toBe(0.5);
  });
});
