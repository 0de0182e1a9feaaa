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
