import type { LoadBalancerStatsView, LoadBalancerView } from '@qnet/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, get } from '../api';
import { confirmed, Field, FormError, useApiForm, useValues } from '../components/form';
import { bytes, count, Status } from '../components/status';
import { Table } from '../components/table';
import { href } from '../router';
import { usePlacement } from './hosts';

export function LoadBalancersPage() {
  const { lbs } = usePlacement();
  return (
    <section>
      <header className="page-head">
        <h1>Load balancers</h1>
        <span className="count">{count(lbs.length, 'load balancer')}</span>
      </header>
      <Table
        label="Load balancers"
        rows={lbs}
        rowKey={(b) => b.id}
        empty="No load balancer yet."
        columns={[
          { header: 'Name', width: '1.5fr', cell: (b) => <a href={href('lbs', b.id)}>{b.name}</a> },
          { header: 'VIP', cell: (b) => b.vip },
          { header: 'Protocol', width: '80px', cell: (b) => b.protocol },
          { header: 'Algorithm', cell: (b) => b.algorithm },
          { header: 'Provider', width: '90px', cell: (b) => b.provider },
          { header: 'Host', cell: (b) => b.host_id },
          {
            header: 'Listeners',
            width: '80px',
            cell: (b) => b.listeners.map((l) => l.port).join(', '),
          },
          { header: 'Members', width: '80px', cell: (b) => b.members.length },
          { header: 'Status', cell: (b) => <Status value={b.operating_status} /> },
        ]}
      />
    </section>
  );
}

/** One load balancer: listeners, members with live health and connections, its health check. */
export function LoadBalancerPage(props: { id: string }) {
  const client = useQueryClient();
  const lb = useQuery({
    queryKey: ['lb', props.id],
    queryFn: () => get<LoadBalancerView>(`/api/v1/load-balancers/${props.id}`),
  });
  const stats = useQuery({
    queryKey: ['lb', props.id, 'stats'],
    queryFn: () => get<LoadBalancerStatsView>(`/api/v1/load-balancers/${props.id}/stats`),
    refetchInterval: 5_000,
  });
  const memberForm = useValues({ address: '', port: '' });
  const member = memberForm.values;
  const add = useApiForm(
    () =>
      api('POST', `/api/v1/load-balancers/${props.id}/members`, {
        address: member.address,
        port: Number(member.port),
      }),
    () => {
      memberForm.reset();
      void client.invalidateQueries({ queryKey: ['lb'] });
    },
  );
  const b = lb.data;
  if (lb.error) return <p className="form-error">{(lb.error as Error).message}</p>;
  if (!b) return <p>loading…</p>;
  const live = new Map((stats.data?.members ?? []).map((m) => [m.member_id, m]));
  const remove = async (id: string, address: string) => {
    if (!confirmed(`Remove member ${address}?`)) return;
    await api('DELETE', `/api/v1/load-balancers/${b.id}/members/${id}`);
    await client.invalidateQueries({ queryKey: ['lb'] });
  };
  const hc = b.health_check;
  return (
    <section>
      <header className="page-head">
        <h1>
          <a href={href('lbs')}>Load balancers</a> / {b.name}
        </h1>
        <span>
          <Status value={b.provisioning_status} /> <Status value={b.operating_status} />
        </span>
      </header>
      <dl className="facts">
        <dt>VIP</dt>
        <dd>
          {b.vip} ({b.protocol}, {b.algorithm})
        </dd>
        <dt>Host / provider</dt>
        <dd>
          {b.host_id} / {b.provider}
        </dd>
        <dt>Listeners</dt>
        <dd>{b.listeners.map((l) => `${l.name || l.protocol} :${l.port}`).join(', ') || '—'}</dd>
        <dt>Health check</dt>
        <dd>
          {hc
            ? `${hc.protocol} every ${hc.interval_sec} s, timeout ${hc.timeout_sec} s, down after ${hc.unhealthy_threshold}, up after ${hc.healthy_threshold}`
            : 'none'}
        </dd>
        <dt>Traffic</dt>
        <dd>
          {stats.data
            ? `${stats.data.active_connections} active, ${stats.data.total_connections} in all; in ${bytes(stats.data.bytes_in)}, out ${bytes(stats.data.bytes_out)}`
            : '—'}
        </dd>
      </dl>
      <h2>Members</h2>
      <Table
        label="Members"
        rows={b.members}
        rowKey={(m) => m.id}
        empty="No member yet."
        columns={[
          { header: 'Address', cell: (m) => `${m.address}:${m.port}` },
          { header: 'Weight', width: '70px', cell: (m) => m.weight },
          {
            header: 'Health',
            cell: (m) => <Status value={live.get(m.id)?.operating_status ?? m.operating_status} />,
          },
          { header: 'Active', width: '70px', cell: (m) => live.get(m.id)?.active_connections ?? 0 },
          { header: 'Total', width: '70px', cell: (m) => live.get(m.id)?.total_connections ?? 0 },
          {
            header: '',
            width: '90px',
            cell: (m) => (
              <button className="danger" onClick={() => void remove(m.id, m.address)}>
                Remove
              </button>
            ),
          },
        ]}
      />
      <form className="inline" onSubmit={(e) => void add.onSubmit(e)} noValidate>
        <FormError error={add.error} />
        <Field label="Member address" error={add.fieldError('address')}>
          <input value={member.address} onChange={memberForm.on('address')} />
        </Field>
        <Field label="Port" error={add.fieldError('port')}>
          <input inputMode="numeric" value={member.port} onChange={memberForm.on('port')} />
        </Field>
        <button type="submit" className="primary" disabled={add.busy}>
          Add member
        </button>
      </form>
    </section>
  );
}
