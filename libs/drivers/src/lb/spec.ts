import {
  LB_ALGORITHMS,
  LB_PROTOCOLS,
  MAX_MEMBER_WEIGHT,
  OVN_NAME,
  type LbHealthCheckRealization,
  type LbMemberRealization,
  type LbRealization,
  type LbSpec,
} from '@qnet/contracts';
import { cidr, int, ip, list, obj, optional, SpecReader, unique } from '../spec-reader.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function oneOf<T extends string>(v: unknown, r: SpecReader, values: readonly T[]): T {
  if (!values.includes(v as T)) r.fail(`must be one of ${values.join(', ')}`);
  return v as T;
}

function id(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !UUID.test(v)) r.fail('must be a lowercase UUID');
  return v;
}

function ovnName(v: unknown, r: SpecReader): string {
  if (typeof v !== 'string' || !OVN_NAME.test(v)) r.fail('must be an OVN name [A-Za-z0-9_.@:-]');
  return v;
}

function healthCheck(v: unknown, r: SpecReader): LbHealthCheckRealization {
  const o = obj(v, r);
  const port = optional(o.port, (p) => int(p, r.at('port'), 1, 65535));
  return {
    protocol: oneOf(o.protocol, r.at('protocol'), LB_PROTOCOLS),
    ...(port !== undefined && { port }),
    interval_sec: int(o.interval_sec, r.at('interval_sec'), 1, 3600),
    timeout_sec: int(o.timeout_sec, r.at('timeout_sec'), 1, 3600),
    unhealthy_threshold: int(o.unhealthy_threshold, r.at('unhealthy_threshold'), 1, 10),
    healthy_threshold: int(o.healthy_threshold, r.at('healthy_threshold'), 1, 10),
  };
}

function member(v: unknown, r: SpecReader, family: boolean): LbMemberRealization {
  const o = obj(v, r);
  const address = ip(o.address, r.at('address'));
  if (address.includes(':') !== family) r.at('address').fail("must be of the VIP's family");
  const logicalPort = optional(o.logical_port, (p) => ovnName(p, r.at('logical_port')));
  return {
    id: id(o.id, r.at('id')),
    address,
    port: int(o.port, r.at('port'), 1, 65535),
    weight: int(o.weight, r.at('weight'), 1, MAX_MEMBER_WEIGHT),
    ...(logicalPort ? { logical_port: logicalPort } : {}),
  };
}

function balancer(v: unknown, r: SpecReader): LbRealization {
  const o = obj(v, r);
  const vip = ip(o.vip, r.at('vip'));
  const v6 = vip.includes(':');
  const hc = optional(o.health_check, (h) => healthCheck(h, r.at('health_check')));
  return {
    id: id(o.id, r.at('id')),
    vip,
    algorithm: oneOf(o.algorithm, r.at('algorithm'), LB_ALGORITHMS),
    network_cidr: cidr(o.network_cidr, r.at('network_cidr')),
    logical_switch: ovnName(o.logical_switch, r.at('logical_switch')),
    listeners: unique(
      list(o.listeners, r.at('listeners')).map((l, i) => {
        const lr = r.at('listeners').at(i);
        const lo = obj(l, lr);
        return {
          port: int(lo.port, lr.at('port'), 1, 65535),
          protocol: oneOf(lo.protocol, lr.at('protocol'), LB_PROTOCOLS),
        };
      }),
      (l) => `${l.protocol}/${l.port}`,
      r.at('listeners'),
    ),
    members: unique(
      list(o.members, r.at('members')).map((m, i) => member(m, r.at('members').at(i), v6)),
      (m) => `${m.address}/${m.port}`,
      r.at('members'),
    ),
    ...(hc ? { health_check: hc } : {}),
  };
}

/** Validates a desired `lb_nft` / `lb_ovn` spec: nothing reaches nft or ovn-nbctl unchecked. */
export function parseLbSpec(spec: unknown): LbSpec {
  const root = obj(spec ?? {}, new SpecReader('spec'));
  const r = new SpecReader('spec.load_balancers');
  return {
    load_balancers: unique(
      list(root.load_balancers, r).map((b, i) => balancer(b, r.at(i))),
      (b) => b.id,
      r,
    ),
  };
}
