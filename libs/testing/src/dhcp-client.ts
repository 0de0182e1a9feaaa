import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Netns } from './netns.js';

/** What a guest was offered: udhcpc's variables (ip, subnet, router, dns, mtu, domain, serverid). */
export type Lease = Record<string, string>;

/**
 * A guest's DHCP client: busybox udhcpc in the guest's namespace, whose hook reports the lease and
 * configures the interface (address and default route; never the host's resolv.conf).
 */
export class DhcpClient {
  private constructor(readonly dir: string) {}

  static async create(): Promise<DhcpClient> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'qnet-dhcp-'));
    await writeFile(
      path.join(dir, 'dhcp-script'),
      [
        '#!/bin/sh',
        '[ "$1" = bound ] || exit 0',
        'echo "lease ip=$ip subnet=$subnet router=$router dns=$dns mtu=$mtu domain=$domain search=$search serverid=$serverid"',
        'ip addr add "$ip/$subnet" dev "$interface"',
        'ip route replace default via "$router" dev "$interface"',
        '',
      ].join('\n'),
    );
    await chmod(path.join(dir, 'dhcp-script'), 0o755);
    return new DhcpClient(dir);
  }

  /** One DHCP exchange on the guest's eth0 (its addresses flushed first); {} when none. */
  async lease(g: Netns, dev = 'eth0'): Promise<Lease> {
    await g.exec(['ip', 'addr', 'flush', 'dev', dev]);
    const r = await g.exec(
      [
        'udhcpc',
        '-i',
        dev,
        '-f',
        '-q',
        '-n',
        '-t',
        '4',
        '-T',
        '1',
        '-O',
        'mtu',
        '-O',
        'search',
        '-s',
        path.join(this.dir, 'dhcp-script'),
      ],
      { reject: false },
    );
    const line = r.stdout.split('\n').find((l) => l.startsWith('lease '));
    return Object.fromEntries(
      (line ?? '')
        .slice('lease '.length)
        .split(' ')
        .filter(Boolean)
        .map((kv) => kv.split('=') as [string, string]),
    );
  }

  async delete(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
