import type { StdinCommand } from '../driver.js';

/**
 * Gratuitous ARP into a bridge on behalf of a guest: "ip is at mac", sent out of the bridge
 * device, so it reaches the bridge's guest ports but no neigh_suppress port (the kernel keeps
 * gratuitous ARP off those: no ARP crosses the underlay). A guest that cached the address's
 * previous owner updates its entry at once (Linux accepts a gratuitous ARP for an entry it has,
 * even with arp_accept off) instead of after its 15-45 s reachable time and failed probes.
 *
 * Node has no raw sockets, so a few lines of Python send the frames; Debian's own interpreter
 * (python3-minimal), never a user's shim on PATH, isolated (-I -S: no environment, no site
 * packages). The arguments were validated as IPv4 addresses
 * and MACs by the spec parser, and the script parses them again.
 */
export const PYTHON = '/usr/bin/python3';

const SCRIPT = [
  'import socket, sys',
  's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
  's.bind((sys.argv[1], 0))',
  'for i in range(2, len(sys.argv), 2):',
  '    ip, mac = socket.inet_aton(sys.argv[i]), bytes.fromhex(sys.argv[i + 1].replace(":", ""))',
  '    assert len(mac) == 6',
  // Ethernet broadcast, ARP request, sender = target = ip: a gratuitous ARP.
  '    s.send(b"\\xff" * 6 + mac + b"\\x08\\x06\\x00\\x01\\x08\\x00\\x06\\x04\\x00\\x01" + mac + ip + b"\\x00" * 6 + ip)',
].join('\n');

/**
 * The command that announces every (ip, mac) of `entries` into `bridge` (the program on stdin, so
 * reported changes show only what is announced); IPv6 ones are skipped.
 */
export function announceCommand(
  bridge: string,
  entries: { ip: string; mac: string }[],
): StdinCommand | undefined {
  const v4 = entries.filter((e) => !e.ip.includes(':'));
  if (!v4.length) return undefined;
  return {
    argv: [PYTHON, '-I', '-S', '-', bridge, ...v4.flatMap((e) => [e.ip, e.mac])],
    input: SCRIPT,
  };
}
