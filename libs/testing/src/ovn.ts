import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const SCHEMA = '/usr/share/ovn/ovn-nb.ovsschema';

/** A real ovsdb-server holding the OVN northbound schema, on a unix socket under `dir`. */
export class OvnNorthbound {
  private constructor(
    private readonly dir: string,
    /** As ovn-nbctl's --db (and the agent's OVN_NB_DB) take it. */
    readonly db: string,
  ) {}

  static async start(dir: string): Promise<OvnNorthbound> {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'nb.db');
    const sock = path.join(dir, 'nb.sock');
    await execa('ovsdb-tool', ['create', file, SCHEMA]);
    await execa('ovsdb-server', [
      file,
      `--remote=punix:${sock}`,
      `--pidfile=${path.join(dir, 'nb.pid')}`,
      `--unixctl=${path.join(dir, 'nb.ctl')}`,
      `--log-file=${path.join(dir, 'nb.log')}`,
      '--detach',
      '--no-chdir',
    ]);
    return new OvnNorthbound(dir, `unix:${sock}`);
  }

  /** ovn-nbctl against this database; its stdout. */
  async nbctl(...args: string[]): Promise<string> {
    return (await execa('ovn-nbctl', [`--db=${this.db}`, ...args])).stdout;
  }

  async stop(): Promise<void> {
    await execa('ovs-appctl', ['-t', path.join(this.dir, 'nb.ctl'), 'exit'], { reject: false });
  }
}
