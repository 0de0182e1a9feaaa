import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { FrrInstance, Underlay } from '/work/main/libs/testing/dist/index.js';
const u = await Underlay.create(1, '192.168.9');
const frr = await FrrInstance.start(u.hosts[0]);
const pfx = Array.from({ length: 1000 }, (_, i) => `10.${Math.floor(i / 256) + 1}.${i % 256}.0/24`);
const defs = [
  ...pfx.map((p, i) => `ip prefix-list QNET-ADVERTISED-V4 seq ${i + 1} permit ${p}`),
  'route-map QNET-SET-1 permit 10',
  ' set community 65001:100',
  'exit',
  'route-map QNET-EXPORT-V4 permit 10',
  ' match ip address prefix-list QNET-ADVERTISED-V4',
  'exit',
  'route-map QNET-IN permit 10',
  'exit',
];
const bgp = [
  'router bgp 65001',
  ' bgp router-id 192.168.9.1',
  ' no bgp default ipv4-unicast',
  ' no bgp network import-check',
  ' neighbor 192.168.9.200 remote-as 65000',
  ' address-family ipv4 unicast',
  ...pfx.map((p) => `  network ${p} route-map QNET-SET-1`),
  '  neighbor 192.168.9.200 activate',
  '  neighbor 192.168.9.200 route-map QNET-IN in',
  '  neighbor 192.168.9.200 route-map QNET-EXPORT-V4 out',
  ' exit-address-family',
  'exit',
];
const mode = process.argv[2];
writeFileSync(
  '/tmp/c.vtysh',
  (mode === 'defs-first'
    ? [...defs, ...bgp]
    : mode === 'bgp-only'
      ? bgp.filter((l) => !l.includes('route-map'))
      : mode === 'defs-only'
        ? defs
        : [...bgp, ...defs]
  ).join('\n') + '\n',
);
const t = performance.now();
await execa(
  'vtysh',
  ['-N', frr.pathspace, ...(process.argv[3] ? ['-d', process.argv[3]] : []), '-f', '/tmp/c.vtysh'],
  { reject: false },
);
console.log(mode, Math.round(performance.now() - t));
await frr.stop();
await u.delete();
