import { execa } from 'execa';
import { CommandError, ExecaExecutor } from './executor.js';

describe('ExecaExecutor', () => {
  it('sends a planned kill itself, as kill(1) would, and fails as it does', async () => {
    const exec = new ExecaExecutor({ netns: 'qnet-none' }); // no namespace is entered for a signal
    const sleeper = execa('sleep', ['30'], { reject: false });
    await exec.run(['kill', '-HUP', String(sleeper.pid)]);
    expect((await sleeper).signal).toBe('SIGHUP');
    const gone = exec.run(['kill', '-TERM', String(sleeper.pid)]);
    await expect(gone).rejects.toBeInstanceOf(CommandError);
    await expect(gone).rejects.toThrow(/No such process/);
  });

  it('runs any other form of kill as a command', async () => {
    const exec = new ExecaExecutor();
    await expect(exec.run(['kill', '-0', String(process.pid)])).resolves.toBeDefined();
  });
});

describe('ExecaExecutor: commands started ahead', () => {
  const waiting = async () => {
    const r = await execa('pgrep', ['-P', String(process.pid), '-f', '^ip -batch -$'], {
      reject: false,
    });
    return String(r.stdout).split('\n').filter(Boolean);
  };
  const settle = () => new Promise((r) => setTimeout(r, 300));
  let exec: ExecaExecutor;
  beforeEach(() => {
    exec = new ExecaExecutor();
  });
  afterEach(() => exec.close());

  it('feeds each use to a fresh process started before it, and starts the next after', async () => {
    expect(await waiting()).toEqual([]);
    const first = await exec.run(['ip', '-batch', '-'], 'link show dev lo\n');
    expect(first.stdout).toMatch(/^1: lo:/);
    await settle();
    const [spare, ...more] = await waiting();
    expect(spare).toBeDefined();
    expect(more).toEqual([]);
    const second = await exec.run(['ip', '-batch', '-'], 'link show dev lo\n');
    expect(second.stdout).toBe(first.stdout);
    expect(await waiting()).not.toContain(spare); // it ran this use and exited
    await settle();
    const [next] = await waiting();
    expect(next).toBeDefined();
    expect(next).not.toBe(spare);
  });

  it('fails a use on its failing line, as a process started for it would', async () => {
    await exec.run(['ip', '-batch', '-'], 'link show dev lo\n');
    await settle();
    const failed = exec.run(['ip', '-batch', '-'], 'link show dev lo\nlink show dev qnet-none\n');
    await expect(failed).rejects.toBeInstanceOf(CommandError);
    await expect(failed).rejects.toThrow(
      /exit 1: .*"qnet-none" does not exist.*Command failed -:2/,
    );
  });

  it('does not keep its process running', async () => {
    const executor = new URL('../dist/executor.js', import.meta.url).href;
    const script = `import { ExecaExecutor } from ${JSON.stringify(executor)};
      await new ExecaExecutor().run(['ip', '-batch', '-'], 'link show dev lo\\n');
      setTimeout(() => console.log('done'), 300);`;
    const child = await execa('node', ['--input-type=module', '-e', script], { timeout: 5_000 });
    expect(child.stdout).toBe('done');
  });
});
