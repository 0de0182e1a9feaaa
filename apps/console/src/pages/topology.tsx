import type { NicView } from '@qnet/contracts';
import { useQuery } from '@tanstack/react-query';
import { allRest } from '../api';
import { count, Status } from '../components/status';
import { href } from '../router';
import { usePlacement } from './hosts';
import { useHosts } from './networks';

const COL = 190;
const TOP = 40;

/**
 * The cluster at a glance: hosts side by side on their underlay, each overlay a band across the
 * hosts it spans, and in every host what lives there — VMs (NICs), networks, load balancers, VPN
 * gateways, BGP speakers.
 */
export function TopologyPage() {
  const hosts = useHosts();
  const p = usePlacement();
  const nics = useQuery({
    queryKey: ['nics', 'all'],
    queryFn: () => allRest<NicView>('/v1/nics'),
  });
  const list = hosts.data ?? [];
  const x = new Map(list.map((h, i) => [h.id, i * COL + 20]));
  const overlays = p.networks.filter((n) => n.type === 'overlay' && n.host_ids.length);
  const bandsTop = TOP + 150;
  const width = Math.max(list.length * COL + 40, 400);
  const height = bandsTop + overlays.length * 26 + 30;
  const vms = (id: string) =>
    new Set((nics.data ?? []).filter((n) => n.host_id === id).map((n) => n.vm_id)).size;
  return (
    <section>
      <header className="page-head">
        <h1>Topology</h1>
        <span className="count">
          {count(list.length, 'host')}, {count(overlays.length, 'overlay')}
        </span>
      </header>
      <svg
        className="picture"
        style={{ maxWidth: width }}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="Cluster topology"
      >
        <line className="underlay" x1={10} y1={TOP - 15} x2={width - 10} y2={TOP - 15} />
        <text className="small start" x={12} y={TOP - 22}>
          underlay
        </text>
        {list.map((h) => {
          const left = x.get(h.id)!;
          const lines = [
            `${count(vms(h.id), 'VM')}, ${count(p.networks.filter((n) => n.host_ids.includes(h.id)).length, 'network')}`,
            ...p.lbs.filter((b) => b.host_id === h.id).map((b) => `LB ${b.name} ${b.vip}`),
            ...p.vpn.filter((s) => s.host_id === h.id).map((s) => `VPN ${s.name}`),
            ...p.speakers.filter((s) => s.node_id === h.id).map((s) => `BGP AS${s.local_asn}`),
          ];
          return (
            <g key={h.id} className={`host ${h.health}`}>
              <line className="underlay" x1={left + 80} y1={TOP - 15} x2={left + 80} y2={TOP} />
              <rect x={left} y={TOP} width={160} height={130} rx={6} />
              <text x={left + 8} y={TOP + 18} className="strong">
                {h.id}
              </text>
              <text x={left + 8} y={TOP + 34} className="small">
                {h.underlay_ip} · {h.health}
              </text>
              {lines.slice(0, 5).map((l, i) => (
                <text key={l} x={left + 8} y={TOP + 54 + i * 15} className="small">
                  {l}
                </text>
              ))}
            </g>
          );
        })}
        {overlays.map((n, i) => {
          const xs = n.host_ids.map((h) => x.get(h)).filter((v): v is number => v !== undefined);
          if (!xs.length) return null;
          const y = bandsTop + i * 26;
          return (
            <a key={n.id} href={href('networks', n.id)}>
              <rect
                className="overlay"
                x={Math.min(...xs)}
                y={y}
                width={Math.max(...xs) - Math.min(...xs) + 160}
                height={20}
                rx={4}
              />
              <text x={Math.min(...xs) + 8} y={y + 14} className="small">
                {n.name} (VNI {n.vni}, {n.cidr ?? 'no CIDR'})
              </text>
            </a>
          );
        })}
      </svg>
      <ul className="legend">
        {list.map((h) => (
          <li key={h.id}>
            {h.id}: <Status value={h.health} />
          </li>
        ))}
      </ul>
    </section>
  );
}
