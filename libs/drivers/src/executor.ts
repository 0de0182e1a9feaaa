import { execa } from 'execa';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    reason: string,
  ) {
    super(
      `${argv.join(' ')}: ${reason}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
    );
    this.name = 'CommandError';
  }
}

/**
 * Runs one command as an argument array — never through a shell. `read` commands only observe;
 * `run` commands change the host and are what dry-run mode records.
 */
export interface Executor {
  readonly mode: 'real' | 'dry-run';
  read(argv: readonly string[]): Promise<CommandResult>;
  run(argv: readonly string[], input?: string): Promise<CommandResult>;
}

export interface ExecaExecutorOptions {
  /** Run every command inside this network namespace (ip netns exec). */
  netns?: string;
  timeoutMs?: number;
}

export class ExecaExecutor implements Executor {
  readonly mode = 'real' as const;
  constructor(private readonly opts: ExecaExecutorOptions = {}) {}

  read(argv: readonly string[]): Promise<CommandResult> {
    return this.exec(argv);
  }

  run(argv: readonly string[], input?: string): Promise<CommandResult> {
    return this.exec(argv, input);
  }

  private async exec(argv: readonly string[], input?: string): Promise<CommandResult> {
    if (argv.length === 0) throw new Error('empty command');
    const signal = signalOf(argv);
    if (signal) return sendSignal(argv, signal);
    const full = this.opts.netns ? inNamespace(this.opts.netns, argv) : [...argv];
    const res = await execa(full[0]!, full.slice(1), {
      input,
      reject: false,
      timeout: this.opts.timeoutMs ?? 10_000,
      stripFinalNewline: false,
      // LOG_LEVEL (ours, for pino) would make wireguard-go's daemon keep our stdout open.
      env: { LC_ALL: 'C', LOG_LEVEL: undefined },
    });
    if (res.timedOut)
      throw new CommandError(
        argv,
        undefined,
        String(res.stderr ?? ''),
        `timed out after ${this.opts.timeoutMs ?? 10_000} ms`,
      );
    if (res.exitCode !== 0) {
      throw new CommandError(
        argv,
        res.exitCode,
        String(res.stderr ?? ''),
        res.failed && res.exitCode === undefined ? String(res.message) : `exit ${res.exitCode}`,
      );
    }
    return { stdout: String(res.stdout ?? ''), stderr: String(res.stderr ?? '') };
  }
}

const SIGNALS = new Set(['HUP', 'TERM']);

/** `kill -<SIG> <pid>` as the agent plans it (a daemon's reload or stop). */
function signalOf(argv: readonly string[]): { name: NodeJS.Signals; pid: number } | undefined {
  const [cmd, flag, pid, ...rest] = argv;
  if (cmd !== 'kill' || rest.length || !flag?.startsWith('-') || !/^[1-9]\d*$/.test(pid ?? ''))
    return undefined;
  const name = flag.slice(1);
  return SIGNALS.has(name) ? { name: `SIG${name}` as NodeJS.Signals, pid: Number(pid) } : undefined;
}

/**
 * Sent by the agent itself, as kill(1) would (a signal reaches a process in any namespace): one
 * process start fewer per DHCP change. Fails the same way kill(1) does.
 */
function sendSignal(
  argv: readonly string[],
  s: { name: NodeJS.Signals; pid: number },
): CommandResult {
  try {
    process.kill(s.pid, s.name);
    return { stdout: '', stderr: '' };
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'No such process' : String(err);
    throw new CommandError(argv, 1, `kill: (${s.pid}) - ${reason}`, 'exit 1');
  }
}

/**
 * ip(8) and bridge(8) switch namespaces themselves (`-n`): one process instead of two per command;
 * one that already names a namespace (a guest's) runs as it is, a named namespace being the same
 * from anywhere. kill(1) signals a process, whatever its namespace. Anything else goes through
 * `ip netns exec`.
 */
function inNamespace(netns: string, argv: readonly string[]): string[] {
  if (argv[0] === 'kill') return [...argv];
  if (argv[0] === 'ip' || argv[0] === 'bridge')
    return argv[1] === '-n' ? [...argv] : [argv[0], '-n', netns, ...argv.slice(1)];
  return ['ip', 'netns', 'exec', netns, ...argv];
}

/** Dry-run mode: records the argv of every change instead of executing it; reads answer empty. */
export class DryRunExecutor implements Executor {
  readonly mode = 'dry-run' as const;
  readonly recorded: string[][] = [];

  async read(): Promise<CommandResult> {
    return { stdout: '', stderr: '' };
  }

  async run(argv: readonly string[]): Promise<CommandResult> {
    this.recorded.push([...argv]);
    return { stdout: '', stderr: '' };
  }
}
