import { sql, type RawBuilder } from 'kysely';
import type { HostHealth } from '@qnet/contracts';
import type { HealthWindows } from '../hosts/health.js';

/** A host's health derived from when it was last seen (`lastSeen`: the column, e.g. `h.last_seen_at`). */
export function healthOf(w: HealthWindows, lastSeen = 'last_seen_at'): RawBuilder<HostHealth> {
  const seen = sql.ref(lastSeen);
  return sql<HostHealth>`CASE
    WHEN now() - ${seen} < make_interval(secs => ${w.healthyMs}::double precision / 1000) THEN 'healthy'
    WHEN now() - ${seen} < make_interval(secs => ${w.offlineMs}::double precision / 1000) THEN 'degraded'
    ELSE 'offline' END`;
}
