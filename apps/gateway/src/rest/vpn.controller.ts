import { VpnRpc } from '@qnet/contracts';
import { restController } from './rest-routes.js';

const SERVICE = { id: 'vpn_service_id' };
const CONNECTION = { ...SERVICE, connection_id: 'connection_id' };

/** REST face of the WireGuard bastion (API 000, docs/compatibility.md); the Connect paths work as well. */
export const VpnRestController = restController({
  name: 'VpnRestController',
  tag: 'vpn',
  base: 'api/v1/vpn-services',
  routes: {
    list: {
      verb: 'GET',
      path: '',
      from: 'query',
      rpc: VpnRpc.ListVpnServices,
      summary: 'List VPN services (filters: project_id, network_id; page_size, page_token)',
    },
    create: {
      verb: 'POST',
      path: '',
      rpc: VpnRpc.CreateVpnService,
      summary: 'Create a WireGuard gateway on a WireGuard-capable host',
    },
    get: {
      verb: 'GET',
      path: ':id',
      params: { id: 'id' },
      rpc: VpnRpc.GetVpnService,
      summary: 'Get a VPN service',
    },
    delete: {
      verb: 'DELETE',
      path: ':id',
      params: { id: 'id' },
      status: 204,
      rpc: VpnRpc.DeleteVpnService,
      summary: 'Delete a VPN service, its connections and its interface',
    },
    status: {
      verb: 'GET',
      path: ':id/status',
      params: SERVICE,
      rpc: VpnRpc.GetVpnStatus,
      summary: 'Handshakes and traffic per connection, as the gateway reports them',
    },
    rotateGatewayKey: {
      verb: 'POST',
      path: ':id/rotate-key',
      params: SERVICE,
      status: 200,
      rpc: VpnRpc.RotateGatewayKey,
      summary: "New gateway key pair (clients need the new config's public key)",
    },
    audit: {
      verb: 'GET',
      path: ':id/audit-events',
      from: 'query',
      params: SERVICE,
      rpc: VpnRpc.ListAuditEvents,
      summary: 'Audit trail: who created, removed, rotated; handshakes seen',
    },
    connections: {
      verb: 'GET',
      path: ':id/connections',
      from: 'query',
      params: SERVICE,
      rpc: VpnRpc.ListConnections,
      summary: "List a service's connections (page_size, page_token)",
    },
    addConnection: {
      verb: 'POST',
      path: ':id/connections',
      params: SERVICE,
      rpc: VpnRpc.AddConnection,
      summary: 'Add a client; without peer_public_key the private key is returned once',
    },
    removeConnection: {
      verb: 'DELETE',
      path: ':id/connections/:connection_id',
      params: CONNECTION,
      status: 204,
      rpc: VpnRpc.RemoveConnection,
      summary: 'Remove a client: its peer leaves the gateway at once',
    },
    config: {
      verb: 'GET',
      path: ':id/connections/:connection_id/config',
      params: CONNECTION,
      rpc: VpnRpc.GetClientConfig,
      summary: "The client's wg-quick config (and as a QR code SVG)",
    },
    rotateConnectionKey: {
      verb: 'POST',
      path: ':id/connections/:connection_id/rotate-key',
      params: CONNECTION,
      status: 200,
      rpc: VpnRpc.RotateConnectionKey,
      summary: 'New client key (given, or generated and returned once)',
    },
    setPresharedKey: {
      verb: 'POST',
      path: ':id/connections/:connection_id/preshared-key',
      params: CONNECTION,
      status: 200,
      rpc: VpnRpc.SetPresharedKey,
      summary: 'Set a preshared key (given, or generated and returned once)',
    },
  },
});
