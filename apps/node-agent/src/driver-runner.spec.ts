import { DryRunExecutor, linuxDriver } from '@qnet/drivers';
import { DriverRunner } from './driver-runner.js';

const state = (generation: number, bridge: string) => ({
  driver: 'linux',
  generation,
  spec: { bridges: [{ name: bridge, mtu: 1500 }] },
});

describe('DriverRunner', () => {
  it('applies only the newest of the full states queued behind a running apply', async () => {
    const exec = new DryRunExecutor();
    const runner = new DriverRunner(linuxDriver(), exec);
    const results = await Promise.all([
      runner.apply(state(1, 'qbr1')),
      runner.apply(state(2, 'qbr2')),
      runner.apply(state(3, 'qbr3')),
    ]);
    expect(results.map((r) => Boolean(r.superseded))).toEqual([true, true, false]);
    expect(runner.appliedGeneration).toBe(3);
    expect(exec.recorded.flat()).toContain('qbr3');
    expect(exec.recorded.flat()).not.toContain('qbr1');
  });

  it('still ignores a state older than the one applied', async () => {
    const runner = new DriverRunner(linuxDriver(), new DryRunExecutor());
    await runner.apply(state(5, 'qbr5'));
    const stale = await runner.apply(state(4, 'qbr4'));
    expect(stale).toMatchObject({ ok: true, changes: [] });
    expect(stale.superseded).toBeUndefined();
    expect(stale.error).toMatch(/already applied/);
  });

  it('polls no live status while it holds nothing, and does once it holds something', async () => {
    let polls = 0;
    const polled = { ...linuxDriver(), status: async () => ++polls };
    const runner = new DriverRunner(polled, new DryRunExecutor());
    await runner.apply({ driver: 'linux', generation: 1, spec: {} });
    expect(await runner.status()).toBeUndefined();
    expect(polls).toBe(0);
    await runner.apply(state(2, 'qbr2'));
    expect(await runner.status()).toMatchObject({ observed: 1 });
    expect(polls).toBe(1);
  });
});
