import type { DesiredState } from '@qnet/contracts';
import { DriverPushes } from './pushes.js';

/** A renderer that renders what it is asked for when the test lets it, counting its calls. */
function slowRenderer() {
  const calls: string[][] = [];
  const gates: (() => void)[] = [];
  let content = 'v1';
  const render = async (hostIds: readonly string[]) => {
    calls.push([...hostIds]);
    const seen = content;
    await new Promise<void>((r) => gates.push(r));
    return hostIds.map((h) => `${h}:${seen}`);
  };
  return {
    calls,
    render,
    release: () => gates.shift()?.(),
    set: (c: string) => (content = c),
  };
}

describe('DriverPushes', () => {
  it('renders hosts whose changes commit during a render once, together, at their newest generation', async () => {
    const r = slowRenderer();
    const sent: [string, DesiredState][] = [];
    const pushes = new DriverPushes('linux', r.render, (h, s) => sent.push([h, s]));
    const first = pushes.push('h1', 1);
    r.set('v2');
    const later = [pushes.push('h1', 2), pushes.push('h2', 5), pushes.push('h1', 3)];
    r.release();
    await first;
    await new Promise((res) => setImmediate(res));
    r.release();
    await Promise.all(later);
    expect(r.calls).toEqual([['h1'], ['h1', 'h2']]);
    expect(sent).toEqual([
      ['h1', { driver: 'linux', generation: 1, spec: 'h1:v1' }],
      ['h1', { driver: 'linux', generation: 3, spec: 'h1:v2' }],
      ['h2', { driver: 'linux', generation: 5, spec: 'h2:v2' }],
    ]);
  });

  it('a render that fails leaves the change to the next pull, and the next push renders again', async () => {
    let fail = true;
    const sent: string[] = [];
    const pushes = new DriverPushes(
      'linux',
      async (hostIds) => {
        if (fail) throw new Error('database away');
        return hostIds.map(() => ({}));
      },
      (h) => sent.push(h),
    );
    await pushes.push('h1', 1); // resolves: the change it follows is committed all the same
    expect(sent).toEqual([]);
    fail = false;
    await pushes.push('h1', 2);
    expect(sent).toEqual(['h1']);
  });
});
