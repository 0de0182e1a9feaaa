import { OWNED_ALIAS, parseIpLinkJson, parseLinuxSpec, planBridges } from './bridges.js';
import { DryRunExecutor } from '../executor.js';
import { reconcile } from '../driver.js';
import { linuxBridgeDriver } from './bridges.js';

describe('linux bridge planner', () => {
  it('creates, marks and raises a missing bridge', () => {
    expect(planBridges({ bridges: [{ name: 'fcbr0', mtu: 1450 }] }, { bridges: [] })).toEqual([
      ['ip', 'link', 'add', 'fcbr0', 'type', 'bridge'],
      ['ip', 'link', 'set', 'dev', 'fcbr0', 'alias', OWNED_ALIAS],
      ['ip', 'link', 'set', 'dev', 'fcbr0', 'mtu', '1450', 'up'],
    ]);
  });
  it('plans nothing when the host already matches', () => {
    const observed = { bridges: [{ name: 'fcbr0', mtu: 1450, up: true, owned: true }] };
    expect(planBridges({ bridges: [{ name: 'fcbr0', mtu: 1450 }] }, observed)).toEqual([]);
  });
  it('repairs drift and removes only bridges it owns', () => {
    const observed = {
      bridges: [
        { name: 'fcbr0', mtu: 1500, up: false, owned: true },
        { name: 'old0', mtu: 1500, up: true, owned: true },
        { name: 'docker0', mtu: 1500, up: true, owned: false },
      ],
    };
    expect(planBridges({ bridges: [{ name: 'fcbr0', mtu: 1450 }] }, observed)).toEqual([
      ['ip', 'link', 'set', 'dev', 'fcbr0', 'mtu', '1450', 'up'],
      ['ip', 'link', 'del', 'dev', 'old0'],
    ]);
  });
  it('rejects names that could reach a shell or the kernel unvalidated', () => {
    expect(() => parseLinuxSpec({ bridges: [{ name: 'br0; rm -rf /' }] })).toThrow(
      'not a valid interface name',
    );
    expect(() => parseLinuxSpec({ bridges: [{ name: 'a-name-longer-than-15' }] })).toThrow(
      'not a valid interface name',
    );
    expect(() => parseLinuxSpec({ bridges: [{ name: 'br0', mtu: 10 }] })).toThrow('mtu');
    expect(() => parseLinuxSpec({ bridges: [{ name: 'br0' }, { name: 'br0' }] })).toThrow('twice');
    expect(parseLinuxSpec({})).toEqual({ bridges: [] });
  });
  it('reads ip -j link output', () => {
    const out = JSON.stringify([
      { ifname: 'fcbr0', mtu: 1450, flags: ['BROADCAST', 'UP'], ifalias: OWNED_ALIAS },
      { ifname: 'docker0', mtu: 1500, flags: ['BROADCAST'] },
    ]);
    expect(parseIpLinkJson(out)).toEqual([
      { name: 'fcbr0', mtu: 1450, up: true, owned: true },
      { name: 'docker0', mtu: 1500, up: false, owned: false },
    ]);
    expect(parseIpLinkJson('')).toEqual([]);
  });
  it('records instead of executing in dry-run, and converges', async () => {
    const exec = new DryRunExecutor();
    const desired = parseLinuxSpec({ bridges: [{ name: 'fcbr0' }] });
    const first = await reconcile(linuxBridgeDriver, exec, desired, undefined);
    expect(first.changes).toHaveLength(3);
    const second = await reconcile(linuxBridgeDriver, exec, desired, desired);
    expect(second.changes).toEqual([]);
    expect(exec.recorded).toEqual(first.changes);
  });
});
