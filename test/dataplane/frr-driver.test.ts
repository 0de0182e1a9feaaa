import type { FrrSpeaker } from '@qnet/contracts';
import { ExecaExecutor, frrDriver, reconcile } from '@qnet/drivers';
import { waitFor } from '@qnet/stack';
import { FrrInstance, GobgpTor, Underlay, type RibMonitor } from '@qnet/testing';

/**
 * The agent's frr driver applied straight to FRR (frr-reload.py in the node's namespace), gobgpd as
 * the ToR: how long a change takes to reach the ToR, without the control plane around it.
 */
describe('frr driver: FRR on the node, gobgpd as the ToR', () => {
  let underlay: Underlay;
  let frr: FrrInstance;
  let tor: GobgpTor;
  let rib: RibMonitor;
  let exec: ExecaExecutor;

  beforeAll(async () => {
    underlay = await Underlay.create(2, '192.168.14');
    const [node, torNs] = underlay.hosts;
    frr = await FrrInstance.start(node!);
    tor = await GobgpTor.start(torNs!, {
      asn: 65000,
      routerId: underlay.ip(1),
      neighbors: [{ address: underlay.ip(0), asn: 65001, password: 'drv-md5-key' }],
    });
    rib = await tor.monitor();
    exec = new ExecaExecutor({ netns: node!.name, timeoutMs: 30_000 });
  });

  afterAll(async () => {
    await rib?.stop();
    await exec?.close();
    await Promise.all([tor, frr].map((d) => d?.stop()));
    await underlay?.delete();
  });

  // frr-reload.py adds a new `network … route-map X` before it creates X; FRR's route-map timer
  // (5 s by default) then held the prefix back, every time on a session that had just come up.
  it('advertises the first prefix of a new attribute set as the reload ends, not 5 s later', async () => {
    const driver = frrDriver({ pathspace: frr.pathspace, hostname: 'drv-node' });
    const speaker: FrrSpeaker = {
      local_asn: 65001,
      router_id: underlay.ip(0),
      peers: [{ address: underlay.ip(1), asn: 65000, password: 'drv-md5-key', bfd: false }],
      advertisements: [],
    };
    // The frr driver observes the whole running configuration: no previous state to pass.
    const apply = async () => {
      const { changes } = await reconcile(driver, exec, { speaker }, undefined);
      expect(changes.length).toBeGreaterThan(0);
    };
    await apply();
    await waitFor(
      async () => (await tor.sessions()).get(underlay.ip(0)) === 'established',
      30_000,
      'the MD5 session',
    );

    speaker.advertisements.push({
      prefix: '10.14.0.0/24',
      communities: ['65001:14'],
      local_pref: 140,
    });
    const started = performance.now();
    await apply();
    const applied = performance.now() - started;
    const arrived = (await rib.until('10.14.0.0/24', true, 10_000)) - started;
    console.log(`apply ${Math.round(applied)} ms, in the ToR RIB after ${Math.round(arrived)} ms`);
    expect(arrived).toBeLessThan(applied + 2_000);
    expect((await tor.rib()).get('10.14.0.0/24')).toMatchObject({ communities: ['65001:14'] });
  });
});
