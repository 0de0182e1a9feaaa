import type {
  HealthCheckView,
  LoadBalancerView,
  MemberView,
  OperatingStatus,
  ProvisioningStatus,
} from '@qnet/contracts';
import type { Balancer, BalancerRow, HealthCheckRow, MemberRow } from './lb.repository.js';

/** ERROR when the host's last apply failed, PENDING_UPDATE until it applied this LB's last change. */
export function provisioningOf(lb: BalancerRow): {
  status: ProvisioningStatus;
  error_message: string;
} {
  if (lb.error) return { status: 'ERROR', error_message: lb.error };
  if (Number(lb.applied) < Number(lb.generation))
    return {
      status:
        lb.created_at.getTime() === lb.updated_at.getTime() ? 'PENDING_CREATE' : 'PENDING_UPDATE',
      error_message: '',
    };
  return { status: 'ACTIVE', error_message: '' };
}

/** Octavia's member operating status: admin down is OFFLINE; without a monitor NO_MONITOR. */
export function memberOperating(m: MemberRow, monitored: boolean): OperatingStatus {
  if (!m.admin_state_up) return 'OFFLINE';
  if (!monitored || m.health === 'UNKNOWN') return 'NO_MONITOR';
  return m.health;
}

/**
 * The LB's: NO_MONITOR without a health check; otherwise ONLINE when every enabled member is
 * ONLINE, OFFLINE when none is (or there are none), DEGRADED in between.
 */
export function balancerOperating(b: Balancer): OperatingStatus {
  if (!b.health_check) return 'NO_MONITOR';
  const enabled = b.members.filter((m) => m.admin_state_up);
  const online = enabled.filter((m) => m.health !== 'OFFLINE').length;
  if (!enabled.length || online === 0) return 'OFFLINE';
  return online === enabled.length ? 'ONLINE' : 'DEGRADED';
}

export function memberView(m: MemberRow, b: Pick<Balancer, 'lb' | 'health_check'>): MemberView {
  return {
    id: m.id,
    load_balancer_id: m.load_balancer_id,
    address: m.address,
    port: m.port,
    weight: m.weight,
    admin_state_up: m.admin_state_up,
    logical_port: m.logical_port,
    provisioning_status: provisioningOf(b.lb).status,
    operating_status: memberOperating(m, b.health_check !== undefined),
  };
}

/** A health check row without its key, as the API and the agents see it. */
export function healthCheckOf(hc: HealthCheckRow): HealthCheckView {
  return {
    protocol: hc.protocol,
    port: hc.port,
    interval_sec: hc.interval_sec,
    timeout_sec: hc.timeout_sec,
    unhealthy_threshold: hc.unhealthy_threshold,
    healthy_threshold: hc.healthy_threshold,
  };
}

export function balancerView(b: Balancer): LoadBalancerView {
  const { lb } = b;
  const provisioning = provisioningOf(lb);
  const operating = balancerOperating(b);
  const hc = b.health_check;
  return {
    id: lb.id,
    name: lb.name,
    description: lb.description,
    network_id: lb.network_id,
    project_id: lb.project_id,
    vip: lb.vip,
    algorithm: lb.algorithm,
    protocol: lb.protocol,
    provider: lb.provider,
    host_id: lb.host_id,
    provisioning_status: provisioning.status,
    operating_status: operating,
    error_message: provisioning.error_message,
    listeners: b.listeners.map((l) => ({
      id: l.id,
      load_balancer_id: l.load_balancer_id,
      name: l.name,
      port: l.port,
      protocol: l.protocol,
      provisioning_status: provisioning.status,
      operating_status: operating,
    })),
    members: b.members.map((m) => memberView(m, b)),
    health_check: hc ? healthCheckOf(hc) : null,
    labels: lb.labels,
    created_at: lb.created_at.toISOString(),
    updated_at: lb.updated_at.toISOString(),
  };
}
