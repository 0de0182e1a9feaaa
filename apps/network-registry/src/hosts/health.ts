export interface HealthWindows {
  /** Seen within this → healthy (default 30 s: three missed 10 s heartbeats). */
  healthyMs: number;
  /** Seen within this → degraded; beyond → offline (default 5 min). */
  offlineMs: number;
}

/** SQL expression deriving a host's health from last_seen_at; $1 and $2 are the two windows in ms. */
export const HEALTH_SQL = `CASE
  WHEN now() - last_seen_at < make_interval(secs => $1::double precision / 1000) THEN 'healthy'
  WHEN now() - last_seen_at < make_interval(secs => $2::double precision / 1000) THEN 'degraded'
  ELSE 'offline' END`;
