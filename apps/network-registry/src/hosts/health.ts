export interface HealthWindows {
  /** Seen within this → healthy (default 30 s: three missed 10 s heartbeats). */
  healthyMs: number;
  /** Seen within this → degraded; beyond → offline (default 5 min). */
  offlineMs: number;
}
