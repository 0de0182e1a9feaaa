import {
  isCommunity,
  MAX_ASN,
  type FrrAdvertisement,
  type FrrPeer,
  type FrrSpec,
} from '@qnet/contracts';
import { cidr, int, ip, list, obj, optional, SpecReader, unique } from '../spec-reader.js';

const MAX_U32 = 4294967295;

function text(v: unknown, r: SpecReader, pattern: RegExp, what: string): string {
  if (typeof v !== 'string' || !pattern.test(v)) r.fail(`must be ${what}`);
  return v;
}

function peer(v: unknown, r: SpecReader): FrrPeer {
  const o = obj(v, r);
  const hold = optional(o.hold_time, (h) => int(h, r.at('hold_time'), 0, 65535));
  const keepalive = optional(o.keepalive, (k) => int(k, r.at('keepalive'), 0, 65535));
  if ((hold === undefined) !== (keepalive === undefined))
    r.fail('must set both keepalive and hold_time or neither');
  if (hold !== undefined && hold !== 0 && hold < 3) r.at('hold_time').fail('must be 0 or 3-65535');
  if (typeof o.bfd !== 'boolean' && o.bfd !== undefined) r.at('bfd').fail('must be a boolean');
  return {
    address: ip(o.address, r.at('address')),
    asn: int(o.asn, r.at('asn'), 1, MAX_ASN),
    description: optional(o.description, (d) =>
      text(d, r.at('description'), /^[^\p{Cc}]{1,80}$/u, 'one line of at most 80 characters'),
    ),
    password: optional(o.password, (p) =>
      text(p, r.at('password'), /^[A-Za-z0-9!#$%&()*+,./:;<=>?@[\]^_{|}~-]{1,80}$/, 'an MD5 key'),
    ),
    keepalive,
    hold_time: hold,
    bfd: o.bfd === true,
    max_prefixes: optional(o.max_prefixes, (m) => int(m, r.at('max_prefixes'), 1, MAX_U32)),
  };
}

function advertisement(v: unknown, r: SpecReader): FrrAdvertisement {
  const o = obj(v, r);
  const prefix = cidr(o.prefix, r.at('prefix'));
  const nextHop = optional(o.next_hop, (h) => ip(h, r.at('next_hop')));
  if (nextHop && nextHop.includes(':') !== prefix.includes(':'))
    r.at('next_hop').fail('must be of the prefix address family');
  return {
    prefix,
    next_hop: nextHop,
    communities: list(o.communities, r.at('communities')).map((c, i): string =>
      isCommunity(c) ? c : r.at('communities').at(i).fail('is not a BGP community'),
    ),
    local_pref: optional(o.local_pref, (l) => int(l, r.at('local_pref'), 0, MAX_U32)),
  };
}

/** Validates a desired `frr` spec from the bus: nothing reaches frr.conf unchecked. */
export function parseFrrSpec(spec: unknown): FrrSpec {
  const root = obj(spec ?? {}, new SpecReader('spec'));
  if (root.speaker === undefined || root.speaker === null) return {};
  const r = new SpecReader('speaker');
  const s = obj(root.speaker, r);
  const routerId = ip(s.router_id, r.at('router_id'));
  if (routerId.includes(':')) r.at('router_id').fail('must be an IPv4 address');
  const pr = r.at('peers');
  const ar = r.at('advertisements');
  const advertisements = list(s.advertisements, ar).map((a, i) => advertisement(a, ar.at(i)));
  return {
    speaker: {
      local_asn: int(s.local_asn, r.at('local_asn'), 1, MAX_ASN),
      router_id: routerId,
      peers: unique(
        list(s.peers, pr).map((p, i) => peer(p, pr.at(i))),
        (p) => p.address,
        pr,
      ),
      advertisements: unique(advertisements, (a) => a.prefix, ar),
    },
  };
}
