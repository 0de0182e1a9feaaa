import { ExecaExecutor } from '@qnet/drivers';
import { Netns } from '@qnet/testing';

/**
 * The host's ip(8) batches run in processes started ahead of their use. ip remembers interface
 * indexes by name for as long as it runs, so a process kept open across uses would address a
 * device deleted and re-created under the same name by its old index.
 */
describe('commands started ahead in a host namespace', () => {
  let host: Netns;
  let exec: ExecaExecutor;
  beforeAll(async () => {
    host = await Netns.create('qhost');
    exec = new ExecaExecutor({ netns: host.name });
  });
  afterAll(async () => {
    await exec.close();
    await host.delete();
  });

  it('address a device re-created under the same name since the last use', async () => {
    const batch = (lines: string[]) => exec.run(['ip', '-batch', '-'], `${lines.join('\n')}\n`);
    await batch(['link add qa type veth peer name qb', 'link set qa up']);
    await new Promise((r) => setTimeout(r, 300)); // the next use's process is waiting
    await host.exec(['ip', 'link', 'del', 'qa']);
    await host.exec(['ip', 'link', 'add', 'qc', 'type', 'veth', 'peer', 'name', 'qd']);
    await host.exec(['ip', 'link', 'add', 'qa', 'type', 'veth', 'peer', 'name', 'qb']);
    await batch(['addr add 10.99.0.1/24 dev qa', 'link set qa up']);
    const { stdout } = await host.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'qa']);
    expect(stdout).toContain('10.99.0.1/24');
  });
});
