import type { LbSpec } from '@qnet/contracts';
import type { Change, Driver } from '../driver.js';
import { parseOvnRows, planOvn, ovnRowsOf, type OvnLbRow } from './ovn-render.js';
import { parseLbSpec } from './spec.js';

export interface OvnLbDriverOptions {
  /** The OVN northbound database, as ovn-nbctl's --db takes it (tcp:host:port, unix:path). */
  db: string | undefined;
  /** Tags the rows this agent owns. */
  hostId: string;
}

/** One ovn-nbctl process and one database transaction: the commands joined with `--`. */
export function ovnTransaction(db: string, commands: string[][]): string[] {
  return ['ovn-nbctl', `--db=${db}`, ...commands.flatMap((c) => ['--', ...c])];
}

/**
 * Load balancers as OVN northbound rows (docs/compatibility.md, 000): every change of a reconcile is ONE
 * ovn-nbctl transaction; unchanged LBs (same fingerprint in external_ids) plan nothing.
 */
export function ovnLbDriver(opts: OvnLbDriverOptions): Driver<LbSpec, OvnLbRow[]> {
  const db = () => {
    if (!opts.db)
      throw new Error('no OVN northbound database configured on this agent (OVN_NB_DB)');
    return opts.db;
  };
  return {
    name: 'lb_ovn',
    parse: parseLbSpec,
    async observe(exec) {
      if (!opts.db) return [];
      const { stdout } = await exec.read([
        'ovn-nbctl',
        `--db=${db()}`,
        '-f',
        'json',
        '--columns=name,external_ids',
        'list',
        'Load_Balancer',
      ]);
      return parseOvnRows(stdout);
    },
    plan(desired, observed): Change[] {
      const commands = planOvn(desired, observed, opts.hostId);
      return commands.length ? [ovnTransaction(db(), commands)] : [];
    },
    assumeApplied: (spec) => ovnRowsOf(spec, opts.hostId),
  };
}
