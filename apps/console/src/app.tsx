import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { get, token, whenUnauthenticated } from './api';
import { Field } from './components/form';
import { followEvents, useEventLog } from './events';
import { BgpSpeakerPage, BgpSpeakersPage } from './pages/bgp';
import { EventsPage } from './pages/events';
import { HostsPage } from './pages/hosts';
import { LoadBalancerPage, LoadBalancersPage } from './pages/lbs';
import { NetworkPage, NetworksPage } from './pages/networks';
import { TopologyPage } from './pages/topology';
import { TunnelsPage } from './pages/tunnels';
import { VpnServicePage, VpnServicesPage } from './pages/vpn';
import { href, useRoute } from './router';

const NAV = [
  ['networks', 'Networks'],
  ['hosts', 'Hosts'],
  ['lbs', 'Load balancers'],
  ['vpn', 'VPN'],
  ['bgp', 'BGP'],
  ['tunnels', 'Tunnels'],
  ['topology', 'Topology'],
  ['events', 'Events'],
] as const;

function Page() {
  const { page, id } = useRoute();
  switch (page) {
    case 'networks':
      return id ? <NetworkPage id={id} /> : <NetworksPage />;
    case 'hosts':
      return <HostsPage />;
    case 'lbs':
      return id ? <LoadBalancerPage id={id} /> : <LoadBalancersPage />;
    case 'vpn':
      return id ? <VpnServicePage id={id} /> : <VpnServicesPage />;
    case 'bgp':
      return id ? <BgpSpeakerPage id={id} /> : <BgpSpeakersPage />;
    case 'tunnels':
      return <TunnelsPage />;
    case 'topology':
      return <TopologyPage />;
    case 'events':
      return <EventsPage />;
    default:
      return <p>No such page.</p>;
  }
}

/** Asks for a bearer token when the gateway requires one; kept in this tab's session storage. */
function SignIn(props: { onSignedIn: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    token.set(value.trim());
    try {
      await get('/v1/hosts?page_size=1');
      props.onSignedIn();
    } catch {
      token.clear();
      setError('The gateway did not take this token.');
    }
  };
  return (
    <form className="signin" onSubmit={(e) => void submit(e)}>
      <h1>QuantumNet</h1>
      <p>This gateway requires an API token.</p>
      <Field label="Token">
        <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
      </Field>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary">
        Sign in
      </button>
    </form>
  );
}

export function App() {
  const client = useQueryClient();
  const [signedIn, setSignedIn] = useState<boolean | undefined>();
  const { page } = useRoute();
  const { connected } = useEventLog();
  useEffect(() => {
    whenUnauthenticated(() => setSignedIn(false));
    get('/v1/hosts?page_size=1').then(
      () => setSignedIn(true),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    if (!signedIn) return;
    const stop = new AbortController();
    void followEvents(client, stop.signal);
    return () => stop.abort();
  }, [signedIn, client]);
  if (signedIn === false) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return (
    <div className="shell">
      <nav>
        <strong className="brand">QuantumNet</strong>
        {NAV.map(([p, label]) => (
          <a key={p} href={href(p)} className={page === p ? 'current' : ''}>
            {label}
          </a>
        ))}
        <span className={connected ? 'live on' : 'live'} title="the event stream">
          {connected ? '● live' : '○ offline'}
        </span>
        {token.get() && (
          <button
            className="link"
            onClick={() => {
              token.clear();
              setSignedIn(false);
            }}
          >
            Sign out
          </button>
        )}
      </nav>
      <main>{signedIn === undefined ? <p>connecting…</p> : <Page />}</main>
    </div>
  );
}
