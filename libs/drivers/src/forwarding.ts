import type { Change } from './driver.js';
import type { Executor } from './executor.js';

/** Whether the host forwards IPv4 and IPv6 packets. */
export interface Forwarding {
  v4: boolean;
  v6: boolean;
}

/** IPv4 and IPv6 forwarding, read in one command. */
export async function readForwarding(exec: Executor): Promise<Forwarding> {
  const out = await exec.read([
    'sysctl',
    '-n',
    'net.ipv4.ip_forward',
    'net.ipv6.conf.all.forwarding',
  ]);
  const [v4, v6] = out.stdout.split('\n').map((l) => l.trim() === '1');
  return { v4: Boolean(v4), v6: Boolean(v6) };
}

/** Switches on forwarding for the families that need it and do not have it. */
export function planForwarding(needed: Forwarding, observed: Forwarding): Change[] {
  return [
    ...(needed.v4 && !observed.v4 ? [['sysctl', '-w', 'net.ipv4.ip_forward=1']] : []),
    ...(needed.v6 && !observed.v6 ? [['sysctl', '-w', 'net.ipv6.conf.all.forwarding=1']] : []),
  ];
}
