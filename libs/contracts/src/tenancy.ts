import { serviceById, serviceByProto, type BusServiceId } from './services.js';

/**
 * Operations on the cluster itself rather than on one project's resources (README, "Tenancy"): the
 * tunnel fabric and its devices, and changing, enrolling and revoking hosts. Only the admin token
 * (project `*`) may call them; a project-scoped caller gets a 403. JoinHost is also open without
 * a bearer token on POST /v1/hosts/join: its join token is its credential. Hosts stay readable by every project: they are the
 * shared infrastructure a tenant names when it places a network, a speaker or a gateway, and a
 * host carries nothing of any project.
 */
const CLUSTER_RPCS: Partial<Record<BusServiceId, '*' | readonly string[]>> = {
  registry: [
    'UpdateHost',
    'CreateJoinToken',
    'ListJoinTokens',
    'DeleteJoinToken',
    'JoinHost',
    'RevokeHost',
  ],
  tunnel: '*',
  device: '*',
};

export function isClusterRpc(service: BusServiceId, method: string): boolean {
  if (method === 'Ping') return false;
  const rule = CLUSTER_RPCS[service];
  return rule === '*' || (rule?.includes(method) ?? false);
}

/** The same rule by proto names, as the gateway resolves a Connect path. */
export function isClusterProtoRpc(protoService: string, method: string): boolean {
  const svc = serviceByProto(protoService);
  return svc !== undefined && isClusterRpc(svc.id, method);
}

/** The same rule by bus subject (qnet.rpc.<service>.<Method>), as a service receives it. */
export function isClusterSubject(subject: string): boolean {
  const [qnet, rpc, service, method] = subject.split('.');
  const svc = qnet === 'qnet' && rpc === 'rpc' ? serviceById(service ?? '') : undefined;
  return svc !== undefined && isClusterRpc(svc.id, method ?? '');
}

export const clusterOnlyMessage = (scope: string) =>
  `this token is scoped to project ${scope}; the cluster's hosts, devices and tunnels are managed with the admin token`;
