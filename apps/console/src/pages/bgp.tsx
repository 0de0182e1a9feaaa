import type { BgpAdvertisementView, BgpPeerView, BgpSpeakerView } from '@qnet/contracts';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { allPages, api, get } from '../api';
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
import { Status } from '../components/status';
import { Table } from '../components/table';
import { href } from '../router';
import { usePlacement } from './hosts';
import { useHosts } from './networks';

/** Seed 001's BGP speakers page. */
export function BgpSpeakersPage() {
  const { speakers } = usePlacement();
  const [creating, setCreating] = useState(false);
  return (
    <section>
      <header className="page-head">
        <h1>BGP speakers</h1>
        <button className="primary" onClick={() => setCreating(true)}>
          Create speaker
        </button>
      </header>
      <Table
        label="BGP speakers"
        rows={speakers}
        rowKey={(s) => s.id}
        empty="No speaker yet."
        columns={[
          { header: 'Name', width: '1.5fr', cell: (s) => <a href={href('bgp', s.id)}>{s.name}</a> },
          { header: 'Node', cell: (s) => s.node_id },
          { header: 'ASN', width: '110px', cell: (s) => s.local_asn },
          { header: 'Router ID', cell: (s) => s.router_id },
          { header: 'Phase', cell: (s) => <Status value={s.status.phase} /> },
          { header: 'Established peers', width: '130px', cell: (s) => s.status.established_peers },
        ]}
      />
      {creating && <SpeakerDialog onClose={() => setCreating(false)} />}
    </section>
  );
}

function SpeakerDialog(props: { onClose: () => void }) {
  const client = useQueryClient();
  const hosts = useHosts();
  const { values: v, on: set } = useValues({ name: '', node_id: '', local_asn: '', router_id: '' });
  const form = useApiForm(
    () =>
      api('POST', '/api/v1/bgp-speakers', {
        ...(v.name ? { name: v.name } : {}),
        spec: { node_id: v.node_id, local_asn: Number(v.local_asn), router_id: v.router_id },
      }),
    () => {
      props.onClose();
      void client.invalidateQueries({ queryKey: ['bgp'] });
    },
  );
  return (
    <Dialog title="Create speaker" onClose={props.onClose}>
      <form onSubmit={(e) => void form.onSubmit(e)} noValidate>
        <FormError error={form.error} />
        <Field label="Name" error={form.fieldError('name')}>
          <input name="name" value={v.name} onChange={set('name')} placeholder="speaker-<node>" />
        </Field>
        <Field label="Node" error={form.fieldError('spec.node_id')}>
          <select name="node_id" value={v.node_id} onChange={set('node_id')}>
            <HostOptions hosts={hosts.data} first="— choose a host —" />
          </select>
        </Field>
        <Field label="Local ASN" error={form.fieldError('spec.local_asn')}>
          <input
            name="local_asn"
            inputMode="numeric"
            value={v.local_asn}
            onChange={set('local_asn')}
          />
        </Field>
        <Field label="Router ID" error={form.fieldError('spec.router_id')}>
          <input
            name="router_id"
            value={v.router_id}
            onChange={set('router_id')}
            placeholder="192.0.2.10"
          />
        </Field>
        <DialogButtons onCancel={props.onClose} busy={form.busy} submit="Create" />
      </form>
    </Dialog>
  );
}

/** One speaker: peers with their sessions, advertisements with their active flags. */
export function BgpSpeakerPage(props: { id: string }) {
  const client = useQueryClient();
  const base = `/api/v1/bgp-speakers/${props.id}`;
  const refresh = () => client.invalidateQueries({ queryKey: ['bgp'] });
  const speaker = useQuery({
    queryKey: ['bgp', props.id],
    queryFn: () => get<BgpSpeakerView>(base),
  });
  const peers = useQuery({
    queryKey: ['bgp', props.id, 'peers'],
    queryFn: () => allPages<BgpPeerView>(`${base}/peers`, 'peers'),
    refetchInterval: 5_000,
  });
  const ads = useQuery({
    queryKey: ['bgp', props.id, 'advertisements'],
    queryFn: () => allPages<BgpAdvertisementView>(`${base}/advertisements`, 'advertisements'),
    refetchInterval: 5_000,
  });
  const peerForm = useValues({ name: '', peer_ip: '', remote_asn: '', md5_password: '' });
  const adForm = useValues({ cidr: '', local_preference: '', communities: '' });
  const peer = peerForm.values;
  const ad = adForm.values;
  const addPeer = useApiForm(
    () =>
      api('POST', `${base}/peers`, {
        name: peer.name,
        peer_ip: peer.peer_ip,
        remote_asn: Number(peer.remote_asn),
        ...(peer.md5_password ? { md5_password: peer.md5_password } : {}),
      }),
    () => {
      peerForm.reset();
      void refresh();
    },
  );
  const advertise = useApiForm(
    () =>
      api('POST', `${base}/advertisements`, {
        cidr: ad.cidr,
        ...(ad.local_preference ? { local_preference: Number(ad.local_preference) } : {}),
        ...(ad.communities ? { communities: ad.communities.split(/[\s,]+/).filter(Boolean) } : {}),
      }),
    () => {
      adForm.reset();
      void refresh();
    },
  );
  const s = speaker.data;
  if (speaker.error) return <p className="form-error">{(speaker.error as Error).message}</p>;
  if (!s) return <p>loading…</p>;
  const remove = async (what: string, path: string) => {
    if (!confirmed(what)) return;
    await api('DELETE', path);
    await refresh();
  };
  return (
    <section>
      <header className="page-head">
        <h1>
          <a href={href('bgp')}>BGP speakers</a> / {s.name}
        </h1>
        <span>
          <Status value={s.status.phase} /> AS{s.local_asn} · router ID {s.router_id} · node{' '}
          {s.node_id}
        </span>
      </header>
      {s.status.error_message && <p className="form-error">{s.status.error_message}</p>}
      <h2>Peers</h2>
      <Table
        label="Peers"
        rows={peers.data ?? []}
        rowKey={(p) => p.id}
        empty="No peer yet."
        columns={[
          { header: 'Name', cell: (p) => p.name },
          { header: 'Address', cell: (p) => p.peer_address },
          { header: 'ASN', width: '100px', cell: (p) => p.peer_asn },
          { header: 'State', cell: (p) => <Status value={p.status.state} /> },
          { header: 'Received', width: '80px', cell: (p) => p.status.prefixes_received },
          { header: 'Sent', width: '60px', cell: (p) => p.status.prefixes_sent },
          { header: 'Uptime', width: '80px', cell: (p) => p.status.uptime || '—' },
          { header: 'MD5', width: '60px', cell: (p) => (p.has_password ? 'set' : '—') },
          { header: 'Last error', width: '1.5fr', cell: (p) => p.status.last_error || '—' },
          {
            header: '',
            width: '90px',
            cell: (p) => (
              <button
                className="danger"
                onClick={() => void remove(`Remove peer ${p.name}?`, `${base}/peers/${p.id}`)}
              >
                Remove
              </button>
            ),
          },
        ]}
      />
      <form
        className="inline"
        onSubmit={(e) => void addPeer.onSubmit(e)}
        noValidate
        aria-label="Add peer"
      >
        <FormError error={addPeer.error} />
        <Field label="Peer name" error={addPeer.fieldError('name')}>
          <input value={peer.name} onChange={peerForm.on('name')} />
        </Field>
        <Field label="Peer IP" error={addPeer.fieldError('peer_ip')}>
          <input value={peer.peer_ip} onChange={peerForm.on('peer_ip')} />
        </Field>
        <Field label="Remote ASN" error={addPeer.fieldError('remote_asn')}>
          <input inputMode="numeric" value={peer.remote_asn} onChange={peerForm.on('remote_asn')} />
        </Field>
        <Field label="MD5 password (write-only)" error={addPeer.fieldError('md5_password')}>
          <input
            type="password"
            autoComplete="new-password"
            value={peer.md5_password}
            onChange={peerForm.on('md5_password')}
          />
        </Field>
        <button type="submit" className="primary" disabled={addPeer.busy}>
          Add peer
        </button>
      </form>
      <h2>Advertisements</h2>
      <Table
        label="Advertisements"
        rows={ads.data ?? []}
        rowKey={(a) => a.id}
        empty="Nothing advertised."
        columns={[
          { header: 'Prefix', cell: (a) => a.prefix },
          { header: 'Next hop', cell: (a) => a.next_hop || 'self' },
          { header: 'Communities', width: '1.5fr', cell: (a) => a.communities.join(' ') || '—' },
          { header: 'Local pref', width: '90px', cell: (a) => a.local_pref },
          { header: 'Active', width: '80px', cell: (a) => <Status value={a.active} /> },
          {
            header: '',
            width: '100px',
            cell: (a) => (
              <button
                className="danger"
                onClick={() =>
                  void remove(`Withdraw ${a.prefix}?`, `${base}/advertisements/${a.id}`)
                }
              >
                Withdraw
              </button>
            ),
          },
        ]}
      />
      <form
        className="inline"
        onSubmit={(e) => void advertise.onSubmit(e)}
        noValidate
        aria-label="Advertise"
      >
        <FormError error={advertise.error} />
        <Field label="Prefix" error={advertise.fieldError('cidr')}>
          <input value={ad.cidr} onChange={adForm.on('cidr')} placeholder="10.0.1.0/24" />
        </Field>
        <Field label="Local preference" error={advertise.fieldError('local_preference')}>
          <input
            inputMode="numeric"
            value={ad.local_preference}
            onChange={adForm.on('local_preference')}
          />
        </Field>
        <Field label="Communities" error={advertise.fieldError('communities')}>
          <input
            value={ad.communities}
            onChange={adForm.on('communities')}
            placeholder="65001:100 no-export"
          />
        </Field>
        <button type="submit" className="primary" disabled={advertise.busy}>
          Advertise
        </button>
      </form>
    </section>
  );
}
