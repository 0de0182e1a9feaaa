import type { HostView, NetworkView, NicView } from '@qnet/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { allRest, api, ApiError, get } from '../api';
import { Dialog } from '../components/dialog';
import {
  confirmed,
  DialogButtons,
  Field,
  FormError,
  HostOptions,
  useApiForm,
  useValues,
} from '../components/form';
import { ago, count, Status } from '../components/status';
import { Table } from '../components/table';
import { href } from '../router';

const TYPES = ['bridge', 'vlan', 'overlay'] as const;

export const useHosts = () =>
  useQuery({ queryKey: ['hosts'], queryFn: () => allRest<HostView>('/v1/hosts') });

/** Seed 003's Networks page: every network across hosts, searched and filtered by the API. */
export function NetworksPage() {
  const { values: filters, on: set } = useValues({
    name: '',
    type: '',
    bridge_name: '',
    host_id: '',
  });
  const [editing, setEditing] = useState<NetworkView | 'new' | undefined>();
  const [refused, setRefused] = useState<string>();
  const hosts = useHosts();
  const networks = useQuery({
    queryKey: ['networks', filters],
    queryFn: () => allRest<NetworkView>('/v1/networks', filters),
    placeholderData: (previous) => previous,
  });
  const client = useQueryClient();

  const remove = async (n: NetworkView) => {
    if (!confirmed(`Delete network ${n.name}?`)) return;
    setRefused(undefined);
    try {
      await api('DELETE', `/v1/networks/${n.id}`);
    } catch (err) {
      setRefused(err instanceof ApiError ? err.body.message : String(err));
    }
    await client.invalidateQueries({ queryKey: ['networks'] });
  };

  return (
    <section>
      <header className="page-head">
        <h1>Networks</h1>
        <button className="primary" onClick={() => setEditing('new')}>
          Create network
        </button>
      </header>
      <div className="filters" role="search">
        <input
          placeholder="Search by name"
          aria-label="Search"
          value={filters.name}
          onChange={set('name')}
        />
        <select aria-label="Type" value={filters.type} onChange={set('type')}>
          <option value="">All types</option>
          {TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <input
          placeholder="Bridge"
          aria-label="Bridge"
          value={filters.bridge_name}
          onChange={set('bridge_name')}
        />
        <select aria-label="Host" value={filters.host_id} onChange={set('host_id')}>
          <HostOptions hosts={hosts.data} first="All hosts" />
        </select>
        <span className="count">
          {networks.data ? count(networks.data.length, 'network') : 'loading…'}
        </span>
      </div>
      {refused && (
        <p className="form-error" role="alert">
          {refused}
        </p>
      )}
      {networks.error && <p className="form-error">{(networks.error as Error).message}</p>}
      <Table
        label="Networks"
        rows={networks.data ?? []}
        rowKey={(n) => n.id}
        empty="No network matches."
        columns={[
          {
            header: 'Name',
            width: '2fr',
            cell: (n) => <a href={href('networks', n.id)}>{n.name}</a>,
          },
          { header: 'Type', width: '80px', cell: (n) => n.type },
          { header: 'Bridge', width: '1fr', cell: (n) => n.bridge_name },
          { header: 'VLAN', width: '60px', cell: (n) => n.vlan_id ?? '—' },
          { header: 'CIDR', width: '1.2fr', cell: (n) => n.cidr ?? '—' },
          { header: 'Gateway', width: '1fr', cell: (n) => n.gateway ?? '—' },
          { header: 'VMs', width: '50px', cell: (n) => <span data-vms>{n.vm_count}</span> },
          {
            header: 'Host',
            width: '1fr',
            cell: (n) => n.host_id ?? (n.type === 'overlay' ? 'all members' : '—'),
          },
          {
            header: 'Actions',
            width: '150px',
            cell: (n) => (
              <span className="actions">
                <button onClick={() => setEditing(n)}>Edit</button>
                <button
                  className="danger"
                  disabled={n.vm_count > 0}
                  title={n.vm_count > 0 ? `detach its ${n.vm_count} VM(s) first` : 'delete'}
                  onClick={() => void remove(n)}
                >
                  Delete
                </button>
              </span>
            ),
          },
        ]}
      />
      {editing && (
        <NetworkDialog
          network={editing === 'new' ? undefined : editing}
          hosts={hosts.data ?? []}
          onClose={() => setEditing(undefined)}
          onSaved={() => {
            setEditing(undefined);
            void client.invalidateQueries({ queryKey: ['networks'] });
          }}
        />
      )}
    </section>
  );
}

/** Seed 003's create dialog; editing changes name, description, CIDR and gateway. */
function NetworkDialog(props: {
  network?: NetworkView;
  hosts: HostView[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const n = props.network;
  const { values: v, on: set } = useValues({
    name: n?.name ?? '',
    description: n?.description ?? '',
    network_type: 'bridge',
    bridge_name: '',
    vlan_id: '',
    host_id: '',
    cidr: n?.cidr ?? '',
    gateway: n?.gateway ?? '',
  });
  const opt = (s: string) => (s.trim() === '' ? undefined : s.trim());
  const form = useApiForm(
    () =>
      n
        ? api('PATCH', `/v1/networks/${n.id}`, {
            name: v.name,
            description: v.description,
            cidr: opt(v.cidr),
            gateway: opt(v.gateway),
          })
        : api('POST', '/v1/networks', {
            name: v.name,
            description: opt(v.description),
            network_type: v.network_type,
            bridge_name: opt(v.bridge_name),
            vlan_id: v.vlan_id.trim() === '' ? undefined : Number(v.vlan_id),
            host_id: opt(v.host_id),
            cidr: opt(v.cidr),
            gateway: opt(v.gateway),
          }),
    props.onSaved,
  );
  return (
    <Dialog title={n ? `Edit ${n.name}` : 'Create network'} onClose={props.onClose}>
      <form onSubmit={(e) => void form.onSubmit(e)} noValidate>
        <FormError error={form.error} />
        <Field label="Name" error={form.fieldError('name')}>
          <input name="name" value={v.name} onChange={set('name')} autoFocus />
        </Field>
        <Field label="Description" error={form.fieldError('description')}>
          <input name="description" value={v.description} onChange={set('description')} />
        </Field>
        {!n && (
          <>
            <Field label="Type" error={form.fieldError('network_type')}>
              <select name="network_type" value={v.network_type} onChange={set('network_type')}>
                {TYPES.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </Field>
            <Field label="Bridge name" error={form.fieldError('bridge_name')}>
              <input name="bridge_name" value={v.bridge_name} onChange={set('bridge_name')} />
            </Field>
            <Field label="VLAN (1–4094)" error={form.fieldError('vlan_id')}>
              <input
                name="vlan_id"
                inputMode="numeric"
                value={v.vlan_id}
                onChange={set('vlan_id')}
              />
            </Field>
            <Field label="Host" error={form.fieldError('host_id')}>
              <select name="host_id" value={v.host_id} onChange={set('host_id')}>
                <HostOptions hosts={props.hosts} first="— none (overlay: every member) —" />
              </select>
            </Field>
          </>
        )}
        <Field label="CIDR" error={form.fieldError('cidr')}>
          <input name="cidr" placeholder="10.100.0.0/24" value={v.cidr} onChange={set('cidr')} />
        </Field>
        <Field label="Gateway" error={form.fieldError('gateway')}>
          <input
            name="gateway"
            placeholder="10.100.0.1"
            value={v.gateway}
            onChange={set('gateway')}
          />
        </Field>
        <DialogButtons onCancel={props.onClose} busy={form.busy} submit={n ? 'Save' : 'Create'} />
      </form>
    </Dialog>
  );
}

/** One network: its hosts, NICs (VM, host, MAC, address — the static leases — and status). */
export function NetworkPage(props: { id: string }) {
  const network = useQuery({
    queryKey: ['network', props.id],
    queryFn: () => get<NetworkView>(`/v1/networks/${props.id}`),
  });
  const nics = useQuery({
    queryKey: ['nics', props.id],
    queryFn: () => allRest<NicView>(`/v1/networks/${props.id}/nics`),
  });
  const hosts = useHosts();
  const n = network.data;
  if (network.error) return <p className="form-error">{(network.error as Error).message}</p>;
  if (!n) return <p>loading…</p>;
  const health = new Map((hosts.data ?? []).map((h) => [h.id, h]));
  return (
    <section>
      <header className="page-head">
        <h1>
          <a href={href('networks')}>Networks</a> / {n.name}
        </h1>
        <span>
          <Status value={n.provisioning_status} /> <Status value={n.operating_status} />
        </span>
      </header>
      <dl className="facts">
        <dt>Type</dt>
        <dd>
          {n.type}
          {n.vni !== null ? ` (VNI ${n.vni})` : ''}
        </dd>
        <dt>Mode</dt>
        <dd>{n.mode}</dd>
        <dt>Bridge</dt>
        <dd>{n.bridge_name}</dd>
        <dt>CIDR / gateway</dt>
        <dd>
          {n.cidr ?? '—'} / {n.gateway ?? '—'}
        </dd>
        <dt>DHCP / DNS</dt>
        <dd>{n.dhcp && n.dns_domain ? `served (${n.dns_domain})` : 'not served'}</dd>
        <dt>MTU</dt>
        <dd>{n.mtu}</dd>
        <dt>Description</dt>
        <dd>{n.description || '—'}</dd>
      </dl>
      <h2>Hosts</h2>
      <Table
        label="Network hosts"
        rows={n.host_ids}
        rowKey={(h) => h}
        empty="Not realized on any host yet."
        maxHeight={200}
        columns={[
          { header: 'Host', cell: (h) => h },
          { header: 'Health', cell: (h) => <Status value={health.get(h)?.health} /> },
          { header: 'Applied (linux)', cell: (h) => health.get(h)?.applied?.linux ?? '—' },
          { header: 'Last heartbeat', cell: (h) => ago(health.get(h)?.last_seen_at) },
        ]}
      />
      <h2>NICs ({nics.data?.length ?? '…'})</h2>
      <Table
        label="NICs"
        rows={nics.data ?? []}
        rowKey={(x) => x.id}
        empty="No NIC is attached."
        columns={[
          { header: 'VM', width: '1.5fr', cell: (x) => x.vm_id },
          { header: 'Host', cell: (x) => x.host_id },
          { header: 'MAC', cell: (x) => x.guest_mac },
          { header: 'Address (lease)', cell: (x) => x.ip_address ?? '—' },
          { header: 'Name', cell: (x) => x.hostname ?? '—' },
          { header: 'Status', cell: (x) => <Status value={x.provisioning_status} /> },
        ]}
      />
    </section>
  );
}
