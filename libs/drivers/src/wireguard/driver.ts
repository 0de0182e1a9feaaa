import { existsSync } from 'node:fs';
import {
  WIREGUARD_INTERFACE_PREFIX,
  type WireguardObserved,
  type WireguardSpec,
} from '@qnet/contracts';
import type { Driver } from '../driver.js';
import type { Executor } from '../executor.js';
import { readForwarding } from '../forwarding.js';
import { fingerprintOf, observeTable } from '../nft.js';
import { parseAddrLinks } from '../ip-addr.js';
import { parseWgDump, type ObservedWgInterface } from './observed.js';
import { planWireguard, VPN_TABLE, type WireguardObservedHost } from './plan.js';
import { renderVpnTableBody } from './render.js';
import { parseWireguardSpec } from './spec.js';

/**
 * The host's VPN interfaces: links named qwg… in this namespace (wireguard-go keeps its control
 * sockets in one directory for every namespace, so the link list, not `wg show interfaces`, says
 * which interfaces are ours), each read with `wg show <if> dump`.
 */
async function observeInterfaces(exec: Executor): Promise<ObservedWgInterface[]> {
  const links = parseAddrLinks(
    (await exec.read(['ip', '-j', 'address', 'show'])).stdout,
    WIREGUARD_INTERFACE_PREFIX,
  );
  const out: ObservedWgInterface[] = [];
  for (const l of links)
    out.push({ ...l, ...parseWgDump((await exec.read(['wg', 'show', l.name, 'dump'])).stdout) });
  return out;
}

async function observeWireguard(exec: Executor): Promise<WireguardObservedHost> {
  return {
    interfaces: await observeInterfaces(exec),
    kernel: existsSync('/sys/module/wireguard'),
    forwarding: await readForwarding(exec),
    table: await observeTable(exec, VPN_TABLE),
  };
}

function assumeApplied(spec: WireguardSpec): WireguardObservedHost {
  const body = renderVpnTableBody(spec.interfaces);
  return {
    interfaces: spec.interfaces.map((x) => ({
      name: x.name,
      up: true,
      addresses: [x.address],
      private_key: x.private_key,
      public_key: '',
      listen_port: x.listen_port,
      peers: x.peers.map((p) => ({
        public_key: p.public_key,
        preshared_key: p.preshared_key,
        allowed_ips: [p.allowed_ip],
        endpoint: '',
        latest_handshake: 0,
        rx_bytes: 0,
        tx_bytes: 0,
        persistent_keepalive: 0,
      })),
    })),
    kernel: false,
    forwarding: { v4: true, v6: true },
    table: body ? fingerprintOf(body) : undefined,
  };
}

/** Handshakes and traffic per peer — never a key other than public ones. */
async function wireguardStatus(exec: Executor): Promise<WireguardObserved> {
  if (exec.mode === 'dry-run') return { interfaces: [] };
  return {
    interfaces: (await observeInterfaces(exec)).map((x) => ({
      name: x.name,
      public_key: x.public_key,
      listen_port: x.listen_port,
      peers: x.peers.map((p) => ({
        public_key: p.public_key,
        endpoint: p.endpoint,
        latest_handshake: p.latest_handshake,
        rx_bytes: p.rx_bytes,
        tx_bytes: p.tx_bytes,
      })),
    })),
  };
}

/** VPN gateways: WireGuard interfaces (kernel or wireguard-go), their peers, isolation and NAT. */
export const wireguardDriver: Driver<WireguardSpec, WireguardObservedHost> = {
  name: 'wireguard',
  parse: parseWireguardSpec,
  observe: observeWireguard,
  plan: planWireguard,
  assumeApplied,
  status: wireguardStatus,
};
