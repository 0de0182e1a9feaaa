import { execa, type ResultPromise } from 'execa';

/**
 * An `ip -batch` process kept open in the endpoint's namespace for the fast failover path: a line
 * written to it is applied at once, where starting a process costs 10–100 ms on a busy host —
 * most of a failover's time. `-force` keeps it going past a failing line; anything it says on
 * stderr is a line that failed, and `onError` has the host reconciled.
 */
export class RouteSwitch {
  private child?: ResultPromise;

  constructor(
    private readonly netns: string | undefined,
    private readonly onError: (message: string) => void,
  ) {}

  /** Starts the process ahead of the first failover, which must not wait for it. */
  open(): void {
    this.child ??= this.start();
  }

  /** Applies ip(8) batch lines (`route replace …`) now. */
  run(lines: string[]): void {
    this.open();
    this.child!.stdin!.write(`${lines.join('\n')}\n`);
  }

  stop(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }

  private start(): ResultPromise {
    const argv = ['ip', ...(this.netns ? ['-n', this.netns] : []), '-force', '-batch', '-'];
    const child = execa(argv[0]!, argv.slice(1), {
      reject: false,
      stdin: 'pipe',
      stdout: 'ignore',
      stderr: 'pipe',
      buffer: false,
    });
    child.stderr!.on('data', (d: Buffer) => this.onError(d.toString().trim()));
    void child.then(() => {
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    return child;
  }
}
