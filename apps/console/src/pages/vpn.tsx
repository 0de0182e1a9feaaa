import type {
  AuditEventView,
  ClientConfigView,
  VpnConnectionView,
  VpnServiceView,
  VpnStatusView,
} from '@qnet/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { allPages, api, get } from '../api';
import { Dialog } from '../components/dialog';
import { confirmed, Field, FormError, useApiForm } from '../components/form';
import { ago, bytes, count, Status } from '../components/status';
import { Table } from '../components/table';
import { href } from '../router';
import { usePlacement } from './hosts';

export function VpnServicesPage() {
  const { vpn } = usePlacement();
  return (
    <section>
      <header className="page-head">
        <h1>VPN</h1>
        <span className="count">{count(vpn.length, 'gateway')}</span>
      </header>
      <Table
        label="VPN services"
        rows={vpn}
        rowKey={(s) => s.id}
        empty="No VPN gateway yet."
        columns={[
          { header: 'Name', width: '1.5fr', cell: (s) => <a href={href('vpn', s.id)}>{s.name}</a> },
          { header: 'Endpoint', cell: (s) => `${s.external_ip}:${s.listen_port}` },
          { header: 'Client pool', cell: (s) => s.client_pool },
          { header: 'Subnets', width: '1.5fr', cell: (s) => s.local_subnets.join(', ') },
          { header: 'Host', cell: (s) => s.host_id },
          { header: 'Status', cell: (s) => <Status value={s.operating_status} /> },
        ]}
      />
    </section>
  );
}

/** A text file the browser saves, from memory. */
function download(filename: string, text: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  a.download = filename;
  a.click();
  URL.revokeObjectURL(a.href);
}

/**
 * One gateway: its clients with handshake age and traffic, each client's config (download, QR
 * code), key rotation, the audit log.
 */
export function VpnServicePage(props: { id: string }) {
  const client = useQueryClient();
  const base = `/api/v1/vpn-services/${props.id}`;
  const service = useQuery({
    queryKey: ['vpn', props.id],
    queryFn: () => get<VpnServiceView>(base),
  });
  const connections = useQuery({
    queryKey: ['vpn', props.id, 'connections'],
    queryFn: () => allPages<VpnConnectionView>(`${base}/connections`, 'connections'),
  });
  const status = useQuery({
    queryKey: ['vpn', props.id, 'status'],
    queryFn: () => get<VpnStatusView>(`${base}/status`),
    refetchInterval: 5_000,
  });
  const audit = useQuery({
    queryKey: ['vpn', props.id, 'audit'],
    queryFn: () => allPages<AuditEventView>(`${base}/audit-events`, 'events', {}, 200),
  });
  const [config, setConfig] = useState<ClientConfigView & { privateKey?: string }>();
  const [name, setName] = useState('');
  const refresh = () => client.invalidateQueries({ queryKey: ['vpn', props.id] });
  const showConfig = async (c: VpnConnectionView, privateKey?: string) =>
    setConfig({
      ...(await get<ClientConfigView>(`${base}/connections/${c.id}/config`)),
      privateKey,
    });
  const add = useApiForm(
    () => api<VpnConnectionView>('POST', `${base}/connections`, { name }),
    (c) => {
      setName('');
      void refresh();
      void showConfig(c, c.private_key);
    },
  );
  const s = service.data;
  if (service.error) return <p className="form-error">{(service.error as Error).message}</p>;
  if (!s) return <p>loading…</p>;
  const live = new Map((status.data?.connections ?? []).map((c) => [c.connection_id, c]));
  const act = async (what: string, method: string, path: string) => {
    if (!confirmed(what)) return;
    await api(method, path, method === 'POST' ? {} : undefined);
    await refresh();
  };
  return (
    <section>
      <header className="page-head">
        <h1>
          <a href={href('vpn')}>VPN</a> / {s.name}
        </h1>
        <span>
          <Status value={s.provisioning_status} />{' '}
          <Status value={status.data?.operating_status ?? s.operating_status} />{' '}
          <button
            onClick={() =>
              void act(
                `Rotate the gateway key of ${s.name}? Every client needs its new config.`,
                'POST',
                `${base}/rotate-key`,
              )
            }
          >
            Rotate gateway key
          </button>
        </span>
      </header>
      <dl className="facts">
        <dt>Endpoint</dt>
        <dd>
          {s.external_ip}:{s.listen_port} on {s.host_id} ({s.interface_name})
        </dd>
        <dt>Public key</dt>
        <dd className="mono">{s.public_key}</dd>
        <dt>Clients reach</dt>
        <dd>{s.local_subnets.join(', ')}</dd>
      </dl>
      <h2>Connections</h2>
      <Table
        label="Connections"
        rows={connections.data ?? []}
        rowKey={(c) => c.id}
        empty="No client yet."
        columns={[
          { header: 'Name', cell: (c) => c.name },
          { header: 'Address', cell: (c) => c.peer_address },
          {
            header: 'Connected',
            width: '90px',
            cell: (c) => <Status value={live.get(c.id)?.connected ?? false} />,
          },
          {
            header: 'Handshake',
            width: '90px',
            cell: (c) => ago(live.get(c.id)?.latest_handshake),
          },
          {
            header: 'Traffic',
            cell: (c) => {
              const l = live.get(c.id);
              return l ? `↓ ${bytes(l.rx_bytes)} ↑ ${bytes(l.tx_bytes)}` : '—';
            },
          },
          {
            header: '',
            width: '270px',
            cell: (c) => (
              <span className="actions">
                <button onClick={() => void showConfig(c)}>Config</button>
                <button
                  onClick={() =>
                    void act(
                      `Rotate the key of ${c.name}?`,
                      'POST',
                      `${base}/connections/${c.id}/rotate-key`,
                    )
                  }
                >
                  Rotate key
                </button>
                <button
                  className="danger"
                  onClick={() =>
                    void act(`Remove ${c.name}?`, 'DELETE', `${base}/connections/${c.id}`)
                  }
                >
                  Remove
                </button>
              </span>
            ),
          },
        ]}
      />
      <form className="inline" onSubmit={(e) => void add.onSubmit(e)} noValidate>
        <FormError error={add.error} />
        <Field label="New client" error={add.fieldError('name')}>
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="alice-laptop"
          />
        </Field>
        <button type="submit" className="primary" disabled={add.busy}>
          Add connection
        </button>
      </form>
      <h2>Audit log</h2>
      <Table
        label="Audit log"
        rows={audit.data ?? []}
        rowKey={(e) => e.id}
        maxHeight={300}
        columns={[
          { header: 'When', width: '180px', cell: (e) => new Date(e.occurred_at).toLocaleString() },
          { header: 'Action', width: '1fr', cell: (e) => e.action },
          { header: 'Actor', width: '1fr', cell: (e) => e.actor },
          { header: 'Detail', width: '2fr', cell: (e) => e.detail },
        ]}
      />
      {config && (
        <Dialog title={`Client config: ${config.filename}`} onClose={() => setConfig(undefined)}>
          {config.privateKey && (
            <p>
              Its private key, shown this once: <code className="mono">{config.privateKey}</code>
            </p>
          )}
          <img
            className="qr"
            alt="QR code of the client config"
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(config.qr_svg)}`}
          />
          <pre className="config">{config.config}</pre>
          <footer>
            <button className="primary" onClick={() => download(config.filename, config.config)}>
              Download {config.filename}
            </button>
          </footer>
        </Dialog>
      )}
    </section>
  );
}
