import type {
  BgpSpeakerView,
  LoadBalancerView,
  NetworkView,
  VpnServiceView,
} from '@qnet/contracts';
import { useQuery } from '@tanstack/react-query';
import { allPages, allRest } from '../api';
import { ago, count, Status } from '../components/status';
import { Table } from '../components/table';
import { useHosts } from './networks';

/** What runs where: every list the placement can be read from, fetched once for every page that draws it. */
export function usePlacement() {
  const networks = useQuery({
    queryKey: ['networks', 'all'],
    queryFn: () => allRest<NetworkView>('/v1/networks'),
  });
  const lbs = useQuery({
    queryKey: ['lbs'],
    queryFn: () => allPages<LoadBalancerView>('/api/v1/load-balancers', 'load_balancers'),
  });
  const vpn = useQuery({
    queryKey: ['vpn', 'services'],
    queryFn: () => allPages<VpnServiceView>('/api/v1/vpn-services', 'vpn_services'),
  });
  const speakers = useQuery({
    queryKey: ['bgp', 'speakers'],
    queryFn: () => allPages<BgpSpeakerView>('/api/v1/bgp-speakers', 'speakers'),
  });
  return {
    networks: networks.data ?? [],
    lbs: lbs.data ?? [],
    vpn: vpn.data ?? [],
    speakers: speakers.data ?? [],
  };
}

/** Hosts: health, capabilities, drivers and the generation each applied, and what each hosts. */
export function HostsPage() {
  const hosts = useHosts();
  const p = usePlacement();
  const on = (id: string) => ({
    networks: p.networks.filter((n) => n.host_ids.includes(id)).length,
    lbs: p.lbs.filter((b) => b.host_id === id).map((b) => b.name),
    vpn: p.vpn.filter((s) => s.host_id === id).map((s) => s.name),
    speakers: p.speakers.filter((s) => s.node_id === id).map((s) => s.name),
  });
  return (
    <section>
      <header className="page-head">
        <h1>Hosts</h1>
        <span className="count">{hosts.data?.length ?? '…'} hosts</span>
      </header>
      <Table
        label="Hosts"
        rows={hosts.data ?? []}
        rowKey={(h) => h.id}
        empty="No agent has registered yet."
        columns={[
          {
            header: 'Host',
            width: '1.2fr',
            cell: (h) => <strong>{h.id}</strong>,
          },
          { header: 'Hostname', width: '1fr', cell: (h) => h.hostname },
          { header: 'Health', width: '90px', cell: (h) => <Status value={h.health} /> },
          { header: 'Underlay', width: '1fr', cell: (h) => h.underlay_ip },
          { header: 'Mode', width: '70px', cell: (h) => h.mode },
          {
            header: 'Drivers (applied generation)',
            width: '2.2fr',
            cell: (h) => h.drivers.map((d) => `${d} ${h.applied?.[d] ?? '–'}`).join(', ') || '—',
          },
          { header: 'Capabilities', width: '2fr', cell: (h) => h.capabilities.join(', ') },
          { header: 'Last heartbeat', width: '100px', cell: (h) => ago(h.last_seen_at) },
          {
            header: 'Hosts',
            width: '2fr',
            cell: (h) => {
              const o = on(h.id);
              return [
                count(o.networks, 'network'),
                ...o.lbs.map((n) => `LB ${n}`),
                ...o.vpn.map((n) => `VPN ${n}`),
                ...o.speakers.map((n) => `BGP ${n}`),
              ].join(' · ');
            },
          },
        ]}
      />
    </section>
  );
}
