import type { TunnelEndpointRouter, TunnelEndpointSpec, TunnelRouterSpec } from '@qnet/contracts';

/** A router's WireGuard document for `wg syncconf`: its listener and one peer per endpoint. */
export function renderRouterWgConf(r: TunnelRouterSpec, privateKey: string): string {
  const lines = ['[Interface]', `PrivateKey = ${privateKey}`, `ListenPort = ${r.listen_port}`];
  for (const p of r.peers)
    lines.push(
      '',
      '[Peer]',
      `PublicKey = ${p.public_key}`,
      `PresharedKey = ${p.preshared_key}`,
      `AllowedIPs = ${p.ipv4}/32, ${p.ipv6}/128`,
    );
  return lines.join('\n') + '\n';
}

/**
 * One of an endpoint's tunnels: a single peer, its router, for every destination — which tunnel a
 * packet takes is the kernel's routing table's choice, so moving the routes moves the traffic.
 */
export function renderEndpointWgConf(
  e: TunnelEndpointSpec,
  router: TunnelEndpointRouter,
  privateKey: string,
): string {
  return [
    '[Interface]',
    `PrivateKey = ${privateKey}`,
    '',
    '[Peer]',
    `PublicKey = ${router.public_key}`,
    `PresharedKey = ${e.preshared_key}`,
    `Endpoint = ${router.endpoint}`,
    'AllowedIPs = 0.0.0.0/0, ::/0',
    `PersistentKeepalive = ${e.keepalive_s}`,
    '',
  ].join('\n');
}

/**
 * A routing server's forwarding policy and NAT (`inet qnet_tunnel`): what arrives through the
 * tunnel leaves only through the egress interface, masqueraded, so the business network needs no
 * route back to the tunnel pools and endpoints cannot reach each other through the router.
 */
export function renderTunnelTableBody(r: TunnelRouterSpec, egress: string): string {
  const tun = `iifname "${r.interface_name}"`;
  return (
    '  chain forward {\n' +
    '    type filter hook forward priority filter; policy accept;\n' +
    `    ${tun} oifname "${egress}" accept\n` +
    `    ${tun} drop\n` +
    '  }\n' +
    '  chain postrouting {\n' +
    '    type nat hook postrouting priority srcnat; policy accept;\n' +
    `    ${tun} oifname "${egress}" masquerade\n` +
    '  }\n'
  );
}
