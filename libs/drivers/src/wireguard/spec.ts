import { WIREGUARD_INTERFACE_PREFIX, type WireguardSpec } from '@qnet/contracts';
import { isIp, isWireguardKey, parseCidr } from '@qnet/netaddr';
import { cidr, int, ifname, ip, list, obj, optional, SpecReader, unique } from '../spec-reader.js';

function key(v: unknown, r: SpecReader): string {
  if (!isWireguardKey(v)) r.fail('must be a WireGuard key (32 bytes, base64)');
  return v;
}

/** address/prefix with a host address, e.g. 10.99.0.1/24. */
function hostWithPrefix(v: unknown, r: SpecReader): string {
  const [addr, len] = typeof v === 'string' ? v.split('/') : [];
  if (!addr || !isIp(addr) || len === undefined) r.fail('must be address/prefix');
  try {
    return `${ip(addr, r)}/${parseCidr(String(v), false).prefix}`;
  } catch {
    return r.fail('must be address/prefix');
  }
}

/** Validates a desired `wireguard` spec from the bus: nothing reaches wg(8) or nft(8) unchecked. */
export function parseWireguardSpec(spec: unknown): WireguardSpec {
  const root = obj(spec ?? {}, new SpecReader('spec'));
  const R = new SpecReader('interfaces');
  const interfaces = list(root.interfaces, R).map((v, i) => {
    const r = R.at(i);
    const o = obj(v, r);
    const name = ifname(o.name, r.at('name'));
    if (!name.startsWith(WIREGUARD_INTERFACE_PREFIX))
      r.at('name').fail(`must start with ${WIREGUARD_INTERFACE_PREFIX}`);
    const pr = r.at('peers');
    const peers = list(o.peers, pr).map((p, j) => {
      const q = obj(p, pr.at(j));
      const allowed = cidr(q.allowed_ip, pr.at(j).at('allowed_ip'));
      const { prefix, family } = parseCidr(allowed);
      if (prefix !== (family === 4 ? 32 : 128))
        pr.at(j).at('allowed_ip').fail('must be a single address (/32 or /128)');
      return {
        public_key: key(q.public_key, pr.at(j).at('public_key')),
        preshared_key: optional(q.preshared_key, (k) => key(k, pr.at(j).at('preshared_key'))),
        allowed_ip: allowed,
      };
    });
    return {
      name,
      private_key: key(o.private_key, r.at('private_key')),
      listen_port: int(o.listen_port, r.at('listen_port'), 1, 65535),
      address: hostWithPrefix(o.address, r.at('address')),
      local_subnets: list(o.local_subnets, r.at('local_subnets')).map((c, j) =>
        cidr(c, r.at('local_subnets').at(j)),
      ),
      peers: unique(
        unique(peers, (p) => p.public_key, pr),
        (p) => p.allowed_ip,
        pr,
      ),
    };
  });
  unique(interfaces, (x) => x.name, R);
  unique(interfaces, (x) => String(x.listen_port), R);
  return { interfaces };
}
