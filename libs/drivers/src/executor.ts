import { execa, type ResultPromise } from 'execa';

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
  /** Starts ahead a command a path must not wait for (where the executor does so). */
  startAhead?(argv: readonly string[]): void;
}

export interface ExecaExecutorOptions {
  /** Run every command inside this network namespace (ip netns exec). */
  netns?: string;
  timeoutMs?: number;
}

/**
 * Commands that take everything they do from stdin, for the host's own namespace: one is started
 * ahead of its use (a spare, waiting on its stdin), so that a change does not wait for a process
 * start — 10–100 ms on a busy host, most of an overlay change's time. Each use still gets a fresh
 * process: ip(8) and bridge(8) remember interface indexes by name, so a batch process kept open
 * would address a deleted and re-created device by its old index. A guest's namespace may be
 * replaced under the same name, so its commands are not started ahead.
 */
const STARTED_AHEAD = new Set(['ip -batch -', 'ip -force -batch -', 'bridge -batch -', 'nft -f -']);

/**
 * How long after a use its spare is started: past the change's next command and its report, which
 * follow within a millisecond or two; well before the next change, which back-to-back NIC attaches
 * bring tens of milliseconds later (at 50 ms, many found no spare: traced with
 * scripts/attach-timeline.mjs).
 */
const SPARE_DELAY_MS = 5;

type Child = ResultPromise<typeof EXECA_OPTIONS>;

const EXECA_OPTIONS = {
  reject: false,
  stdin: 'pipe',
  stripFinalNewline: false,
  // LOG_LEVEL (ours, for pino) would make wireguard-go's daemon keep our stdout open.
  env: { LC_ALL: 'C', LOG_LEVEL: undefined },
} as const;

export class ExecaExecutor implements Executor {
  readonly mode = 'real' as const;
  private readonly spares = new Map<string, Child>();
  private closed = false;

  constructor(private readonly opts: ExecaExecutorOptions = {}) {}

  read(argv: readonly string[]): Promise<CommandResult> {
    return this.exec(argv);
  }

  run(argv: readonly string[], input?: string): Promise<CommandResult> {
    return this.exec(argv, input);
  }

  /** Starts the spare of a command started ahead (a path that must not wait for its first use). */
  startAhead(argv: readonly string[]): void {
    const key = argv.join(' ');
    if (STARTED_AHEAD.has(key) && !this.closed && !this.spares.has(key))
      this.spares.set(key, this.spare(key, argv));
  }

  /** Ends the commands started ahead (each exits on its empty input); none is started after. */
  async close(): Promise<void> {
    this.closed = true;
    const spares = [...this.spares.values()];
    this.spares.clear();
    for (const child of spares) child.stdin?.end();
    await Promise.all(spares);
  }

  private async exec(argv: readonly string[], input?: string): Promise<CommandResult> {
    if (argv.length === 0) throw new Error('empty command');
    const signal = signalOf(argv);
    if (signal) return sendSignal(argv, signal);
    const key = argv.join(' ');
    const child = this.take(key) ?? this.start(argv);
    try {
      return await this.finish(argv, child, input);
    } finally {
      // Later, out of the way of the change's next commands and its report (a spawn blocks the
      // event loop for a few milliseconds).
      if (STARTED_AHEAD.has(key)) setTimeout(() => this.startAhead(argv), SPARE_DELAY_MS).unref();
    }
  }

  private start(argv: readonly string[]): Child {
    const full = this.opts.netns ? inNamespace(this.opts.netns, argv) : [...argv];
    return execa(full[0]!, full.slice(1), EXECA_OPTIONS);
  }

  /** A spare that exits before its use (its namespace gone, say) is dropped, not used. */
  private spare(key: string, argv: readonly string[]): Child {
    const child = this.start(argv);
    hold(child, false);
    void child.then(() => {
      if (this.spares.get(key) === child) this.spares.delete(key);
    });
    return child;
  }

  private take(key: string): Child | undefined {
    const child = this.spares.get(key);
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    this.spares.delete(key);
    hold(child, true);
    return child;
  }

  private async finish(
    argv: readonly string[],
    child: Child,
    input: string | undefined,
  ): Promise<CommandResult> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdin?.on('error', () => undefined); // a command that exits without reading its input
    child.stdin?.end(input);
    const res = await child;
    clearTimeout(timer);
    if (timedOut)
      throw new CommandError(
        argv,
        undefined,
        String(res.stderr ?? ''),
        `timed out after ${timeoutMs} ms`,
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

/** A spare must not keep the agent running: its process and pipes are referenced only in use. */
function hold(child: Child, held: boolean): void {
  type Handle = { ref?(): void; unref?(): void } | null | undefined;
  for (const h of [child, child.stdin, child.stdout, child.stderr] as Handle[])
    if (held) h?.ref?.();
    else h?.unref?.();
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
