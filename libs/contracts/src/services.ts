/**
 * The control-plane services. `id` is the bus token (qnet.rpc.<id>.*, qnet.evt.<id>.*), `app` the
 * deployable under apps/, `proto` the service name in proto/limiquantix/network/v1.
 * `complete` is set by each service's own issue once every proto RPC of the service has a handler;
 * the proto test then fails if one goes missing. `drivers` are the agent drivers the service owns:
 * the only ones whose commands it may send and whose pulls and reports it may hear (NATS users).
 */
export const BUS_SERVICES = [
  {
    id: 'registry',
    app: 'network-registry',
    proto: 'NetworkRegistryService',
    complete: true,
    drivers: ['linux'],
  },
  {
    id: 'lb',
    app: 'lb',
    proto: 'LoadBalancerService',
    complete: true,
    drivers: ['lb_nft', 'lb_ovn'],
  },
  { id: 'vpn', app: 'vpn', proto: 'VpnService', complete: true, drivers: ['wireguard'] },
  { id: 'bgp', app: 'bgp', proto: 'BGPService', complete: true, drivers: ['frr'] },
  {
    id: 'tunnel',
    app: 'tunnel-balancer',
    proto: 'TunnelBalancerService',
    complete: true,
    drivers: [],
  },
  {
    id: 'device',
    app: 'device-controller',
    proto: 'DeviceControllerService',
    complete: true,
    drivers: ['config'],
  },
] as const;

export type BusServiceId = (typeof BUS_SERVICES)[number]['id'];
export type ServiceApp = (typeof BUS_SERVICES)[number]['app'];

export const PROTO_PACKAGE = 'limiquantix.network.v1';

export function serviceByProto(protoName: string) {
  return BUS_SERVICES.find((s) => s.proto === protoName);
}

export function serviceById(id: string) {
  return BUS_SERVICES.find((s) => s.id === id);
}
