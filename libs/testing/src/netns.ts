import { execa } from 'execa';
import { randomBytes } from 'node:crypto';

/** Network namespaces made by a test and removed by it: the only places test traffic goes. */
export class Netns {
  private constructor(readonly name: string) {}

  static async create(prefix = 'qt'): Promise<Netns> {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`;
    await execa('ip', ['netns', 'add', name]);
    await execa('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return new Netns(name);
  }

  /** Runs a command inside the namespace; returns stdout. */
  async exec(
    argv: string[],
    opts: { reject?: boolean } = {},
  ): Promise<{ stdout: string; exitCode: number | undefined }> {
    const r = await execa('ip', ['netns', 'exec', this.name, ...argv], {
      reject: opts.reject ?? true,
    });
    if (/exec of ".*" failed/.test(String(r.stderr)))
      throw new Error(`${argv[0]} is not installed: ${String(r.stderr)}`);
    return { stdout: String(r.stdout), exitCode: r.exitCode };
  }

  async ping(address: string, count = 2): Promise<boolean> {
    const r = await this.exec(['ping', '-c', String(count), '-W', '1', '-i', '0.2', address], {
      reject: false,
    });
    return r.exitCode === 0;
  }

  async delete(): Promise<void> {
    await execa('ip', ['netns', 'del', this.name], { reject: false });
  }
}
