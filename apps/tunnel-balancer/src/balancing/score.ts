/** The load a routing server reports, as the score reads it. */
export interface LoadSample {
  cpu_percent: number;
  memory_percent: number;
  bandwidth_mbps: number;
  active_tunnels: number;
}

export interface ScoreWeights {
  weightCpu: number;
  weightMemory: number;
  weightBandwidth: number;
  weightConnections: number;
  maxBandwidthMbps: number;
  maxConnections: number;
}

/**
 * Score in [0, 1], higher is better: each term is weight × (1 − load fraction capped at 1), with
 * CPU and memory as percentages, bandwidth against maxBandwidthMbps and tunnels against
 * maxConnections. With the default weights (summing to 1) an idle server scores 1.
 */
export function scoreOf(m: LoadSample, w: ScoreWeights): number {
  const free = (used: number, capacity: number) => 1 - Math.min(Math.max(used / capacity, 0), 1);
  const score =
    w.weightCpu * free(m.cpu_percent, 100) +
    w.weightMemory * free(m.memory_percent, 100) +
    w.weightBandwidth * free(m.bandwidth_mbps, w.maxBandwidthMbps) +
    w.weightConnections * free(m.active_tunnels, w.maxConnections);
  return Math.round(score * 1e6) / 1e6;
}
