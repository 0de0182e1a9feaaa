import type {
  OperatingStatus,
  ProvisioningStatus,
  VpnConnectionView,
  VpnServiceView,
} from '@qnet/contracts';
import type { ConnectionRow, ServiceRow } from './vpn.repository.js';

type Progress = Pick<ServiceRow, 'generation' | 'created_generation' | 'applied' | 'error'>;

/** Octavia-style: ACTIVE once the host's agent applied the row's generation (or a later one). */
export function provisioningOf(r: Progress): ProvisioningStatus {
  if (Number(r.applied) >= Number(r.generation)) return 'ACTIVE';
  if (r.error) return 'ERROR';
  return r.generation === r.created_generation ? 'PENDING_CREATE' : 'PENDING_UPDATE';
}

/** ONLINE while its agent reports and has applied it; DEGRADED when a later change failed. */
export function operatingOf(r: ServiceRow, staleMs: number, now = Date.now()): OperatingStatus {
  const reporting = r.reported_at && now - r.reported_at.getTime() <= staleMs;
  if (!reporting || Number(r.applied) < Number(r.created_generation)) return 'OFFLINE';
  return r.error ? 'DEGRADED' : 'ONLINE';
}

export function serviceView(r: ServiceRow, staleMs: number): VpnServiceView {
  return {
    id: r.id,
    name: r.name,
    network_id: r.network_id,
    project_id: r.project_id,
    router_id: r.router_id,
    external_ip: r.external_ip,
    local_subnets: r.local_subnets,
    listen_port: r.listen_port,
    client_pool: r.client_pool,
    public_key: r.public_key,
    host_id: r.host_id,
    interface_name: r.interface_name,
    provisioning_status: provisioningOf(r),
    operating_status: operatingOf(r, staleMs),
    created_at: r.created_at.toISOString(),
  };
}

export function connectionView(r: ConnectionRow): VpnConnectionView {
  return {
    id: r.id,
    vpn_service_id: r.vpn_service_id,
    name: r.name,
    peer_address: r.peer_address,
    peer_public_key: r.peer_public_key,
    has_preshared_key: r.preshared_key_sealed !== null,
    provisioning_status: provisioningOf(r),
    created_at: r.created_at.toISOString(),
  };
}
