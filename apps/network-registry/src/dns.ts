import { DNS_LABEL } from '@qnet/contracts';

/** The cluster's DNS domain (QNET_DNS_DOMAIN): each network's zone is `<label>.<domain>`. */
export const DNS_DOMAIN = Symbol('DNS_DOMAIN');

/** A MAC/address pair a guest port may send from besides its own (Neutron's allowed_address_pairs). */
export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

/**
 * A NIC's name in its network's DNS: its hostname, else its vm_id when that (in lower case) is a
 * DNS label; null when it has neither, and then its lease carries no name.
 */
export function dnsNameOf(nic: { hostname: string | null; vm_id: string }): string | null {
  if (nic.hostname) return nic.hostname;
  const lower = nic.vm_id.toLowerCase();
  return DNS_LABEL.test(lower) ? lower : null;
}

/** A network's DNS zone: its name as a DNS label under the cluster's domain. */
export function dnsDomainOf(network: { name: string; id: string }, domain: string): string {
  const label = network.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return `${label || `net-${network.id.slice(0, 8)}`}.${domain}`;
}
