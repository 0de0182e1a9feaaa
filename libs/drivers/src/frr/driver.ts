import type { FrrObserved, FrrSpec } from '@qnet/contracts';
import { DOCUMENT, type Change, type Driver } from '../driver.js';
import type { Executor } from '../executor.js';
import {
  parseFrrStatus,
  parseRunningConfig,
  splitJsonDocuments,
  type RunningConfig,
} from './observed.js';
import { renderFrrConf } from './render.js';
import { parseFrrSpec } from './spec.js';

export const FRR_RELOAD = '/usr/lib/frr/frr-reload.py';

export interface FrrDriverOptions {
  /** FRR's -N pathspace: an instance with its own /etc/frr/<name> and /var/run/frr/<name>. */
  pathspace?: string;
  /** Written as frr.conf's hostname line. */
  hostname: string;
}

/**
 * BGP on the node through FRRouting: the whole frr.conf is rendered, compared (order-insensitively)
 * with `show running-config`, and on a difference applied with frr-reload.py — which changes only
 * what differs, so established sessions stay up — then saved 0600.
 */
const STATUS_COMMANDS = [
  'show bgp neighbors json',
  'show bgp summary json',
  'show bgp ipv4 unicast json',
  'show bgp ipv6 unicast json',
];

export function frrDriver(opts: FrrDriverOptions): Driver<FrrSpec, RunningConfig> {
  const instance = opts.pathspace ? ['-N', opts.pathspace] : [];
  const confFile = opts.pathspace ? `/etc/frr/${opts.pathspace}/frr.conf` : '/etc/frr/frr.conf';
  const vtysh = (exec: Executor, ...commands: string[]) =>
    exec.read(['vtysh', ...instance, ...commands.flatMap((c) => ['-c', c])]).then((r) => r.stdout);
  const render = (spec: FrrSpec, kept: string[]) => renderFrrConf(spec, opts.hostname, kept);

  return {
    name: 'frr',
    parse: parseFrrSpec,
    // FRR not installed or not running holds no BGP configuration: with nothing desired there is
    // nothing to do; with a speaker desired, frr-reload.py fails and says why.
    observe: async (exec) =>
      parseRunningConfig(await vtysh(exec, 'show running-config').catch(() => '')),
    plan(desired, observed): Change[] {
      const conf = render(desired, observed.kept);
      const wanted = parseRunningConfig(conf).lines;
      if (
        wanted.length === observed.lines.length &&
        wanted.every((l, i) => l === observed.lines[i])
      )
        return [];
      return [
        {
          // --log-level error: at info, frr-reload.py logs every line it applies, passwords too.
          argv: [FRR_RELOAD, '--reload', '--log-level', 'error', ...instance, DOCUMENT],
          document: conf,
        },
        // frr-reload.py saves the running configuration with FRR's own mode; it holds passwords.
        ['chmod', '0600', confFile],
      ];
    },
    assumeApplied: (spec) => parseRunningConfig(render(spec, [])),
    // Dry-run observes nothing, so it reports nothing (rather than "FRR is down").
    async status(exec): Promise<FrrObserved | undefined> {
      if (exec.mode === 'dry-run') return undefined;
      try {
        // One vtysh for all four: each start costs ~0.2-0.6 s on a small node, polled every few seconds.
        const docs = splitJsonDocuments(await vtysh(exec, ...STATUS_COMMANDS));
        if (docs.length !== STATUS_COMMANDS.length) throw new Error('incomplete vtysh output');
        const [neighbors, summary, ipv4, ipv6] = docs as [string, string, string, string];
        return parseFrrStatus(neighbors, summary, [ipv4, ipv6]);
      } catch {
        return { running: false, peers: [], local_prefixes: [] };
      }
    },
  };
}
