/**
 * The control-plane services. `id` is the bus token (qnet.rpc.<id>.*, qnet.evt.<id>.*), `app` the
 * deployable under apps/, `proto` the service name in proto/limiquantix/network/v1.
 * `complete` is set by each service's own issue once every proto RPC of the service has a handler;
 * the proto test then fails if one goes missing. `drivers` are the agent drivers the service owns:
 * the only ones whose commands it may send and whose pulls and reports it may hear (NATS users).
 * `metricsPort` is where each instance serves Prometheus metrics unless METRICS_PORT says otherwise.
 */
export const BUS_SERVICES = [
  {
    id: 'registry',
    app: 'network-registry',
    proto: 'NetworkRegistryService',
    complete: true,
    drivers: ['linux'],
    metricsPort: 9101,
  },
  {
    id: 'lb',
    app: 'lb',
    proto: 'LoadBalancerService',
    complete: true,
    drivers: ['lb_nft', 'lb_ovn'],
    metricsPort: 9102,
  },
  {
    id: 'vpn',
    app: 'vpn',
    proto: 'VpnService',
    complete: true,
    drivers: ['wireguard'],
    metricsPort: 9103,
  },
  {
    id: 'bgp',
    app: 'bgp',
    proto: 'BGPService',
    complete: true,
    drivers: ['frr'],
    metricsPort: 9104,
  },
  {
    id: 'tunnel',
    app: 'tunnel-balancer',
    proto: 'TunnelBalancerService',
    complete: true,
    drivers: [],
    metricsPort: 9105,
  },
  {
    id: 'device',
    app: 'device-controller',
    proto: 'DeviceControllerService',
    complete: true,
    drivers: ['config', 'tunnel'],
    metricsPort: 9106,
  },
] as const;

/** Where a node agent serves Prometheus metrics unless METRICS_PORT says otherwise. */
export const AGENT_METRICS_PORT = 9110;

export type BusServiceId = (typeof BUS_SERVICES)[number]['id'];
export type ServiceApp = (typeof BUS_SERVICES)[number]['app'];

export const PROTO_PACKAGE = 'limiquantix.network.v1';

export function serviceByProto(protoName: string) {
  return BUS_SERVICES.find((s) => s.proto === protoName);
}

export function serviceById(id: string) {
  return BUS_SERVICES.find((s) => s.id === id);
}
