import { DryRunExecutor, linuxDriver, type Driver, type Executor } from '@qnet/drivers';
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

/**
 * A host that holds one number, and a driver that sets it: enough to see which observation a
 * push is planned against.
 */
function numberHost() {
  const host = { n: undefined as number | undefined, failures: 0, reads: [] as string[] };
  const exec: Executor = {
    mode: 'real',
    read: async () => ({ stdout: '', stderr: '' }),
    run: async (argv) => {
      if (host.failures-- > 0) throw new Error('command failed');
      host.n = argv[1] === 'undefined' ? undefined : Number(argv[1]);
      return { stdout: '', stderr: '' };
    },
  };
  const driver: Driver<{ n?: number }, { n?: number }> = {
    name: 'number',
    parse: (spec) => spec as { n?: number },
    observe: async () => (host.reads.push('whole host'), { n: host.n }),
    observeSince: async (_exec, _desired, applied) => (host.reads.push('since'), applied),
    plan: (desired, observed) => (desired.n === observed.n ? [] : [['set', String(desired.n)]]),
    assumeApplied: (spec) => spec,
  };
  const runner = new DriverRunner(driver, exec);
  const push = (generation: number, n: number) =>
    runner.apply({ driver: 'number', generation, spec: { n } }, { delta: true });
  return { host, runner, push };
}

describe('DriverRunner while idle', () => {
  it('reads the host for an empty state again only every 5th time, at once when it holds something', async () => {
    const { host, runner } = numberHost();
    const empty = (generation: number) => runner.apply({ driver: 'number', generation, spec: {} });
    await empty(1);
    for (let i = 0; i < 10; i++) await runner.resync();
    expect(host.reads).toHaveLength(3); // the apply, the 5th and the 10th time
    host.reads.length = 0;
    await runner.apply({ driver: 'number', generation: 2, spec: { n: 4 } });
    await runner.resync();
    expect(host.reads).toEqual(['whole host', 'whole host']);
    expect(host.n).toBe(4);
  });

  it('reads it every time while it finds objects of its own to remove', async () => {
    const { host, runner } = numberHost();
    host.n = 3; // left by someone
    await runner.apply({ driver: 'number', generation: 1, spec: {} });
    host.n = 3;
    expect(await runner.resync()).toMatchObject({ changes: [['set', 'undefined']] });
    expect(host.reads).toHaveLength(3); // the apply, and the resync's look twice at drift
    expect(host.n).toBeUndefined();
  });
});

describe('DriverRunner deltas', () => {
  it('plans a push against the last successful apply, and pulls and resyncs against the host', async () => {
    const { host, runner, push } = numberHost();
    await push(1, 1); // nothing applied yet: the whole host
    await push(2, 2);
    await runner.apply({ driver: 'number', generation: 3, spec: { n: 3 } }); // a pull
    await runner.resync();
    expect(host.reads).toEqual(['whole host', 'since', 'whole host', 'whole host']);
    expect(host.n).toBe(3);
  });

  it('a push that fails against the last apply is planned again against the host', async () => {
    const { host, push } = numberHost();
    await push(1, 1);
    host.n = 7; // drift the last apply does not know of (the resync's to repair)
    await push(2, 1);
    expect(host.n).toBe(7);
    host.reads.length = 0;
    host.failures = 1;
    expect(await push(3, 5)).toMatchObject({ ok: true, changes: [['set', '5']] });
    expect(host.reads).toEqual(['since', 'whole host']);
    host.failures = 2;
    expect(await push(4, 6)).toMatchObject({ ok: false });
    // After a failed apply the host is unknown: the next push reads it whole.
    host.reads.length = 0;
    expect(await push(5, 6)).toMatchObject({ ok: true });
    expect(host.reads).toEqual(['whole host']);
  });
});
