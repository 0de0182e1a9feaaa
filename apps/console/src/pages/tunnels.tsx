import type { BalancerStatusView, TopologyView } from '@qnet/contracts';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api';
import { useEventLog } from '../events';
import { count } from '../components/status';
import { Table } from '../components/table';

const W = 960;
const ROW = { router: 70, endpoint: 300 };

/** x positions spread over the width for `n` nodes. */
const spread = (n: number) => Array.from({ length: n }, (_, i) => ((i + 0.5) * W) / Math.max(n, 1));

/**
 * Seed 004's topology as a picture: routing servers (score, load) above, endpoints below, each
 * endpoint's primary (solid) and backup (dashed) tunnel — green when it answers, red when not,
 * thick where the routes go — and the failovers as they happen.
 */
export function TunnelsPage() {
  const topology = useQuery({
    queryKey: ['tunnels', 'topology'],
    queryFn: () => get<TopologyView>('/api/v1/devices/topology'),
    refetchInterval: 5_000,
  });
  const status = useQuery({
    queryKey: ['tunnels', 'status'],
    queryFn: () => get<BalancerStatusView>('/api/v1/tunnel/status'),
    refetchInterval: 5_000,
  });
  const { events } = useEventLog();
  const nodes = topology.data?.nodes ?? [];
  const routers = nodes.filter((n) => n.type === 'routing_server');
  const endpoints = nodes.filter((n) => n.type === 'endpoint');
  const at = new Map<string, { x: number; y: number }>();
  spread(routers.length).forEach((x, i) => at.set(routers[i]!.device_id, { x, y: ROW.router }));
  spread(endpoints.length).forEach((x, i) =>
    at.set(endpoints[i]!.device_id, { x, y: ROW.endpoint }),
  );
  const server = new Map((status.data?.servers ?? []).map((s) => [s.server_id, s]));
  const moves = events.filter((e) =>
    /^(tunnel\.decision|device\.device\.tunnel_failed)/.test(e.type),
  );
  return (
    <section>
      <header className="page-head">
        <h1>Tunnels</h1>
        <span className="count">
          {count(routers.length, 'routing server')}, {count(endpoints.length, 'endpoint')}
        </span>
      </header>
      <svg
        className="picture"
        width={W}
        height={360}
        viewBox={`0 0 ${W} 360`}
        role="img"
        aria-label="Tunnel topology"
      >
        {(topology.data?.edges ?? []).map((e) => {
          const a = at.get(e.from_device_id);
          const b = at.get(e.to_device_id);
          if (!a || !b) return null;
          const tone = e.up === true ? 'up' : e.up === false ? 'down' : 'unknown';
          return (
            <line
              key={`${e.from_device_id}-${e.to_device_id}`}
              className={`edge ${tone} ${e.role}${e.carries_routes ? ' carrying' : ''}`}
              x1={a.x}
              y1={a.y}
              x2={b.x}
              y2={b.y}
            >
              <title>
                {`${e.from_device_id} → ${e.to_device_id}: ${e.role}${e.carries_routes ? ', carries the routes' : ''}, handshake ${e.handshake_age_s ?? '—'} s ago`}
              </title>
            </line>
          );
        })}
        {routers.map((r) => {
          const p = at.get(r.device_id)!;
          const s = server.get(r.device_id);
          return (
            <g
              key={r.device_id}
              transform={`translate(${p.x},${p.y})`}
              className={`node router ${s?.status ?? 'unknown'}`}
            >
              <rect x={-70} y={-30} width={140} height={60} rx={6} />
              <text y={-8}>{r.name || r.device_id}</text>
              <text y={10} className="small">
                {s ? `score ${s.score.toFixed(3)} · ${s.active_tunnels} tunnels` : r.status}
              </text>
              <text y={24} className="small">
                {s ? `cpu ${s.cpu_percent}% · ${s.bandwidth_mbps} Mbit/s` : ''}
              </text>
            </g>
          );
        })}
        {endpoints.map((e) => {
          const p = at.get(e.device_id)!;
          return (
            <g
              key={e.device_id}
              transform={`translate(${p.x},${p.y})`}
              className={`node endpoint ${e.status}`}
            >
              <rect x={-60} y={-20} width={120} height={40} rx={20} />
              <text y={5}>{e.name || e.device_id}</text>
            </g>
          );
        })}
      </svg>
      <h2>Moves and failovers</h2>
      <Table
        label="Tunnel events"
        rows={moves}
        rowKey={(e) => e.id}
        maxHeight={260}
        empty="None since this page opened."
        columns={[
          {
            header: 'When',
            width: '120px',
            cell: (e) => new Date(e.occurred_at).toLocaleTimeString(),
          },
          { header: 'Event', width: '1.5fr', cell: (e) => e.type },
          { header: 'Endpoint', width: '1fr', cell: (e) => e.resource_id },
          { header: 'What', width: '3fr', cell: (e) => describe(e.data) },
        ]}
      />
    </section>
  );
}

function describe(data: unknown): string {
  const d = (data ?? {}) as Record<string, unknown>;
  if (typeof d.optimal_router_id === 'string')
    return `primary ${d.optimal_router_id || '—'}, backup ${String(d.backup_router_id || '—')} (${String(d.reason)})`;
  if (Array.isArray(d.failed_router_ids))
    return `its tunnels to ${d.failed_router_ids.join(', ')} stopped answering; routes on ${String(d.active_router_id || '—')}`;
  return JSON.stringify(d).slice(0, 200);
}
