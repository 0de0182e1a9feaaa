import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CommandError, ExecaExecutor } from './executor.js';

describe('ExecaExecutor', () => {
  it('sends a planned kill itself, as kill(1) would, and fails as it does', async () => {
    const exec = new ExecaExecutor({ netns: 'qnet-none' }); // no namespace is entered for a signal
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = once(sleeper, 'exit');
    await exec.run(['kill', '-HUP', String(sleeper.pid)]);
    expect((await exited)[1]).toBe('SIGHUP');
    const gone = exec.run(['kill', '-TERM', String(sleeper.pid)]);
    await expect(gone).rejects.toBeInstanceOf(CommandError);
    await expect(gone).rejects.toThrow(/No such process/);
  });

  it('runs any other form of kill as a command', async () => {
    const exec = new ExecaExecutor();
    await expect(exec.run(['kill', '-0', String(process.pid)])).resolves.toBeDefined();
  });
});
